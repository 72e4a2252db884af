"""Whole-pipeline speed and memory on a 1080x1920 60 fps clip, all ratios from one run (issue 12).

Usage: ``python benchmarks/bench_pipeline.py [VIDEO] [--long-s 180] [--short-s 20]
[--no-memory]``

The test clip is made from the shared 720x1280 30 fps clip in a temporary folder: upscaled to
1080x1920 and brought to 60 fps by FFmpeg's ``framerate`` filter (a blended frame between each
pair, so no frame repeats and the runner keeps real speed), libx264, same duration. Stages,
each timed with a wall clock:

1. MediaPipe inference alone, one stream: the first ``--infer-frames`` full-size frames are
   decoded into memory first, then only ``detect_for_video`` is timed (the reference, 1.00).
2. The naive peer loop: ``cv2.VideoCapture.read`` -> RGB -> ``detect_for_video``, whole clip.
3. ``gaitcheck pose CLIP --no-cache`` in-process (probe, hashing, decode, model, npz/csv), as
   a user runs it: its fixed tracking segments side by side on all cores
   (``gaitcheck.segments``); then the same with ``--pose-workers 1`` (one segment at a time,
   identical landmarks) for comparison.
4. ``gaitcheck analyze CLIP --no-cache`` in-process (everything, overlay and plots included).
5. Peak RSS of ``gaitcheck analyze --no-cache`` in a fresh process on a ``--short-s`` and a
   ``--long-s`` clip (the test clip looped), read from the child's own ``wait4`` rusage.

Targets (issue 12, 2 cores): pose >= 1.15x inference alone, analyze >= 0.80x inference alone
and >= 1.0x real time, peak RSS long <= 1.2x short and <= 1 GiB. The machine is shared, so only
the ratios within one run mean anything; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared" / "videos" / "side_treadmill_01.mp4"
TARGETS = {"pose": 1.15, "analyze": 0.80, "realtime": 1.0, "rss_ratio": 1.2, "rss_mib": 1024.0}


def ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def make_clip_1080p60(src: Path, dst: Path) -> None:
    """``src`` upscaled to 1080x1920 and interpolated to 60 fps (H.264, yuv420p)."""
    subprocess.run(
        [ffmpeg(), "-v", "error", "-y", "-i", str(src), "-vf",
         "scale=1080:1920:flags=bicubic,framerate=fps=60", "-r", "60", "-c:v", "libx264",
         "-preset", "veryfast",
         "-crf", "20", "-g", "60", "-pix_fmt", "yuv420p", "-an", str(dst)],
        check=True,
    )


def loop_clip(src: Path, dst: Path, seconds: float) -> None:
    """``src`` repeated (stream copy) until it lasts ``seconds``."""
    subprocess.run(
        [ffmpeg(), "-v", "error", "-y", "-stream_loop", "-1", "-i", str(src), "-t",
         f"{seconds:.3f}", "-c", "copy", str(dst)],
        check=True,
    )


def inference_alone_fps(clip: Path, n_frames: int) -> float:
    """Frames/s of ``detect_for_video`` alone on pre-decoded full-size frames, one stream."""
    import cv2
    import mediapipe as mp

    from gaitcheck.config import PoseConfig
    from gaitcheck.models import resolve_model
    from gaitcheck.pose import create_landmarker, quiet_native_stderr

    cap = cv2.VideoCapture(str(clip))
    images = []
    while len(images) < n_frames:
        ok, bgr = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        images.append(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
    cap.release()
    cfg = PoseConfig()
    model = resolve_model(cfg.model)
    with quiet_native_stderr(), create_landmarker(model.path, cfg) as lmk:
        lmk.detect_for_video(images[0], 0)  # first call: graph start-up, not per-frame cost
        t0 = time.perf_counter()
        for i, img in enumerate(images[1:], start=1):
            lmk.detect_for_video(img, i * 17)
        return (len(images) - 1) / (time.perf_counter() - t0)


def naive_loop_fps(clip: Path) -> tuple[float, int]:
    """Frames/s of the simplest peer loop over the whole clip: read, RGB, detect."""
    import cv2
    import mediapipe as mp

    from gaitcheck.config import PoseConfig
    from gaitcheck.models import resolve_model
    from gaitcheck.pose import create_landmarker, quiet_native_stderr

    cfg = PoseConfig()
    model = resolve_model(cfg.model)
    n = 0
    with quiet_native_stderr(), create_landmarker(model.path, cfg) as lmk:
        t0 = time.perf_counter()
        cap = cv2.VideoCapture(str(clip))
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            lmk.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), n * 17)
            n += 1
        cap.release()
        return n / (time.perf_counter() - t0), n


def cli_seconds(argv: list[str]) -> float:
    from gaitcheck.cli import main as cli_main

    t0 = time.perf_counter()
    rc = cli_main(argv)
    elapsed = time.perf_counter() - t0
    if rc:
        raise SystemExit(f"bench_pipeline: gaitcheck {argv[0]} failed with exit code {rc}")
    return elapsed


def peak_rss_mib(clip: Path, out: Path, cache: Path) -> tuple[float, float]:
    """Peak RSS (MiB) and wall seconds of ``gaitcheck analyze --no-cache`` in a fresh process."""
    env = {**os.environ, "GAITCHECK_CACHE_DIR": str(cache),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from gaitcheck.cli import main; sys.exit(main())",
         "analyze", str(clip), "-o", str(out), "--no-cache", "-q"],
        env=env, stdout=subprocess.DEVNULL,
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"bench_pipeline: analyze of {clip.name} failed ({proc.returncode})")
    return usage.ru_maxrss / 1024.0, elapsed  # ru_maxrss is KiB on Linux


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--infer-frames", type=int, default=90)
    ap.add_argument("--short-s", type=float, default=20.0)
    ap.add_argument("--long-s", type=float, default=180.0)
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-RSS runs")
    ap.add_argument("--memory-only", action="store_true", help="only the peak-RSS runs")
    args = ap.parse_args()
    if not args.video.is_file():
        print(f"bench_pipeline: {args.video} not found", file=sys.stderr)
        return 2
    from gaitcheck.video import probe

    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["GAITCHECK_CACHE_DIR"] = str(tmp / "cache")  # never reuse a result
        clip = tmp / "clip_1080p60.mp4"
        make_clip_1080p60(args.video, clip)
        info = probe(clip)
        n = info.n_frames
        print(f"clip: {info.width_px}x{info.height_px} {info.nominal_fps:.0f} fps, {n} frames, "
              f"{info.duration_s:.2f} s (from {args.video.name}); {os.cpu_count()} cores, "
              f"load average (1 min) at start {load_start[0]:.1f}", flush=True)
        if args.memory_only:
            return memory(args, clip, tmp)
        infer = inference_alone_fps(clip, args.infer_frames)
        print(f"| {'stage':<66} | frames/s | vs inference |")
        print(f"|{'-' * 68}|----------|--------------|")

        def row(name: str, fps: float) -> None:
            print(f"| {name:<66} | {fps:8.1f} | {fps / infer:12.2f} |", flush=True)

        row("MediaPipe inference alone, pre-decoded full-size frames, one stream", infer)
        naive, _n_naive = naive_loop_fps(clip)
        row("naive peer loop (cv2 read -> RGB -> detect)", naive)
        pose_s = cli_seconds(["pose", str(clip), "-o", str(tmp / "pose"), "--no-cache", "-q"])
        row("gaitcheck pose --no-cache (segments on all cores, the default)", n / pose_s)
        one_s = cli_seconds(["pose", str(clip), "-o", str(tmp / "pose_one"), "--no-cache", "-q",
                             "--pose-workers", "1"])
        row("gaitcheck pose --no-cache --pose-workers 1 (one segment at a time)", n / one_s)
        analyze_s = cli_seconds(["analyze", str(clip), "-o", str(tmp / "analyze"),
                                 "--no-cache", "-q"])
        row("gaitcheck analyze --no-cache (everything, overlay included)", n / analyze_s)
        realtime = info.duration_s / analyze_s
        print(f"analyze vs real time: {realtime:.2f}x (target >= {TARGETS['realtime']:.2f}); "
              f"pose vs inference {n / pose_s / infer:.2f}x (target >= {TARGETS['pose']:.2f}); "
              f"analyze vs inference {n / analyze_s / infer:.2f}x "
              f"(target >= {TARGETS['analyze']:.2f}); load average (1 min) now "
              f"{os.getloadavg()[0]:.1f}", flush=True)
        if args.no_memory:
            return 0
        return memory(args, clip, tmp)


def memory(args: argparse.Namespace, clip: Path, tmp: Path) -> int:
    """Peak RSS of analyze on a short and a long loop of ``clip``; prints both and the ratio."""
    rss: dict[str, tuple[float, float]] = {}
    for name, secs in (("short", args.short_s), ("long", args.long_s)):
        looped = tmp / f"clip_{name}.mp4"
        loop_clip(clip, looped, secs)
        rss[name] = peak_rss_mib(looped, tmp / f"rss_{name}", tmp / "cache")
        looped.unlink()
        print(f"peak RSS analyze {secs:.0f} s clip: {rss[name][0]:.0f} MiB "
              f"({rss[name][1]:.0f} s wall)", flush=True)
    (short_mib, _), (long_mib, _) = rss["short"], rss["long"]
    print(f"peak RSS ratio {args.long_s:.0f} s / {args.short_s:.0f} s: {long_mib / short_mib:.2f} "
          f"(target <= {TARGETS['rss_ratio']:.1f}, and <= {TARGETS['rss_mib']:.0f} MiB); "
          f"load average (1 min) at end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
