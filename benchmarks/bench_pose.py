"""End-to-end ``gaitcheck pose`` speed versus MediaPipe inference alone, in one run.

Usage: ``python benchmarks/bench_pose.py [VIDEO] [--segment-frames N]``

1. End to end: ``gaitcheck pose VIDEO -o TMP --no-cache`` in-process (probe, hashing, decode,
   model, saving npz/csv), timed with a wall clock.
2. Inference alone: the first N frames are decoded into memory first, then only
   ``detect_for_video`` is timed on them with the same model and settings.

The ratio inference-fps / end-to-end-fps is the pipeline overhead (1.0 = none).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared" / "videos" / "side_treadmill_01.mp4"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--segment-frames", type=int, default=120)
    args = ap.parse_args()
    if not args.video.is_file():
        print(f"bench_pose: {args.video} not found", file=sys.stderr)
        return 2

    import mediapipe as mp

    from gaitcheck.cli import main as cli_main
    from gaitcheck.config import PoseConfig
    from gaitcheck.models import resolve_model
    from gaitcheck.pose import create_landmarker, quiet_native_stderr
    from gaitcheck.video import iter_frames, probe

    info = probe(args.video)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GAITCHECK_CACHE_DIR"] = str(Path(tmp) / "cache")  # never reuse a result
        t0 = time.perf_counter()
        rc = cli_main(["pose", str(args.video), "-o", str(Path(tmp) / "out"), "--no-cache",
                       "-q"])
        e2e_s = time.perf_counter() - t0
    if rc:
        return rc
    n_e2e = info.n_frames

    cfg = PoseConfig()
    frames = []
    for f in iter_frames(args.video, max_side_px=cfg.max_side_px, info=info):
        frames.append(f.rgb)
        if len(frames) >= args.segment_frames:
            break
    model = resolve_model(cfg.model)
    with quiet_native_stderr(), create_landmarker(model.path, cfg) as lmk:
        images = [mp.Image(image_format=mp.ImageFormat.SRGB, data=f) for f in frames]
        t0 = time.perf_counter()
        for i, img in enumerate(images):
            lmk.detect_for_video(img, i * 33)
        infer_s = time.perf_counter() - t0

    e2e_fps = n_e2e / e2e_s
    infer_fps = len(frames) / infer_s
    print(f"video: {args.video.name}, {n_e2e} frames, {info.width_px}x{info.height_px}")
    print(f"end-to-end gaitcheck pose : {e2e_fps:6.1f} frames/s ({e2e_s:.2f} s)")
    print(f"MediaPipe inference alone : {infer_fps:6.1f} frames/s "
          f"({len(frames)} pre-decoded frames)")
    print(f"overhead ratio (inference fps / end-to-end fps): {infer_fps / e2e_fps:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
