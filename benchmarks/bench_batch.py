"""Batch speed: 1 worker vs 2 workers, and the batch machinery's overhead vs plain ``analyze``.

Makes 4 clips from the shared clip that differ in content (each gets its own MP4 ``free``
box, so each has its own hash and its pose is really extracted) and times, each with an empty
pose cache:

1. plain: ``gaitcheck analyze`` once per clip, one after the other (what a coach does today);
2. ``gaitcheck batch --workers 1`` over the 4 clips;
3. ``gaitcheck batch --workers 2`` over the 4 clips.

Prints the speed-up (2) / (3) (target >= 1.8 on 2 free cores) and the per-video overhead
(2) / (1) - 1 (target <= 5%), in wall time and in CPU time (all worker processes included;
other load on the machine barely changes it). Run: ``python benchmarks/bench_batch.py
[--full]`` (``--full`` also draws the overlay videos and plots; slower). Needs
``../shared/videos``.
"""

from __future__ import annotations

import argparse
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO.parent / "shared" / "videos" / "side_treadmill_01.mp4"
N_CLIPS = 4


def make_clips(folder: Path) -> list[Path]:
    """Copies of the shared clip, each with a distinct trailing ``free`` box (valid MP4)."""
    data = CLIP.read_bytes()
    paths = []
    for i in range(N_CLIPS):
        payload = f"gaitcheck bench clip {i}".encode()
        box = struct.pack(">I", 8 + len(payload)) + b"free" + payload
        path = folder / f"athlete{i}" / f"run{i}.mp4"
        path.parent.mkdir(parents=True)
        path.write_bytes(data + box)
        paths.append(path)
    return paths


CPU_S: dict[str, float] = {}


def timed(argv: list[str], cache: Path, label: str) -> float:
    """Wall time of one command; its CPU time (with all its worker processes) is added to
    ``CPU_S[label]``, a measure that other load on the machine barely changes."""
    env = {**os.environ, "GAITCHECK_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    CPU_S[label] = CPU_S.get(label, 0.0) + cpu
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also overlays and plots")
    args = parser.parse_args()
    if not CLIP.is_file():
        print(f"bench_batch: {CLIP} is missing.", file=sys.stderr)
        return 1
    extra = [] if args.full else ["--no-overlay", "--no-plots"]
    load_start = os.getloadavg()[0]
    gc = [sys.executable, "-m", "gaitcheck.cli"]
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        root = Path(tmp)
        clips = make_clips(root / "clips")
        plain = sum(timed([*gc, "analyze", str(c), "-o", str(root / "plain" / c.stem), "-q",
                           *extra], root / "cache-plain", "plain") for c in clips)
        one = timed([*gc, "batch", str(root / "clips"), "-o", str(root / "rep1"), "--data-dir",
                     str(root / "data1"), "--workers", "1", "-q", *extra], root / "cache-1", "one")
        two = timed([*gc, "batch", str(root / "clips"), "-o", str(root / "rep2"), "--data-dir",
                     str(root / "data2"), "--workers", "2", "-q", *extra], root / "cache-2", "two")
    load_end = os.getloadavg()[0]
    print(f"{N_CLIPS} clips of {CLIP.name} ({'full outputs' if args.full else 'no overlay/plots'}"
          f"), {os.cpu_count()} cores, load average {load_start:.1f} before, {load_end:.1f} "
          "after")
    if max(load_start, load_end) > 0.5 * (os.cpu_count() or 1):
        print("warning: other processes were using the cores; the speed-up and overhead "
              "below are not representative (run again on an idle machine)")
    print(f"plain analyze, one after the other: {plain:7.1f} s ({plain / N_CLIPS:.1f} s/video)")
    print(f"batch, 1 worker:                     {one:7.1f} s ({one / N_CLIPS:.1f} s/video)")
    print(f"batch, 2 workers:                    {two:7.1f} s ({two / N_CLIPS:.1f} s/video)")
    print(f"speed-up 2 workers vs 1: {one / two:.2f}x (target >= 1.8x on 2 free cores)")
    print(f"batch overhead per video vs plain analyze: {100 * (one / plain - 1):+.1f}% wall, "
          f"{100 * (CPU_S['one'] / CPU_S['plain'] - 1):+.1f}% CPU time (target <= 5%)")
    print(f"CPU time: plain {CPU_S['plain']:.1f} s, 1 worker {CPU_S['one']:.1f} s, "
          f"2 workers {CPU_S['two']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
