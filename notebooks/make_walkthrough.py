"""Write ``walkthrough.ipynb`` (run: ``python notebooks/make_walkthrough.py [--execute]``).

The notebook is generated so its cells stay short and reviewable as Python; edit this script,
not the ``.ipynb``. With ``--execute`` it is run in a fresh kernel (on the sample clip
``videos/side_treadmill_01.mp4``) and saved with its outputs, so it reads well on a code host;
``tests/test_notebook.py`` executes it too, on the clip and on the bundled demo series.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS: list[tuple[str, str]] = [
    ("md", """# gaitcheck walkthrough: from a phone video to gait metrics

This notebook runs gaitcheck's steps one at a time on a real treadmill clip filmed from the
side (the sample clip `videos/side_treadmill_01.mp4`; without it, the bundled pose series of the
same clip), so you can see what each step contributes:

1. **landmarks**: MediaPipe finds 33 body points in every frame (cached after the first run);
2. **cleaning**: left/right mix-ups are undone, outliers dropped, short gaps filled, noise
   filtered;
3. **view**: is the camera beside, behind or in front of the runner?
4. **events**: when does each foot land (initial contact) and push off (toe-off)?
5. **metrics**: the public API `analyze_pose` does all of the above and summarises each step;
6. **plots**: joint angles averaged over the stride cycle.

Signs and zero angles are defined in `docs/conventions.md`."""),
    ("code", """import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import gaitcheck
from gaitcheck.config import Config

# The clip: $GAITCHECK_VIDEO, else the sample clip shipped in videos/. GAITCHECK_VIDEO=demo (or
# no clip at all) uses the bundled pose series of the same run instead: no video decoding.
DEMO = Path(gaitcheck.__file__).parent / "data" / "demo_side_treadmill.npz"
choice = os.environ.get("GAITCHECK_VIDEO", "")
candidates = [Path(choice)] if choice and choice != "demo" else [
    Path("../videos/side_treadmill_01.mp4"), Path("../../shared/videos/side_treadmill_01.mp4")]
VIDEO = None if choice == "demo" else next((p for p in candidates if p.is_file()), None)
cfg = Config()
print("gaitcheck", gaitcheck.__version__, "| source:",
      VIDEO.name if VIDEO else "bundled demo pose series (no video)")"""),
    ("md", """## 1. Landmarks

`load_or_extract` runs the pose model over every frame, or loads the result from the cache
(`$GAITCHECK_CACHE_DIR`) when this clip was processed before with the same settings. The
result is a `PoseSeries`: pixel coordinates per frame and landmark, with the container's
timestamps. Without a video, the bundled series is loaded instead."""),
    ("code", """from gaitcheck.series import PoseSeries

if VIDEO is not None:
    from gaitcheck.pose import load_or_extract  # imports MediaPipe

    series = load_or_extract(VIDEO, cfg, progress=False)
else:
    series = PoseSeries.load(DEMO)
series.summary()"""),
    ("md", """## 2. Cleaning

The pose model sometimes swaps the left and right leg for a frame or two, loses a landmark, or
jitters. `clean_series` repairs swaps, rejects outliers, fills short gaps and low-pass filters
the tracks. Below: the height of the left ankle before and after cleaning over three seconds
(the axis is flipped so up is up; the low, flat stretches are the foot on the belt)."""),
    ("code", """from gaitcheck.clean import clean_series
from gaitcheck.landmarks import LEFT_ANKLE

cleaned = clean_series(series, cfg.clean)
print(f"swaps repaired: {cleaned.swap_frames_repaired}, outliers removed: "
      f"{cleaned.outliers_removed}, gap frames filled: {cleaned.gap_frames_filled}")

t = series.time_s
first = t < t[0] + 3.0
fig, ax = plt.subplots(figsize=(8, 2.6))
ax.plot(t[first], series.xy_px[first, LEFT_ANKLE, 1], ".", ms=3, color="0.6", label="raw")
ax.plot(t[first], cleaned.xy_px[first, LEFT_ANKLE, 1], color="#1f6fb4", label="cleaned")
ax.invert_yaxis()
ax.set(xlabel="time (s)", ylabel="left ankle y (px)")
ax.legend(loc="upper right");"""),
    ("md", """## 3. Camera view

Side views carry sagittal metrics (overstride, knee and shank angles); rear and front views
carry frontal ones (pelvic drop, hip adduction, step width). The runner here faces image-left,
so the expected label is `side-left`."""),
    ("code", """from gaitcheck.view import detect_view

view = detect_view(cleaned.xy_px, cleaned.visibility)
print(f"view: {view.label} (confidence {view.confidence:.2f}), facing {view.facing:+d}")"""),
    ("md", """## 4. Gait events

For a side view an initial contact is the moment the landing foot stops moving forward over
the ground (on a treadmill: its most forward point in the image), and toe-off is the knee's
extension peak late in stance."""),
    ("code", """from gaitcheck.events import detect_side_events

