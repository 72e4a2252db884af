"""Does bounding the model input's long side change landmarks or contacts? (issue 12)

Usage: ``python benchmarks/check_model_size.py CLIP_1080P60 [STRIKES_JSON] [--sizes 960 1280
1920]``

Runs the pose model on a 1080x1920 clip (make one as ``bench_pipeline.py`` does) with each
``max_side_px`` of ``--sizes`` (default 960, 1280 and 1920, the last full size), prints each
size's landmark differences from full size, the analyses' metrics, and the initial-contact error
of each against the hand-marked strikes of the shared side clip (the 1080p60 clip is that clip
upscaled and interpolated, same times).
"""

from __future__ import annotations

import argparse
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("strikes", type=Path, nargs="?", default=STRIKES)
    parser.add_argument("--sizes", type=int, nargs="+", default=[960, 1280, 1920])
    args = parser.parse_args()
    clip, strikes = args.clip, args.strikes
    gt = json.loads(strikes.read_text())
    marks = {s: np.array([m["frame"] / gt["fps"] for m in gt["strikes"] if m["side"] == s])
             for s in ("left", "right")}
    series = {side: extract_pose(clip, PoseConfig(max_side_px=side), progress=False, cache=False)
              for side in args.sizes}
    full = max(args.sizes)
    b = series[full]
    for side, a in series.items():
        if side == full:
            continue
        both = a.has_pose & b.has_pose
        d = np.linalg.norm(a.xy_px[both] - b.xy_px[both], axis=-1)
        print(f"landmark difference {side} vs {full} (px of the {full} frame): median "
              f"{np.median(d):.2f}, p95 {np.percentile(d, 95):.2f}")
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
