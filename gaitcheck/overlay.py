"""Annotated video: the source frames with the skeleton, joint angles, foot strikes and cadence.

:func:`write_overlay` decodes the source through :mod:`gaitcheck.video`, draws on every frame
with Pillow and encodes through :class:`gaitcheck.video.VideoWriter` (H.264, yuv420p, main
profile, moov atom first), so the result plays in any browser. Output frame ``k`` is decode frame
``first + k`` of the source with the landmarks of that same decode frame drawn on it, at the
source's own timestamps (shifted to start at zero).

What is drawn (signs and zero angles as in ``docs/conventions.md``):

* the skeleton, the runner's left in :data:`LEFT_RGB`, right in :data:`RIGHT_RGB`, the trunk
  and hip line in white; the near leg is drawn on top;
* a panel with a legend, the running cadence (the last :data:`CADENCE_STEPS` steps up to the
  current frame, from the analysis events) and knee flexion, hip flexion and shank angle of both
  legs (side views) or the hip-line tilt (rear and front views);
* the vertical through the hip midpoint;
* at each initial contact, a label ("L strike") for a few frames, then a marker at the heel's
  position at contact and, in side views, the horizontal overstride line from the hip-midpoint
  vertical at contact to the heel, which stay until the next contact of the same foot.

The module only reads results (a :class:`~gaitcheck.series.PoseSeries` and the analysis dict of
``docs/analysis-format.md``); it does not import cv2 or PyAV itself.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from .errors import VideoError
from .geometry import angle_from_down_deg, flexion_deg
from .landmarks import LEFT_HIP, LEG, RIGHT_HIP, SKELETON_EDGES
from .prefetch import prefetch
from .progress import progress_bar
from .series import PoseSeries

__all__ = [
    "CADENCE_STEPS",
    "LEFT_RGB",
    "MAX_SIDE_PX",
    "RIGHT_RGB",
    "TEXT_RGB",
    "OverlayPainter",
    "write_overlay",
]

RGB = tuple[int, int, int]

# The colours of ``gaitcheck.plots.SIDE_COLORS`` (#1f6fb4, #d9541e), so the video and the
# figures agree; lines get a dark edge to stay visible on any background.
LEFT_RGB: RGB = (31, 111, 180)  # blue
RIGHT_RGB: RGB = (217, 84, 30)  # orange-red
MID_RGB: RGB = (255, 255, 255)
SIDE_RGB: dict[str, RGB] = {"left": LEFT_RGB, "right": RIGHT_RGB}


def _tint(rgb: RGB, share: float = 0.45) -> RGB:
    """``rgb`` mixed with white: the side colours are too dark for text on a dark panel."""
    r, g, b = (int(round(c + share * (255 - c))) for c in rgb)
    return (r, g, b)


TEXT_RGB: dict[str, RGB] = {side: _tint(rgb) for side, rgb in SIDE_RGB.items()}

# Sources whose long side is longer are downscaled for the overlay (the default of
# ``report.overlay_max_side_px``, where its basis is): 4x fewer pixels to draw and encode than a
# 1080x1920 phone clip.
MAX_SIDE_PX = 960
CADENCE_STEPS = 6  # running cadence over this many most recent steps
# Step rates (steps/min) a person can keep up, by activity; outside them the panel shows "--"
# (a cadence of 277 while walking is a counting error, not a measurement).
PLAUSIBLE_SPM = {"running": (120.0, 240.0), "walking": (50.0, 160.0)}
VERDICT_RGB: dict[str, RGB] = {"judged": (140, 230, 140), "partly_judged": (250, 210, 90),
                               "not_judged": (255, 110, 110)}
MIN_PANEL_VISIBILITY = 0.5  # a joint angle is shown only when its landmarks are at least this
# visible (MediaPipe visibility); below it the panel shows "--" instead of a guessed value
FAR_RGB: RGB = (150, 150, 150)  # the far leg of a side view: greyed, it is less reliable
FLASH_S = 0.17  # the "L strike" label stays this long (real seconds, at least 3 frames)

_INTERVALS = ("knee", "hip", "shank")
_CLOCK_HZ = 90000  # the writer's clock; output times are rounded to it

_log = logging.getLogger(__name__)

# Bump when what is drawn changes: a kept overlay made by older code is then rendered again.
OVERLAY_VERSION = 1
# The render key is stored in the MP4's ``comment`` tag, after this prefix.
KEY_PREFIX = "gaitcheck-overlay:"


def render_key(series: PoseSeries, analysis: Mapping[str, Any], size: tuple[int, int], *,
               webm: bool = False) -> str:
    """Hash of everything an overlay shows: the source video, landmarks, analysis and size.

    The analysis' creation time and version stamp are left out (they are not drawn), so the
    same analysis of the same pose gives the same key.
    """
    h = hashlib.sha256()
    drawn = {k: v for k, v in analysis.items() if k not in ("created_utc", "gaitcheck_version")}
    head = {"version": OVERLAY_VERSION, "size": list(size), "webm": webm,
            "video": series.source_sha256 or series.source, "fps": series.fps,
            "frame_size": list(series.frame_size)}
    h.update(json.dumps(head, sort_keys=True, default=str).encode())
    h.update(json.dumps(drawn, sort_keys=True, default=str).encode())
    assert series.frame_index is not None
    for arr in (series.xy_px, series.time_s, series.frame_index):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:32]


def _rendered_key(path: Path) -> str | None:
    """The render key stored in an overlay file, or None (missing, unreadable, other tool)."""
    if not path.is_file():
        return None
    from .video import container_comment

    comment = container_comment(path) or ""
    return comment[len(KEY_PREFIX):] if comment.startswith(KEY_PREFIX) else None


def _copy_atomic(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    part = dst.with_name(dst.name + ".part")
    shutil.copyfile(src, part)
    part.replace(dst)


def _verdict_line(analysis: Mapping[str, Any]) -> tuple[str, RGB] | None:
    """Short verdict for the panel's first line, e.g. ``("NOT JUDGED", red)``."""
    a = analysis.get("assessment")
    if not a:
        return None
    if a.get("verdict") == "not_judged":
        return "NOT JUDGED", VERDICT_RGB["not_judged"]
    if (analysis.get("activity") or {}).get("label") == "walking":
        return "walking", VERDICT_RGB["partly_judged"]
    if a.get("verdict") == "partly_judged":
        return "partly judged", VERDICT_RGB["partly_judged"]
    return "judged", VERDICT_RGB["judged"]