events = detect_side_events(cleaned.xy_px, series.time_s, view.facing, cfg.events)
for foot in ("left", "right"):
    ics = events.ic_time_s[foot]
    print(f"{foot:>5}: {ics.size} contacts, first at "
          + ", ".join(f"{x:.2f}" for x in ics[:4]) + " s")"""),
    ("md", """## 5. Metrics through the public API

`analyze_pose` repeats steps 2-4 and then measures every step and summarises each metric with
its spread, left/right values and a confidence level. `to_dict()` gives exactly what
`gaitcheck analyze` writes to `analysis.json`."""),
    ("code", """from gaitcheck.analysis import analyze_pose

analysis = analyze_pose(series, cfg)
result = analysis.to_dict()


def fmt(x):
    return "-" if x is None else f"{x:.1f}"


print(f"{'metric':<30}{'value':>8}{'sd':>7}{'left':>8}{'right':>8}  confidence")
for name, m in result["metrics"].items():
    print(f"{name:<30}{fmt(m['value']):>8}{fmt(m.get('sd')):>7}{fmt(m.get('left')):>8}"
          f"{fmt(m.get('right')):>8}  {m['confidence']['level']}")"""),
    ("md", """Each step is one row of `steps.csv`; the first few:"""),
    ("code", """cols = ["foot", "ic_time_s", "contact_time_ms", "overstride_pct_leg",
        "knee_flexion_ic_deg", "foot_strike"]
print("  ".join(f"{c:>19}" for c in cols))
for row in analysis.steps[:6]:
    print("  ".join(f"{row[c]:>19.3f}" if isinstance(row[c], float) else f"{row[c]!s:>19}"
                    for c in cols))"""),
    ("md", """## 6. Stride-cycle curves

Each cycle runs from one contact of a foot to its next contact, stretched to 0-100 %. The
line is the mean over cycles, the band one standard deviation; the dashed line marks the mean
toe-off, which separates stance (left of it) from swing."""),
    ("code", """from gaitcheck.plots import SIDE_COLORS

curves = analysis.cycles
fig, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.2), squeeze=False)
for ax, (name, curve) in zip(axes[0], curves.items(), strict=True):
    pct = np.asarray(curve["percent"], dtype=float)
    for side in ("left", "right"):
        block = curve.get(side)
        if not block or not block.get("mean"):
            continue
        mean = np.array(block["mean"], dtype=float)
        sd = np.array(block["sd"], dtype=float)
        colour = SIDE_COLORS[side]
        ax.plot(pct, mean, color=colour, label=f"{side} (n={block['n_cycles']})")
        ax.fill_between(pct, mean - sd, mean + sd, color=colour, alpha=0.2, lw=0)
        if block.get("toe_off_pct") is not None:
            ax.axvline(block["toe_off_pct"], color=colour, ls="--", lw=1)
    ax.set(title=name, xlabel="% of stride cycle", ylabel=curve["unit"])
    ax.legend(fontsize=8)
fig.tight_layout()"""),
    ("md", """## 7. One frame of the annotated video

`gaitcheck.overlay.write_overlay` draws the skeleton, the joint angles, the hip-midpoint
vertical and each foot strike onto every frame of the clip. Here is a single frame drawn the
same way: the last left-foot contact with its overstride line from the hip vertical to the
heel."""),
    ("code", """from gaitcheck.overlay import OverlayPainter
from gaitcheck.video import read_frames

drawn = series.with_arrays(xy_px=cleaned.raw_xy_px, visibility=cleaned.visibility)
left_ics = [e["frame"] for e in result["events"]
            if e["foot"] == "left" and e["kind"] == "initial_contact"]
frame = left_ics[len(left_ics) // 2]
if VIDEO is not None:
    (image,) = read_frames(VIDEO, [frame])
else:  # no video: draw on a plain background of the clip's size
    width, height = series.frame_size
    image = np.full((height, width, 3), 235, np.uint8)
painter = OverlayPainter(drawn, result, (image.shape[1], image.shape[0]))
fig, ax = plt.subplots(figsize=(4, 7))
ax.imshow(painter.paint(image, frame))
ax.set_axis_off()
ax.set_title(f"frame {frame}");"""),
]


def build() -> nbformat.NotebookNode:
    """The walkthrough notebook (no outputs)."""
    cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src)
             for kind, src in CELLS]
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i:02d}"  # stable ids: regenerating gives no diff noise
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def execute(nb: nbformat.NotebookNode, timeout_s: int = 900) -> nbformat.NotebookNode:
    """Run ``nb`` in a fresh kernel with the notebook folder as working directory."""
    import nbclient

    nbclient.NotebookClient(nb, timeout=timeout_s, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(__file__).parent)}}
                            ).execute()
    for cell in nb.cells:  # no per-run metadata: a rerun gives no diff noise
        cell.metadata.pop("execution", None)
    return nb


def main(run: bool = False) -> Path:
    """Write ``walkthrough.ipynb`` next to this script (executed, with outputs, when ``run``)."""
    path = Path(__file__).with_name("walkthrough.ipynb")
    nb = build()
    if run:
        nb = execute(nb)
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb) + "\n")
    return path


if __name__ == "__main__":
    import sys

    print(main(run="--execute" in sys.argv[1:]))
