"""Does bounding the model input to a 1280 px long side change landmarks or contacts? (issue 12)

Usage: ``python benchmarks/check_model_size.py CLIP_1080P60 [STRIKES_JSON]``

Runs the pose model on a 1080x1920 clip (make one as ``bench_pipeline.py`` does) with
``max_side_px`` 1280 (the default) and 1920 (full size), prints the landmark differences, both
analyses' metrics, and the initial-contact error of each against the hand-marked strikes of the
shared side clip (the 1080p60 clip is that clip upscaled and interpolated, same times).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from gaitcheck.analysis import analyze_pose
from gaitcheck.config import PoseConfig
from gaitcheck.pose import extract_pose

REPO = Path(__file__).resolve().parents[1]
STRIKES = REPO.parent / "shared" / "videos" / "side_treadmill_01.strikes.json"


def main() -> int:
    clip = Path(sys.argv[1])
    strikes = Path(sys.argv[2]) if len(sys.argv) > 2 else STRIKES
    gt = json.loads(strikes.read_text())
    marks = {s: np.array([m["frame"] / gt["fps"] for m in gt["strikes"] if m["side"] == s])
             for s in ("left", "right")}
    series = {side: extract_pose(clip, PoseConfig(max_side_px=side), progress=False, cache=False)
              for side in (1280, 1920)}
    a, b = series[1280], series[1920]
    both = a.has_pose & b.has_pose
    d = np.linalg.norm(a.xy_px[both] - b.xy_px[both], axis=-1)
    print(f"landmark difference 1280 vs 1920 (px of the 1920 frame): median {np.median(d):.2f}, "
          f"p95 {np.percentile(d, 95):.2f}")
    for side, s in series.items():
        r = analyze_pose(s)
        errs = []
        for foot in ("left", "right"):
            ic = np.array([e["time_s"] for e in r.data["events"]
                           if e["kind"] == "initial_contact" and e["foot"] == foot])
            errs += [(ic[np.argmin(np.abs(ic - t))] - t) * 1000 for t in marks[foot] if ic.size]
        e = np.abs(np.array(errs))
        values = {k: m.get("value") for k, m in r.metrics.items()}
        print(f"max_side_px {side}: IC vs hand marks ({e.size}): median |err| {np.median(e):.1f} "
              f"ms, max {e.max():.1f} ms; metrics {values}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