def _fmt_deg(value: float) -> str:
    return "--" if not math.isfinite(value) else f"{value:.0f}\u00b0"


class OverlayPainter:
    """Draws the overlay onto frames; all per-frame quantities are precomputed once.

    Parameters
    ----------
    series : PoseSeries
        Landmarks to draw (normally the cleaned series the analysis used). Row ``r`` belongs to
        decode frame ``series.frame_index[r]``.
    analysis : mapping
        The analysis dict (``docs/analysis-format.md``); uses ``view``, ``quality.near_leg``,
        ``events`` and ``steps``. Missing parts are simply not drawn.
    size : tuple of int
        ``(width, height)`` of the frames that will be painted; landmarks are scaled from
        ``series.frame_size`` to this size.
    """

    def __init__(
        self, series: PoseSeries, analysis: Mapping[str, Any], size: tuple[int, int]
    ) -> None:
        self.size = (int(size[0]), int(size[1]))
        w, h = self.size
        src_w, src_h = series.frame_size
        scale = np.array([w / src_w, h / src_h])
        self.xy = series.xy_px * scale  # (n, 33, 2) in output pixels
        assert series.frame_index is not None
        self.row_of: dict[int, int] = {int(f): r for r, f in enumerate(series.frame_index)}
        self.frame_time: dict[int, float] = {
            int(f): float(t) for f, t in zip(series.frame_index, series.time_s, strict=True)
        }

        view = analysis.get("view") or {}
        label = str(view.get("label") or "")
        self.side_view = label.startswith("side")
        self.facing = -1.0 if label == "side-left" else 1.0
        near = (analysis.get("quality") or {}).get("near_leg")
        self.near = near if near in ("left", "right") else None

        # Angles per row in original pixels (angles do not depend on the scale when it is
        # uniform, and the source pixels are what the analysis measured).
        xy = series.xy_px
        self.angles: dict[str, dict[str, NDArray[np.float64]]] = {}
        with np.errstate(invalid="ignore", divide="ignore"):
            for side, (hip, knee, ankle, _heel, _toe) in LEG.items():
                self.angles[side] = {
                    "knee": flexion_deg(xy[:, hip], xy[:, knee], xy[:, ankle]),
                    "hip": angle_from_down_deg(xy[:, hip], xy[:, knee], self.facing),
                    "shank": angle_from_down_deg(xy[:, knee], xy[:, ankle], self.facing),
                }
            d = xy[:, LEFT_HIP] - xy[:, RIGHT_HIP]
            # Positive when the left hip is lower in the image (larger y).
            self.pelvis_tilt = np.degrees(np.arctan2(d[:, 1], np.abs(d[:, 0])))
        self.hipmid = 0.5 * (self.xy[:, LEFT_HIP] + self.xy[:, RIGHT_HIP])
        heels_y = self.xy[:, [LEG["left"][3], LEG["right"][3], LEG["left"][4], LEG["right"][4]], 1]
        finite = heels_y[np.isfinite(heels_y)]
        self.ground_y = float(np.percentile(finite, 98)) if finite.size else float(h)

        # Events: initial contacts per foot (decode frame, time) and step values by IC frame.
        ics: list[tuple[int, float, str]] = []
        for ev in analysis.get("events") or []:
            if ev.get("kind") == "initial_contact" and ev.get("foot") in SIDE_RGB:
                frame = int(ev["frame"])
                t = ev.get("time_s")
                t = self.frame_time.get(frame, float("nan")) if t is None else float(t)
                ics.append((frame, t, str(ev["foot"])))
        ics.sort()
        self.ic_frames = np.array([f for f, _, _ in ics], dtype=np.int64)
        self.ic_times = np.array([t for _, t, _ in ics], dtype=np.float64)
        self.ic_feet = [ft for _, _, ft in ics]
        # The cadence shown is counted over complete steps (the analysis's step table) when
        # there is one, and only where it is humanly possible for the activity.
        step_times = sorted(float(s["ic_time_s"]) for s in analysis.get("steps") or []
                            if s.get("ic_time_s") is not None)
        step_frames = sorted(int(s["ic_frame"]) for s in analysis.get("steps") or []
                             if s.get("ic_frame") is not None)
        if len(step_times) >= 2 and len(step_frames) == len(step_times):
            self.cad_frames = np.array(step_frames, dtype=np.int64)
            self.cad_times = np.array(step_times, dtype=np.float64)
        else:
            self.cad_frames, self.cad_times = self.ic_frames, self.ic_times
        diffs = np.diff(self.cad_times)
        self._all_gaps = diffs[diffs > 0] if diffs.size else np.array([np.inf])
        if self._all_gaps.size == 0:
            self._all_gaps = np.array([np.inf])
        activity = str((analysis.get("activity") or {}).get("label") or "running")
        self.cadence_range = PLAUSIBLE_SPM.get(activity, PLAUSIBLE_SPM["running"])
        self.verdict_line = _verdict_line(analysis)
        # The far leg of a side view is drawn grey: it is partly hidden and less reliable.
        self.far = (("right" if self.near == "left" else "left")
                    if self.side_view and self.near else None)
        # Values are shown only for frames with a usable pose inside the analysed steps.
        vis = np.asarray(series.visibility, dtype=float)
        self.leg_ok = {side: np.nanmin(vis[:, list(LEG[side][:3])], axis=1) >= MIN_PANEL_VISIBILITY
                       for side in LEG}
        self.pelvis_ok = np.nanmin(vis[:, [LEFT_HIP, RIGHT_HIP]], axis=1) >= MIN_PANEL_VISIBILITY
        frames_of_steps = [int(s["ic_frame"]) for s in analysis.get("steps") or []
                           if s.get("ic_frame") is not None]
        self.step_span = ((min(frames_of_steps), max(frames_of_steps))
                          if frames_of_steps else None)
        self.ic_by_foot: dict[str, NDArray[np.int64]] = {
            s: np.array([f for f, _, ft in ics if ft == s], dtype=np.int64) for s in SIDE_RGB
        }
        self.overstride: dict[int, float] = {}
        for step in analysis.get("steps") or []:
            value = step.get("overstride_pct_leg")
            if value is not None and step.get("ic_frame") is not None:
                self.overstride[int(step["ic_frame"])] = float(value)
        fps = float(series.fps)
        self.flash_frames = max(3, int(round(FLASH_S * fps)))

        # Sizes scale with the frame.
        short = min(w, h)
        self.lw = max(2, int(round(short / 240)))
        self.radius = self.lw + 2
        self.font_size = max(11, int(round(short / 34)))
        self.font = ImageFont.load_default(size=self.font_size)
        self.big_font = ImageFont.load_default(size=int(self.font_size * 1.5))
        self._labels: dict[tuple[str, RGB, bool, bool], Image.Image] = {}
        self._panel_cache: tuple[int, int, int, int] | None = None

    # ------------------------------------------------------------------ helpers
    def _label(self, text: str, rgb: RGB, *, big: bool = False, stroke: bool = True) -> Image.Image:
        """Rendered text as an RGBA image, cached (rendering text is the slow part)."""
        key = (text, rgb, big, stroke)
        img = self._labels.get(key)
        if img is None:
            font = self.big_font if big else self.font
            sw = max(1, self.font_size // 8) if stroke else 0
            left, top, right, bottom = font.getbbox(text, stroke_width=sw)
            box = (max(1, int(right - left)), max(1, int(bottom - top)))
            img = Image.new("RGBA", box, (0, 0, 0, 0))
            ImageDraw.Draw(img).text(
                (-left, -top), text, fill=(*rgb, 255), font=font,
                stroke_width=sw, stroke_fill=(0, 0, 0, 255),
            )
            if len(self._labels) > 4096:
                self._labels.clear()
            self._labels[key] = img
        return img

    def _text(self, canvas: Image.Image, xy: tuple[float, float], text: str, rgb: RGB,
              *, big: bool = False, stroke: bool = True, anchor: str = "lt") -> None:
        img = self._label(text, rgb, big=big, stroke=stroke)
        x, y = xy
        if anchor[0] == "m":
            x -= img.width / 2
        elif anchor[0] == "r":
            x -= img.width
        if anchor[1] == "m":
            y -= img.height / 2
        elif anchor[1] == "b":
            y -= img.height
        canvas.paste(img, (int(round(x)), int(round(y))), img)

    def _pt(self, row: int, idx: int) -> tuple[float, float] | None:
        x, y = self.xy[row, idx]
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        return float(x), float(y)

    def _panel_box(self) -> tuple[int, int, int, int]:
        if self._panel_cache is None:
            fs = self.font_size
            line = int(fs * 1.3)
            n_lines = (8 if self.side_view else 4) + (1 if self.verdict_line else 0)
            width = int(self.font.getlength("cadence 000 spm") + 2 * fs)
            width = max(width, int(self.font.getlength("overstride  -00%  -00%") + 2 * fs))
            pad = fs // 2
            self._panel_cache = (pad, pad, pad + width, pad + n_lines * line + pad)
        return self._panel_cache

    def cadence_at(self, frame: int) -> float:
        """Running cadence in steps/min over the last :data:`CADENCE_STEPS` steps.

        Parameters
        ----------
        frame : int
            Decode index; only initial contacts at or before it count.

        Returns
        -------
        float
            Steps per minute, NaN before the second initial contact.
        """
        k = int(np.searchsorted(self.cad_frames, frame, side="right"))
        if k < CADENCE_STEPS + 1:
            return float("nan")  # too few steps yet: a rate from 1-2 steps is not a cadence
        times = self.cad_times[k - CADENCE_STEPS - 1:k]
        gaps = np.diff(times)
        if gaps.size and float(np.max(gaps)) > 1.5 * float(np.median(self._all_gaps)):
            return float("nan")  # a missed step inside the window would halve the rate
        span = float(times[-1] - times[0])
        spm = 60.0 * (len(times) - 1) / span if span > 0 else float("nan")
        lo, hi = self.cadence_range
        return spm if lo <= spm <= hi else float("nan")

    def shows(self, row: int | None, frame: int, side: str | None) -> bool:
        """True when the panel may show a value for this frame: a pose was found, the
        landmarks involved are visible enough, and the frame lies within the analysed steps."""
        if row is None or self.step_span is None:
            return False
        if not self.step_span[0] <= frame <= self.step_span[1]:
            return False
        ok = self.pelvis_ok if side is None else self.leg_ok[side]
        return bool(ok[row])

    def _side_text(self, side: str) -> RGB:
        return FAR_RGB if side == self.far else TEXT_RGB[side]

    # ------------------------------------------------------------------ drawing
    def paint(self, frame_rgb: NDArray[np.uint8], frame: int) -> NDArray[np.uint8]:
        """Draw the overlay for decode frame ``frame`` onto a copy of ``frame_rgb``.

        Parameters
        ----------
        frame_rgb : ndarray of uint8, shape (height, width, 3)
            The upright source frame at :attr:`size`.
        frame : int
            Its 0-based decode index in the source video.

        Returns
        -------
        ndarray of uint8, shape (height, width, 3)
            The annotated frame (the input is not modified).
        """
        rgb = np.asarray(frame_rgb, dtype=np.uint8)
        if rgb.shape[1::-1] != self.size:
            raise ValueError(
                f"Frame of size {rgb.shape[1::-1]} given, the painter was made for {self.size}."
            )
        canvas = Image.fromarray(rgb)  # Pillow's copy: the input stays as it was
        x0, y0, x1, y1 = self._panel_box()
        # Darken the panel background (fast, keeps the picture visible).
        canvas.paste(Image.fromarray(rgb[y0:y1, x0:x1] >> 1), (x0, y0))
        draw = ImageDraw.Draw(canvas)
        row = self.row_of.get(int(frame))
        if row is not None:
            self._draw_midline(draw, row)
        self._draw_strikes(canvas, draw, int(frame))
        if row is not None:
            self._draw_skeleton(draw, row)
        self._draw_panel(canvas, draw, row, int(frame))
        return np.asarray(canvas)

    def _draw_midline(self, draw: ImageDraw.ImageDraw, row: int) -> None:
        x, y = self.hipmid[row]
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        top = y - 0.35 * max(1.0, self.ground_y - y)
        bottom = self.ground_y
        n = 14
        ys = np.linspace(top, bottom, 2 * n)
        width = max(1, self.lw // 2)
        for k in range(n):
            draw.line([(x, ys[2 * k]), (x, ys[2 * k + 1])], fill=MID_RGB, width=width)

    def _draw_skeleton(self, draw: ImageDraw.ImageDraw, row: int) -> None:
        order = ["right", "left"] if self.near == "left" else ["left", "right"]
        mid_edges = [(a, b) for a, b in SKELETON_EDGES if a % 2 != b % 2]
        groups: list[tuple[RGB, list[tuple[int, int]]]] = [(MID_RGB, mid_edges)]
        for side in order:
            parity = 1 if side == "left" else 0
            edges = [(a, b) for a, b in SKELETON_EDGES if a % 2 == parity and b % 2 == parity]
            groups.append((FAR_RGB if side == self.far else SIDE_RGB[side], edges))
        r = self.radius
        for rgb, edges in groups:
            joints: set[int] = set()
            for a, b in edges:
                pa, pb = self._pt(row, a), self._pt(row, b)
                if pa is None or pb is None:
                    continue
                draw.line([pa, pb], fill=(0, 0, 0), width=self.lw + 2)
                draw.line([pa, pb], fill=rgb, width=self.lw)
                joints.update((a, b))
            if rgb == MID_RGB:
                continue
            for j in joints:
                p = self._pt(row, j)
                if p is not None:
                    draw.ellipse([p[0] - r, p[1] - r, p[0] + r, p[1] + r], fill=rgb,
                                 outline=(0, 0, 0))

    def _draw_strikes(self, canvas: Image.Image, draw: ImageDraw.ImageDraw, frame: int) -> None:
        r = self.radius + 3
        for side, ic in self.ic_by_foot.items():
            k = int(np.searchsorted(ic, frame, side="right"))
            if k == 0:
                continue
            ic_frame = int(ic[k - 1])
            ic_row = self.row_of.get(ic_frame)
            if ic_row is None:
                continue
            rgb = SIDE_RGB[side]
            heel = self._pt(ic_row, LEG[side][3]) or self._pt(ic_row, LEG[side][2])
            if heel is None:
                continue
            hx, hy = heel
            if self.side_view:
                mx = float(self.hipmid[ic_row, 0])
                if math.isfinite(mx):
                    draw.line([(mx, hy), (hx, hy)], fill=rgb, width=self.lw)
                    draw.line([(mx, hy - 2 * r), (mx, hy + 2 * r)], fill=MID_RGB, width=self.lw)
            draw.ellipse([hx - r, hy - r, hx + r, hy + r], outline=rgb, width=self.lw)
            draw.line([(hx - r, hy), (hx + r, hy)], fill=rgb, width=1)
            draw.line([(hx, hy - r), (hx, hy + r)], fill=rgb, width=1)
            # Only the latest contact flashes: two labels never share a frame.
            j = int(np.searchsorted(self.ic_frames, frame, side="right")) - 1
            latest = j >= 0 and int(self.ic_frames[j]) == ic_frame and self.ic_feet[j] == side
            if latest and frame - ic_frame < self.flash_frames:
                rr = 2 * r
                draw.ellipse([hx - rr, hy - rr, hx + rr, hy + rr], outline=rgb, width=self.lw)
                text = ("L" if side == "left" else "R") + " strike"
                self._strike_label(canvas, hx, hy, rr, text, TEXT_RGB[side])

    def _strike_label(self, canvas: Image.Image, hx: float, hy: float, rr: float, text: str,
                      rgb: RGB) -> None:
        """Put the strike label beside the foot, never on it: below the heel (on the belt) when
        it fits in the picture, else behind the foot, clear of the ring around the heel."""
        img = self._label(text, rgb, big=True)
        w, h = self.size
        below = hy + rr + self.lw + 2
        if below + img.height <= h:
            x = min(max(hx - img.width / 2, 0.0), w - img.width)
            self._text(canvas, (x, below), text, rgb, big=True)
            return
        # Behind the foot: opposite the running direction.
        if self.facing < 0:
            x = hx + rr + self.lw + 2
        else:
            x = hx - rr - self.lw - 2 - img.width
        x = min(max(x, 0.0), w - img.width)
        self._text(canvas, (x, hy), text, rgb, big=True, anchor="lm")

    def _draw_panel(self, canvas: Image.Image, draw: ImageDraw.ImageDraw, row: int | None,
                    frame: int) -> None:
        x0, y0, _x1, _y1 = self._panel_box()
        fs = self.font_size
        line = int(fs * 1.3)
        x = x0 + fs // 2
        y = y0 + fs // 3
        if self.verdict_line:
            text, rgb = self.verdict_line
            self._text(canvas, (x, y), text, rgb, stroke=False)
            y += line
        # Legend.
        r = fs // 3
        cx = x + r
        for side, name in (("left", "left"), ("right", "right")):
            cy = y + line // 2
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=SIDE_RGB[side])
            self._text(canvas, (cx + 2 * r, cy), name, TEXT_RGB[side], stroke=False, anchor="lm")
            cx += int(2 * r + self.font.getlength(name) + fs)
        y += line
        cad = self.cadence_at(frame)
        cad_txt = "--" if not math.isfinite(cad) else f"{cad:.0f}"
        self._text(canvas, (x, y), f"cadence {cad_txt} spm", MID_RGB, stroke=False)
        y += line
        col_l = x + int(self.font.getlength("overstride ")) + fs * 2
        col_r = col_l + int(self.font.getlength("-000\u00b0")) + fs // 2
        if self.side_view:
            self._text(canvas, (col_l, y), "L", TEXT_RGB["left"], stroke=False, anchor="rt")
            self._text(canvas, (col_r, y), "R", TEXT_RGB["right"], stroke=False, anchor="rt")
            y += line
            for name in _INTERVALS:
                self._text(canvas, (x, y), name, MID_RGB, stroke=False)
                for side, cx_ in (("left", col_l), ("right", col_r)):
                    v = self.angles[side][name][row] if self.shows(row, frame, side) else math.nan
                    self._text(canvas, (cx_, y), _fmt_deg(float(v)), self._side_text(side),
                               stroke=False, anchor="rt")
                y += line
            self._text(canvas, (x, y), "overstride", MID_RGB, stroke=False)
            for side, cx_ in (("left", col_l), ("right", col_r)):
                ic = self.ic_by_foot[side]
                k = int(np.searchsorted(ic, frame, side="right"))
                value = self.overstride.get(int(ic[k - 1])) if k else None
                txt = "--" if value is None else f"{value:.0f}%"
                self._text(canvas, (cx_, y), txt, self._side_text(side), stroke=False,
                           anchor="rt")
            y += line
        else:
            v = float(self.pelvis_tilt[row]) if self.shows(row, frame, None) else math.nan
            low = "" if not math.isfinite(v) or abs(v) < 0.5 else (" L low" if v > 0 else " R low")
            self._text(canvas, (x, y), f"pelvis {_fmt_deg(abs(v))}{low}", MID_RGB, stroke=False)
            y += line
        t = self.frame_time.get(frame)
        t_txt = f"{t:.2f} s" if t is not None else ""
        self._text(canvas, (x, y), f"{t_txt}  frame {frame}", (200, 200, 200), stroke=False)


def write_overlay(
    video_path: str | Path,
    series: PoseSeries,
    analysis: Mapping[str, Any],
    out_path: str | Path,
    *,
    progress: bool = True,
    webm: bool = False,
    max_side_px: int = MAX_SIDE_PX,
    poster_path: str | Path | None = None,
    reuse: str | Path | None = None,
) -> Path:
    """Write the annotated video (see the module docstring for what is drawn).

    Parameters
    ----------
    video_path : str or Path
        The source video the series was extracted from.
    series : PoseSeries
        Landmarks per decode frame; the overlay covers decode frames ``series.frame_index[0]``
        to ``series.frame_index[-1]`` (the whole clip, or the trimmed range the series covers).
        Pass the left/right-repaired landmarks the analysis used, e.g.
        ``series.with_arrays(xy_px=c.raw_xy_px, visibility=c.visibility)`` with
        ``c = clean_series(series, config.clean)``, so the colours match the events.
    analysis : mapping
        The analysis dict (``Analysis.to_dict()``, ``docs/analysis-format.md``).
    out_path : str or Path
        Target ``.mp4`` file (H.264, yuv420p, main profile, moov atom first). Written to
        ``<name>.part`` first and renamed when complete.
    progress : bool
        Show a progress bar on stderr.
    webm : bool
        Also write a VP9 ``.webm`` next to ``out_path`` (same name, ``.webm`` suffix).
    max_side_px : int
        Sources whose long side is longer are downscaled to it for the overlay.
    poster_path : str or Path, optional
        Also save one painted frame as a JPEG (the contact of the middle analysed step, else
        the middle frame): the poster image of the ``<video>`` in report.html.
    reuse : str or Path, optional
        An earlier overlay (e.g. the one in the output folder being replaced): when it was
        rendered from the same video, landmarks, analysis and size (its stored
        :func:`render_key` matches), it is copied instead of rendered again.

    Returns
    -------
    Path
        The written ``.mp4`` file.

    Raises
    ------
    VideoError
        When the source cannot be decoded or has no frames in the series' range.
    """
    from .video import WebVideoWriter, iter_frames, probe, scaled_size, turned_size

    video_path = Path(video_path)
    out_path = Path(out_path)
    reuse = Path(reuse) if reuse is not None else None
    if hasattr(analysis, "to_dict"):
        analysis = analysis.to_dict()
    if series.n_frames == 0:
        raise VideoError("The pose series has no frames; there is nothing to draw.")
    assert series.frame_index is not None
    first, last = int(series.frame_index[0]), int(series.frame_index[-1])
    info = probe(video_path)
    # Frames turned upright before the pose model are drawn turned the same way.
    turn = int(series.meta.get("turn_deg") or 0)
    w, h = turned_size(info.frame_size, turn)
    max_side = max_side_px if max(w, h) > max_side_px else None
    size = scaled_size((w, h), max_side)
    painter = OverlayPainter(series, analysis, size)
    poster_frame = _poster_frame(analysis, first, last)
    targets = [out_path] + ([out_path.with_suffix(".webm")] if webm else [])
    key = render_key(series, analysis, size, webm=webm)
    old_poster = (Path(reuse).parent / Path(poster_path).name
                  if reuse is not None and poster_path is not None else None)
    if (reuse is not None and reuse != out_path and _rendered_key(reuse) == key
            and (old_poster is None or old_poster.is_file())):
        # The previous overlay shows exactly this (same video, landmarks, analysis, size).
        _copy_atomic(reuse, out_path)
        if webm and reuse.with_suffix(".webm").is_file():
            _copy_atomic(reuse.with_suffix(".webm"), out_path.with_suffix(".webm"))
        if old_poster is not None and poster_path is not None:
            _copy_atomic(old_poster, Path(poster_path))
        _log.info("overlay: unchanged, reused %s", reuse)
        return out_path
    writers = [WebVideoWriter(p, size[0], size[1], info.nominal_fps, comment=KEY_PREFIX + key)
               for p in targets]
    # Three stages on their own threads, each queue bounded (memory stays flat): decoding and
    # RGB conversion (FFmpeg threads), drawing (Pillow), and encoding here (x264 threads).
    decoded = prefetch(itertools.takewhile(
        lambda f: f.index <= last,
        (f for f in iter_frames(video_path, max_side_px=max_side, info=info, turn_deg=turn)
         if f.index >= first),
    ))
    painted = prefetch((f.index, f.time_s, painter.paint(f.rgb, f.index)) for f in decoded)
    t0: float | None = None
    last_t = -math.inf
    min_dt = 1.0 / _CLOCK_HZ
    n = 0
    started = time.perf_counter()
    bar = progress_bar(last - first + 1, enabled=progress, desc="overlay")
    try:
        for index, time_s, out in painted:
            if t0 is None:
                t0 = time_s
            t = time_s - t0
            if not t > last_t + min_dt:  # repeated or reordered container time: keep order
                t = last_t + 1.0 / info.nominal_fps if n else 0.0
            if poster_path is not None and index == poster_frame:
                _save_jpeg(out, Path(poster_path))
            for writer in writers:
                writer.write(out, t)
            last_t = t
            n += 1
            bar.update(1)
            if index >= last:
                break
        if n == 0:
            raise VideoError(
                f"{video_path} has no decodable frames {first}-{last} (the pose series' range); "
                "pass the video the series was made from."
            )
    except BaseException:
        painted.close()
        for writer in writers:
            writer.close(keep=False)
        raise
    finally:
        bar.close()
    painted.close()
    for writer in writers:
        writer.close()
    elapsed = time.perf_counter() - started
    _log.info("overlay: %d frames in %.1f s (%.1f frames/s)", n, elapsed, n / max(elapsed, 1e-9))
    return out_path



def _poster_frame(analysis: Mapping[str, Any], first: int, last: int) -> int:
    """Decode index of the poster: the contact of the middle analysed step, else mid-clip."""
    frames = sorted(int(s["ic_frame"]) for s in analysis.get("steps") or []
                    if s.get("ic_frame") is not None and first <= int(s["ic_frame"]) <= last)
    return frames[len(frames) // 2] if frames else (first + last) // 2


def _save_jpeg(rgb: NDArray[np.uint8], path: Path) -> None:
    """Write ``rgb`` as a JPEG atomically (``.part`` then rename)."""
    import io

    from .plots import write_bytes_atomic

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=85)
    write_bytes_atomic(path, buf.getvalue())
