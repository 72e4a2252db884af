"""Speed of the numeric core against pose extraction, measured in one run.

Generates a 10-minute, 60 fps synthetic pose series (36,000 frames), times
``analyze_pose`` on it, times MediaPipe pose inference on a short stretch of real decoded frames,
and prints how long the core takes compared with extracting the pose of the same 10 minutes.

Usage: python benchmarks/bench_core.py [VIDEO]   (default: ../shared/videos/side_treadmill_01.mp4)
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from gaitcheck.analysis import analyze_pose
from gaitcheck.synthetic import RunnerParams, generate

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VIDEO = REPO.parent / "shared" / "videos" / "side_treadmill_01.mp4"
DURATION_S = 600.0
FPS = 60.0


def time_core() -> tuple[float, int, float]:
    """Seconds to analyse a 10-minute 60 fps series, its frame count, peak MiB allocated."""
    series = generate(RunnerParams(view="side-left", fps=FPS, duration_s=DURATION_S,
                                   noise_px=1.5, seed=1)).series
    analyze_pose(series.slice(0, 600))  # warm-up: imports, first-call costs
    # Timed without tracemalloc (which slows every allocation about twofold); best of two
    # runs, since other jobs on a shared machine only ever add time.
    elapsed = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        result = analyze_pose(series)
        elapsed = min(elapsed, time.perf_counter() - t0)
    tracemalloc.start()
    analyze_pose(series)
    peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    assert result.metrics["cadence_spm"]["n_steps"] > 1000
    return elapsed, series.n_frames, peak_mib


def pose_fps(video: Path, n_frames: int = 90) -> float:
    """MediaPipe inference frames per second on real decoded frames (model only)."""
    import mediapipe as mp

    from gaitcheck.config import PoseConfig
    from gaitcheck.models import resolve_model
    from gaitcheck.pose import create_landmarker, quiet_native_stderr
    from gaitcheck.video import iter_frames

    frames = [f.rgb for _, f in zip(range(n_frames), iter_frames(video), strict=False)]
    model = resolve_model("full", download=False)
    with quiet_native_stderr(), create_landmarker(model.path, PoseConfig()) as lm:
        lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=frames[0]), 0)
        t0 = time.perf_counter()
        for i, rgb in enumerate(frames[1:], start=1):
            lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), i * 17)
        return (len(frames) - 1) / (time.perf_counter() - t0)


def main() -> int:
    video = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_VIDEO
    core_s, n, peak_mib = time_core()
    print(f"core: analyze_pose on {n} frames ({DURATION_S / 60:.0f} min at {FPS:.0f} fps): "
          f"{core_s:.2f} s ({n / core_s:,.0f} frames/s), peak {peak_mib:.0f} MiB allocated; "
          f"issue 12 target <= 1 s: {core_s:.2f}x the target")
    if not video.is_file():
        print(f"pose: {video} not found; pass a video to compare with pose extraction")
        return 0
    fps = pose_fps(video)
    pose_s = n / fps
    print(f"pose: MediaPipe full model {fps:.1f} frames/s -> {pose_s:.0f} s for the same frames")
    print(f"ratio core / pose extraction: {core_s / pose_s:.4f} "
          f"({100 * core_s / pose_s:.2f} % of pose time)")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
