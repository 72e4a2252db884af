"""The public analysis API: a pose series in, an :class:`Analysis` out.

``analyze_pose`` runs clean -> view -> events -> steps -> metrics -> cycle curves on saved
landmarks alone; it never imports OpenCV or MediaPipe. ``analyze_video`` (in ``gaitcheck.api``)
adds decoding and pose extraction in front of it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import __version__, motion
from .assessment import assess, reason
from .clean import clean_series
from .confidence import FAR_LEG_MEDIUM_VISIBILITY, add_side_levels, cap_all, cap_by_spread
from .config import Config
from .errors import AnalysisError
from .events import Events, detect_frontal_events, detect_pelvis_events, detect_side_events
from .geometry import nearest_sample
from .landmarks import LEG, SIDES
from .metrics.cycles import cycle_curves
from .metrics.frontal import frontal_step_metrics
from .metrics.side import body_proportions, leg_length_px, side_step_metrics, strike_class
from .metrics.steps import StepTable, build_steps, cadence_spm
from .metrics.summary import FRONTAL_METRICS, SIDE_METRICS, summarise
from .series import PoseSeries
from .view import UNKNOWN, VIEWS, ViewResult, detect_view, facing_of

Array = NDArray[np.float64]

# Contact time is approximate when one frame period plus the toe-off method's own bias exceeds
# this share of the contact time. The bias: the knee's extension peak follows the toe's lift by
# up to about 10 ms on the synthetic runner (tests/test_accuracy.py). A tenth is gaitcheck's
# screening precision for contact time (runners' values span 180-320 ms); for a 250 ms contact
# it leaves 60 fps and below approximate and 120 fps and above not.
CONTACT_TIME_MAX_ERROR_SHARE = 0.1
CONTACT_TIME_TO_BIAS_MS = 10.0
# A far leg whose landmarks are seen with less visibility than this at contact is not measured.
# MediaPipe's visibility is a probability-like score: below one half the model itself rates the
# landmark as more likely hidden than seen.
FAR_LEG_MIN_VISIBILITY = 0.5
# Ground-line tilt (deg) worth a note, and one that lowers the confidence of angle metrics.
# Angles are measured against the image vertical, so a tilt adds to every angle at contact:
# from 3 deg (one and a half times their 2 deg screening accuracy) it is worth telling, from
# 7 deg (over three times) it lowers the confidence.
GROUND_TILT_NOTE_DEG = 3.0
GROUND_TILT_REASON_DEG = 7.0
# A toe path shorter than this share of the leg length is too short a baseline for the roll
# (a fit over a 7 % leg baseline is tilted 1 deg by a 0.12 % leg error at its ends); a treadmill
# stance carries the toe about 0.5-0.8 leg lengths, overground the toe barely moves.
ROLL_MIN_BASELINE_LEG = 0.07
# Frontal views: a mean hip-line tilt beyond this (deg) is a reason of lower confidence; a level
# pelvis varies by about +-2 deg over a stride without any camera roll (pelvic obliquity).
HIP_LINE_TILT_REASON_DEG = 2.0
# Step rates (steps/min) that read as walking (below) or running (at or above); between the
# two the activity is unknown and the clip is not judged. Walkers step at about 90-130 and
# runners at 150-190 steps/min (van Oeveren 2020: 165 +- 8); the gap keeps a slow jog or a
# brisk walk from being judged by the wrong ranges.
WALKING_MAX_CADENCE_SPM = 135.0
RUNNING_MIN_CADENCE_SPM = 145.0
# Repeated frames below this share are ordinary dropped-frame fill-ins (dropped silently).
REPEATED_REASON_SHARE = 0.05

STEP_COLUMNS = (
    "index", "foot", "ic_frame", "ic_time_s", "to_frame", "to_time_s", "step_time_s",
    "contact_time_ms", "overstride_pct_leg", "shank_angle_ic_deg", "knee_flexion_ic_deg",
    "foot_angle_ic_deg", "foot_strike", "trunk_lean_deg", "vertical_oscillation_pct_leg",
    "pelvic_drop_deg", "hip_adduction_deg", "step_width_pct_hip",
)


@dataclass(frozen=True)
class Analysis:
    """Result of an analysis: the ``analysis.json`` content plus helpers.

    Attributes
    ----------
    data : dict
        The JSON-serialisable analysis (see ``docs/analysis-format.md``).
    cleaned_xy_px : ndarray, shape (n_frames, 33, 2), optional
        The cleaned landmarks the metrics were measured on (for drawing; not serialised).
    frame_index : ndarray of int, shape (n_frames,), optional
        Decode index of each row of ``cleaned_xy_px``: the analysis drops frames that repeat
        the previous picture, so its rows can be fewer than the series'.
    """

    data: dict[str, Any]
    cleaned_xy_px: Array | None = field(default=None, repr=False, compare=False)
    frame_index: NDArray[np.int64] | None = field(default=None, repr=False, compare=False)

    def drawn_series(self, series: PoseSeries) -> PoseSeries:
        """``series`` restricted to the analysed frames, with the cleaned landmarks.

        What the overlay and the key frames draw: the swap-repaired, filtered landmarks the
        metrics were measured on, one row per analysed frame.
        """
        if self.cleaned_xy_px is None:
            return series
        if (self.frame_index is not None and series.frame_index is not None
                and not np.array_equal(self.frame_index, series.frame_index)):
            rows = np.flatnonzero(np.isin(series.frame_index, self.frame_index))
            series = _take(series, rows)
        return series.with_arrays(xy_px=self.cleaned_xy_px)

    @property
    def metrics(self) -> dict[str, Any]:
        """Metric summaries keyed by metric name."""
        return dict(self.data["metrics"])

    @property
    def steps(self) -> list[dict[str, Any]]:
        """One dict per step (the rows of ``steps.csv``)."""
        return list(self.data["steps"])

    @property
    def cycles(self) -> dict[str, Any]:
        """Stride-cycle curves."""
        return dict(self.data["cycle_curves"])

    @property
    def view(self) -> str:
        """Camera view label."""
        return str(self.data["view"]["label"])

    def to_dict(self) -> dict[str, Any]:
        """The analysis as a plain dict (a deep copy)."""
        return json.loads(self.to_json())

    def to_json(self, indent: int | None = 1) -> str:
        """The analysis as JSON text."""
        return json.dumps(self.data, indent=indent, allow_nan=False)

    def steps_csv(self) -> str:
        """``steps.csv`` content: one row per step."""
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(STEP_COLUMNS), extrasaction="ignore")
        w.writeheader()
        for row in self.data["steps"]:
            w.writerow({k: "" if row.get(k) is None else row.get(k) for k in STEP_COLUMNS})
        return buf.getvalue()

    def cycles_csv(self) -> str:
        """``cycles.csv`` content: one row per (curve, side, percent)."""
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["curve", "side", "percent", "mean_deg", "sd_deg", "n_cycles"])
        for name, block in self.data["cycle_curves"].items():
            for side in SIDES:
                b = block.get(side, {})
                columns = (block["percent"], b.get("mean", []), b.get("sd", []))
                for pct, m, s in zip(*columns, strict=False):
                    w.writerow([name, side, pct, m, s, b.get("n_cycles", 0)])
        return buf.getvalue()

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``analysis.json``, ``steps.csv`` and ``cycles.csv`` atomically.

        Returns
        -------
        dict of str -> Path
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "analysis": (out / "analysis.json", self.to_json()),
            "steps": (out / "steps.csv", self.steps_csv()),
            "cycles": (out / "cycles.csv", self.cycles_csv()),
        }
        for path, text in files.values():
            tmp = path.with_name(path.name + ".part")
            tmp.write_text(text)
            tmp.replace(path)
        return {k: v[0] for k, v in files.items()}


def analyze_pose(
    series: PoseSeries, config: Config | None = None, view: str | None = None
) -> Analysis:
    """Analyse a pose series.

    Parameters
    ----------
    series : PoseSeries
    config : Config, optional
        Defaults to ``Config()``.
    view : str, optional
        Force the camera view (``side-left``, ``side-right``, ``rear``, ``front``); overrides
        ``config.analysis.view``.

    Returns
    -------
    Analysis

    Raises
    ------
    AnalysisError
        When the series has too few frames with a pose or too few steps to analyse.
    """
    cfg = config or Config()
    forced = view or (cfg.analysis.view if cfg.analysis.view != "auto" else None)
    if forced is not None and forced not in VIEWS:
        raise AnalysisError(f"View '{forced}' is not one of {', '.join(VIEWS)}.")
    if series.n_frames < 10 or series.has_pose.sum() < 10:
        raise AnalysisError(
            f"{_name(series)} has {int(series.has_pose.sum())} frames with a person; at least "
            "a few strides (about 2 s) of running with the whole body in frame are needed."
        )
    series, found, timing_notes = _real_timing(series)
    cleaned = clean_series(series, cfg.clean)
    xy = cleaned.xy_px
    time_s = series.time_s
    vres = detect_view(xy, cleaned.visibility)
    detected = vres
    if forced is not None:
        vres = ViewResult(forced, 1.0, facing_of(forced), "user")
    elif vres.label == UNKNOWN:
        # No frame could vote: guessing a view would measure the wrong things with confidence.
        raise AnalysisError(
            f"The camera view of {_name(series)} could not be told from the landmarks (no frame "
            "shows hips and legs with the feet or face); set it with --view side-left, "
            "side-right, rear or front."
        )
    side_view = vres.label.startswith("side")

    if side_view:
        events = detect_side_events(xy, time_s, vres.facing, cfg.events,
                                    xy_sharp=cleaned.event_xy_px)
        steps = build_steps(events, cfg.events)
    else:
        events = detect_frontal_events(xy, time_s, cfg.events, xy_sharp=cleaned.event_xy_px)
        steps = build_steps(events, cfg.events)
        # Feet too small or hidden to see them touch down: fall back on the pelvis rhythm.
        if steps.valid.sum() < cfg.events.min_steps:
            alt = detect_pelvis_events(xy, time_s, cfg.events)
            alt_steps = build_steps(alt, cfg.events)
            if alt_steps.valid.sum() > steps.valid.sum():
                events, steps = alt, alt_steps
    n_valid = int(steps.valid.sum())
    if n_valid < cfg.events.min_steps:
        raise AnalysisError(
            f"Only {n_valid} clean steps were found in {_name(series)}; record at least 10 s "
            "of steady running with both feet visible."
        )

    quality, reasons, near = _quality(series, cleaned.visibility, xy, cleaned, vres, steps)
    quality["event_method"] = events.method
    quality["contacts_dropped"] = int(events.contacts_dropped)
    quality["notes"][:0] = timing_notes
    truncated = series.meta.get("truncated_video")
    if isinstance(truncated, dict):
        quality["truncated_video"] = truncated
        quality["notes"].append(truncation_sentence(truncated))
        found.append(reason("truncated_video", truncation_sentence(truncated)))
    mismatch = (vres.source == "user" and detected.confidence >= 0.4
                and detected.label != vres.label)
    if mismatch:
        found.append(reason(
            "view_mismatch",
            f"The view was set to {vres.label}, but the video looks like a {detected.label} "
            f"view (confidence {detected.confidence:.2f}), so no measure can be trusted; "
            "check --view.",
        ))
        quality["notes"].append(
            f"The view was set to {vres.label}, but the landmarks look like a {detected.label} "
            f"view (confidence {detected.confidence:.2f}); check --view."
        )
    if events.method == "frontal-pelvis":
        reasons.append("contacts estimated from the pelvis rhythm (feet too small or hidden)")
        quality["notes"].append(
            "The feet were too small or hidden to see them land, so contacts were estimated from "
            "the up-and-down rhythm of the pelvis; stance windows are approximate. Film closer, "
            "with both feet clearly visible."
        )
    quality["body_proportions"] = body_proportions(xy, near or "left")
    per_step: dict[str, Array]
    keys: tuple[str, ...]
    if side_view:
        assert near is not None  # chosen per clip in _quality for every side view
        # Normalise by the near leg: the better-seen one of this clip, whichever side it is.
        leg_px = leg_length_px(xy, near)
        per_step = side_step_metrics(xy, time_s, steps, vres.facing, leg_px,
                                     xy_at_contact=cleaned.raw_xy_px)
        far = "right" if near == "left" else "left"
        vis_ic = _visibility_at_ic(cleaned.visibility, time_s, steps, far)
        gate = (steps.foot == far) & (vis_ic < FAR_LEG_MIN_VISIBILITY)
        for k in ("overstride_pct_leg", "shank_angle_ic_deg", "knee_flexion_ic_deg",
                  "foot_angle_ic_deg"):
            per_step[k][gate] = np.nan
        if gate.any():
            quality["notes"].append(
                f"{int(gate.sum())} contacts of the far ({far}) leg were too poorly seen to "
                "measure and were left out."
            )
        keys = SIDE_METRICS
    else:
        per_step = frontal_step_metrics(xy, time_s, steps, 0.0)
        keys = FRONTAL_METRICS

    valid = steps.valid
    for k in per_step:
        per_step[k] = np.where(valid, per_step[k], np.nan)
    metrics: dict[str, Any] = {}
    cad, cad_sd, cad_side = cadence_spm(steps)
    min_conf = cfg.analysis.min_steps_confident
    for key in keys:
        r = list(reasons)
        if key == "cadence_spm":
            with np.errstate(divide="ignore"):
                per_step_spm = np.where(valid, 60.0 / steps.step_time_s, np.nan)
            metrics[key] = summarise(key, per_step_spm,
                                     steps.foot, r, min_conf, value=cad, sd=cad_sd,
                                     per_side=cad_side)
            continue
        src = "foot_angle_ic_deg" if key == "foot_strike" else key
        approx = False
        if key == "contact_time_ms":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                ct_ms = float(np.nanmean(per_step[src]))
            if contact_time_is_approximate(series.fps, ct_ms):
                approx = True
                r.append(f"{series.fps:.0f} fps: a stance spans only a few frames, so contact "
                         f"time is approximate (120 fps or more advised)")
        metrics[key] = summarise(key, per_step[src], steps.foot, r, min_conf, approximate=approx)
        if key == "foot_strike":
            cls = strike_class(per_step[src])
            n_cls = max(1, int((cls != "").sum()))
            shares = {c: round(float((cls == c).sum()) / n_cls, 3)
                      for c in ("rearfoot", "midfoot", "forefoot")}
            metrics[key]["shares"] = shares
            metrics[key]["pattern"] = max(shares, key=lambda c: shares[c])

    leg_vis = {s: float(quality["mean_visibility"][f"{s}_leg"]) for s in SIDES}
    per_side_n = _steps_per_side(keys, per_step, steps)
    capped = add_side_levels(metrics, near, leg_vis, per_side_n)
    cap_by_spread(metrics)
    far_side = None if near is None else ("right" if near == "left" else "left")
    if far_side is not None and far_side in capped:
        found.append(reason(
            "far_leg",
            f"The far ({far_side}) leg was partly hidden (visibility {leg_vis[far_side]:.2f} "
            "against "
            f"{leg_vis[near or 'left']:.2f} for the near leg), so its values are at most medium "
            "confidence and left/right differences are uncertain.",
        ))
    poorly_seen = [s for s in capped if s != far_side]
    if poorly_seen:
        found.append(reason(
            "low_visibility",
            f"The {' and '.join(poorly_seen)} leg was poorly seen (visibility below "
            f"{FAR_LEG_MEDIUM_VISIBILITY:.1f}), so its values carry low confidence.",
        ))
    if mismatch:
        cap_all(metrics, "low", f"the view was forced to {vres.label} but looks like "
                f"{detected.label}")
    found += _provenance_reasons(series)
    if any(r["code"] == "slow_motion_suspected" for r in found):
        cap_all(metrics, "medium", "the capture rate of this slow-motion clip was guessed")
    if any(r["code"] == "multiple_people" for r in found):
        cap_all(metrics, "medium", "more than one person was in view")
    if n_valid < min_conf:
        found.append(reason(
            "few_steps",
            f"Only {n_valid} clean steps were found (at least {min_conf} are advised); film "
            "15-30 s of steady running.",
        ))

    activity = _activity(cad)
    if activity == "walking":
        found.append(reason(
            "walking",
            f"The step rate of {cad:.0f} steps/min reads as walking: the measures are shown, "
            "but running ranges and running advice do not apply.",
        ))
        quality["notes"].append(
            f"Cadence {cad:.0f} steps/min reads as walking; the running metrics and their "
            "typical ranges do not apply to walking."
        )
    elif activity == "unknown":
        found.append(reason(
            "activity_unknown",
            f"The step rate of {cad:.0f} steps/min lies between walking and running, so "
            "gaitcheck cannot tell which ranges apply.",
        ))
    data: dict[str, Any] = {
        "gaitcheck_version": __version__,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "video": _video_block(series),
        "config": cfg.to_dict(),
        "view": {"label": vres.label, "confidence": float(vres.confidence),
                 "source": vres.source},
        "activity": {"label": activity, "confidence": _activity_confidence(cad)},
        "quality": quality,
        "events": _events_block(events, series),
        "steps": _steps_block(steps, per_step, series, side_view),
        "metrics": metrics,
        "cycle_curves": _flag_far_leg(
            cycle_curves(xy, time_s, events, vres.label, vres.facing, cfg.events), near),
    }
    data["assessment"] = assess(data, found)
    return Analysis(_clean_json(data), cleaned_xy_px=xy, frame_index=series.frame_index)


def _steps_per_side(
    keys: tuple[str, ...], per_step: dict[str, Array], steps: StepTable
) -> dict[str, dict[str, int]]:
    """Measured (finite, valid) steps of each metric per foot."""
    out: dict[str, dict[str, int]] = {}
    for k in keys:
        src = "foot_angle_ic_deg" if k == "foot_strike" else k
        ok = steps.valid & (np.isfinite(per_step[src]) if src in per_step else True)
        out[k] = {side: int((ok & (steps.foot == side)).sum()) for side in SIDES}
    return out


def _activity(cad: float) -> str:
    """``running``, ``walking`` or ``unknown`` from the step rate (steps/min)."""
    if not np.isfinite(cad):
        return "unknown"
    if cad < WALKING_MAX_CADENCE_SPM:
        return "walking"
    return "running" if cad >= RUNNING_MIN_CADENCE_SPM else "unknown"


def _activity_confidence(cad: float) -> float:
    """0.9 well away from the walking/running gap, 0.6 within 15 steps/min of it."""
    if not np.isfinite(cad):
        return 0.0
    gap = min(abs(cad - WALKING_MAX_CADENCE_SPM), abs(cad - RUNNING_MIN_CADENCE_SPM))
    inside = WALKING_MAX_CADENCE_SPM <= cad < RUNNING_MIN_CADENCE_SPM
    return 0.0 if inside else (0.9 if gap > 15 else 0.6)


def _real_timing(series: PoseSeries) -> tuple[PoseSeries, list[dict[str, str]], list[str]]:
    """Keep the real frames, refuse a still picture, re-time a slowed clip.

    Returns
    -------
    series : PoseSeries
        Without repeated frames, timed in real seconds.
    reasons : list of dict
        Assessment reasons (``repeated_frames``, ``slow_motion_suspected``).
    notes : list of str
        Capture notes.

    Raises
    ------
    AnalysisError
        No movement above the absolute floor, or a slowed clip whose capture rate cannot be
        settled.
    """
    found: list[dict[str, str]] = []
    notes: list[str] = []
    meta = series.meta
    file_fps = float(meta.get("nominal_fps", series.fps))
    if meta.get("capture_fps_source") == "metadata" and abs(series.fps - file_fps) > 1e-6:
        notes.append(f"The file says it was filmed at {series.fps:g} fps and plays at "
                     f"{file_fps:g} fps (slow motion); all times are real seconds.")
    # Only frames with a person matter: an empty, unchanged picture repeats nothing useful.
    has_pose = series.has_pose  # (computed from the whole landmark array: once)
    repeated = _repeats(series)
    repeats = repeated & has_pose
    n_real = int((has_pose & ~repeats).sum())
    if n_real < 10:
        raise AnalysisError(
            f"No running movement found in {_name(series)}: the picture hardly changes "
            f"({n_real} distinct frames with a person of {series.n_frames}); film the run "
            "itself."
        )
    if repeats.any():
        share = float(repeats.sum() / has_pose.sum())
        if motion.is_regular_pattern(repeated):
            # Frame-rate conversion: the real frames were evenly spaced in time; keep only them.
            fps_real = motion.real_fps(repeated, series.fps)
            kept = np.flatnonzero(~repeated)
            t = series.time_s[kept[0]] + np.arange(kept.size) / fps_real
            series = _take(series, kept).with_arrays(time_s=t, fps=fps_real)
            how = (f"times come from the {kept.size} real frames, about {fps_real:.1f} real "
                   "frames per second")
        else:
            # Frozen stretches: a repeated picture is no new measurement, so it counts as missing.
            fps_real = motion.real_fps(repeats, series.fps)
            xy = series.xy_px.copy()
            vis = series.visibility.copy()
            xy[repeats] = np.nan
            vis[repeats] = 0.0
            series = series.with_arrays(xy_px=xy, visibility=vis)
            how = "those frames were treated as missing"
        if share >= REPEATED_REASON_SHARE:
            found.append(reason(
                "repeated_frames",
                f"{share:.0%} of the frames with the runner repeat the picture before (a "
                f"converted or padded video); {how}.",
            ))
            notes.append(f"The video repeats {share:.0%} of its frames with the runner; {how}.")
    swing = motion.movement_range_leg(series.xy_px)
    if swing < motion.MIN_SWING_LEG:
        raise AnalysisError(
            f"No running movement found in {_name(series)}: the feet swing only "
            f"{swing:.2f} leg lengths (running needs about 0.8); film the run itself, with the "
            "whole body in frame."
        )
    spm, _ = motion.step_rate_spm(series.xy_px, series.time_s)
    if np.isfinite(spm) and spm < motion.SLOW_MOTION_MAX_SPM:
        series, found_slow, note = _slow_motion(series, spm, file_fps)
        found.append(found_slow)
        notes.append(note)
    return series, found, notes


def _slow_motion(
    series: PoseSeries, spm: float, file_fps: float
) -> tuple[PoseSeries, dict[str, str], str]:
    """Re-time a clip whose step rate is too slow for any walker or runner."""
    capture_now = float(series.meta.get("capture_fps") or file_fps)
    # Series saved before the source was recorded: a capture rate unlike the file's was given.
    source = series.meta.get("capture_fps_source") or (
        "user" if abs(capture_now - file_fps) > 1e-6 else None)
    # Step rate in file time (the rate gaitcheck's own clock shows without slow-motion info).
    file_factor = file_fps / capture_now if source in ("user", "metadata") else 1.0
    cands = motion.capture_fps_candidates(spm * file_factor, file_fps)
    names = ", ".join(f"{c:g}" for c, _ in cands) or "none of 60, 120, 240, 480, 960"
    if source in ("user", "metadata") or len(cands) != 1:
        given = (f" even at the capture rate of {capture_now:g} fps"
                 if source in ("user", "metadata") else "")
        raise AnalysisError(
            f"{_name(series)} looks like slow motion: the legs swing at {spm:.0f} steps/min"
            f"{given}, which no runner or walker does; give the real capture rate with "
            f"--capture-fps (running-like at: {names} fps)."
        )
    capture, spm_real = cands[0]
    factor = capture / file_fps
    series = series.with_arrays(time_s=series.time_s / factor, fps=series.fps * factor,
                                meta={**series.meta, "capture_fps": capture,
                                      "capture_fps_source": "detected"})
    msg = (f"This looks like slow motion: the legs swing at {spm:.0f} steps/min in file time, "
           f"which no runner does; it was analysed as filmed at {capture:g} fps ({spm_real:.0f} "
           f"steps/min). If that is wrong, give the real rate with --capture-fps.")
    return series, reason("slow_motion_suspected", msg), msg


def _repeats(series: PoseSeries) -> NDArray[np.bool_]:
    """Frames that repeat the previous picture: from the video scan when the pose step made
    one (``meta["repeated_frames"]``, decode indices), else identical landmark rows."""
    listed = series.meta.get("repeated_frames")
    if listed is not None:
        assert series.frame_index is not None
        return np.isin(series.frame_index, np.asarray(listed, dtype=np.int64))
    return motion.repeated_mask(series.xy_px)


def _take(series: PoseSeries, rows: NDArray[np.int64]) -> PoseSeries:
    """The series restricted to some frames (rows in time order)."""
    assert series.frame_index is not None
    return series.with_arrays(
        xy_px=series.xy_px[rows], world_m=series.world_m[rows],
        visibility=series.visibility[rows], presence=series.presence[rows],
        time_s=series.time_s[rows], frame_index=series.frame_index[rows],
    )


def _provenance_reasons(series: PoseSeries) -> list[dict[str, str]]:
    """Reasons known from the pose step: orientation, several people."""
    meta = series.meta
    out: list[dict[str, str]] = []
    turn = int(meta.get("turn_deg") or 0)
    if turn:
        how = "upside down" if turn == 180 else "lying on its side"
        out.append(reason(
            "orientation",
            f"The picture showed the runner {how} (the video's rotation tag is missing or "
            f"wrong); gaitcheck turned it {turn} deg clockwise and measured it upright.",
        ))
    people = int(meta.get("people_max") or 1)
    jumps = motion.identity_jumps(series.xy_px, series.time_s)
    if jumps:
        out.append(reason(
            "multiple_people",
            f"The tracked body jumped {jumps} time{'s' if jumps > 1 else ''} between two "
            "frames further than anyone can move, so the pose model switched between people "
            "(or onto something else); check on the overlay that the skeleton stays on the "
            "runner, and film the runner alone.",
        ))
    elif people > 1:
        unsure = "" if meta.get("people_tracked_largest", True) else (
            " The person followed was not always the largest in view, so check on the overlay "
            "that the skeleton stays on the runner.")
        out.append(reason(
            "multiple_people",
            f"Up to {people} people were seen; gaitcheck followed one runner, the one it found "
            f"first, through the clip.{unsure} Film the runner alone to be sure.",
        ))
    return out


def truncation_sentence(truncated: dict[str, Any]) -> str:
    """The note for a video that ends before its announced length."""
    return (f"The file ends at {truncated['ends_at_s']:.1f} s of {truncated['announced_s']:.1f} "
            "s; it may be incomplete (an interrupted copy or download), so only that part was "
            "analysed.")


def contact_time_is_approximate(fps: float, contact_time_ms: float | None) -> bool:
    """Whether a contact time measured at ``fps`` is too coarse to state plainly.

    True when one frame period plus the toe-off bias exceeds ``CONTACT_TIME_MAX_ERROR_SHARE``
    of the contact time, or when there is no contact time.
    """
    if contact_time_ms is None or not np.isfinite(contact_time_ms) or contact_time_ms <= 0:
        return True
    error_ms = 1000.0 / fps + CONTACT_TIME_TO_BIAS_MS
    return bool(error_ms > CONTACT_TIME_MAX_ERROR_SHARE * contact_time_ms)


def _flag_far_leg(curves: dict[str, Any], near: str | None) -> dict[str, Any]:
    """Mark the far leg's curves on a side view (partly hidden, so less reliable)."""
    if near is not None:
        far = "right" if near == "left" else "left"
        for block in curves.values():
            if isinstance(block.get(far), dict):
                block[far]["far_leg"] = True
    return curves


def _name(series: PoseSeries) -> str:
    return Path(series.source).name if series.source else "the pose series"


def _visibility_at_ic(vis: Array, time_s: Array, steps: StepTable, side: str) -> Array:
    _, knee, ankle, heel, _ = LEG[side]
    frames = np.clip(np.searchsorted(time_s, steps.ic_time_s), 0, len(time_s) - 1)
    return np.asarray(vis[frames][:, [knee, ankle, heel]].mean(axis=1))


def _quality(
    series: PoseSeries, vis: Array, xy: Array, cleaned: Any, vres: ViewResult, steps: StepTable
) -> tuple[dict[str, Any], list[str], str | None]:
    notes: list[str] = []
    reasons: list[str] = []
    leg_vis = {s: float(np.mean(vis[:, list(LEG[s][1:])])) for s in SIDES}
    near: str | None = None
    roll: float | None = None
    if vres.label.startswith("side"):
        near = max(leg_vis, key=lambda s: leg_vis[s])
        far = "right" if near == "left" else "left"
        notes.append(f"Side view: the {near} leg is nearer the camera; {far}-leg values are less "
                     "reliable (partly hidden) and carry more uncertainty.")
        roll = _side_roll_deg(xy, series.time_s, steps, near, leg_length_px(xy, near))
        if roll is not None and abs(roll) > GROUND_TILT_NOTE_DEG:
            notes.append(f"The ground line is tilted by about {roll:.1f} deg in the image: the "
                         "camera is not level or the treadmill is inclined; angles are measured "
                         "against the image vertical.")
        if roll is not None and abs(roll) > GROUND_TILT_REASON_DEG:
            reasons.append(f"ground line tilted {roll:.0f} deg (camera not level)")
    else:
        obliq = np.degrees(np.arctan2(xy[:, 24, 1] - xy[:, 23, 1],
                                      np.abs(xy[:, 24, 0] - xy[:, 23, 0])))
        mean_obliq = float(np.nanmean(obliq)) if np.isfinite(obliq).any() else 0.0
        if abs(mean_obliq) > HIP_LINE_TILT_REASON_DEG:
            reasons.append(f"hip line tilted {mean_obliq:.1f} deg on average (camera roll or "
                           "a standing pelvic tilt)")
            notes.append(f"On average the hip line leans {mean_obliq:.1f} deg: check that the "
                         "camera is level; pelvic drop was not corrected for it.")
    if vres.confidence < 0.5:
        reasons.append(f"camera view unclear (confidence {vres.confidence:.2f})")
        notes.append("The camera view was hard to tell; film straight from the side or from "
                     "behind, or set --view.")
    if series.fps < 60:
        notes.append(f"Filmed at {series.fps:.0f} fps: 60 fps or more sharpens the timing of "
                     "foot strikes; ground contact time needs 120 fps or more.")
    pose_share = series.pose_share
    if pose_share < 0.9:
        notes.append(f"A person was found in {pose_share:.0%} of frames; keep the whole "
                     "body in frame for the whole clip.")
    low = [s for s, v in leg_vis.items() if v < 0.5]
    if low and not vres.label.startswith("side"):
        reasons.append(f"low landmark visibility on the {' and '.join(low)} leg")
    if cleaned.swap_frames_repaired:
        notes.append(f"{cleaned.swap_frames_repaired} frames had the left and right legs mixed "
                     "up by the pose model and were relabelled.")
    if cleaned.collapse_frames_repaired:
        notes.append(f"{cleaned.collapse_frames_repaired} leg landmark positions had snapped onto "
                     "the other leg and were replaced by interpolation.")
    quality = {
        "near_leg": near,
        "swap_frames_repaired": int(cleaned.swap_frames_repaired),
        "collapse_frames_repaired": int(cleaned.collapse_frames_repaired),
        "gap_frames_filled": int(cleaned.gap_frames_filled),
        "outliers_removed": int(cleaned.outliers_removed),
        "camera_roll_deg": None if roll is None else round(roll, 2),
        "mean_visibility": {f"{s}_leg": round(v, 3) for s, v in leg_vis.items()},
        "notes": notes,
    }
    return quality, reasons, near


def _side_roll_deg(
    xy: Array, time_s: Array, steps: StepTable, near: str, leg_px: float
) -> float | None:
    """Camera roll from the line the near toe traces while on the ground (+ = clockwise)."""
    toe = LEG[near][4]
    m = (steps.foot == near) & np.isfinite(steps.to_time_s)
    if m.sum() < 2:
        return None
    a = steps.ic_time_s[m]
    b = steps.to_time_s[m]
    # The middle half of each stance: the toe is flat on the ground there.
    inside = np.zeros(time_s.shape, dtype=bool)
    for lo, hi in zip(a + 0.25 * (b - a), b - 0.25 * (b - a), strict=True):
        inside |= (time_s >= lo) & (time_s <= hi)
    pts = xy[inside, toe]
    pts = pts[np.isfinite(pts).all(axis=1)]
    if pts.shape[0] < 5 or not np.ptp(pts[:, 0]) >= ROLL_MIN_BASELINE_LEG * leg_px:
        return None
    slope = np.polyfit(pts[:, 0], pts[:, 1], 1)[0]
    return float(np.degrees(np.arctan(slope)))


def _video_block(series: PoseSeries) -> dict[str, Any]:
    meta = series.meta
    return {
        "path": series.source,
        "sha256": series.source_sha256,
        "width_px": series.frame_size[0],
        "height_px": series.frame_size[1],
        "rotation_deg": series.rotation_deg,
        "fps": series.fps,
        "nominal_fps": float(meta.get("nominal_fps", series.fps)),
        "variable_frame_rate": bool(meta.get("variable_frame_rate", False)),
        "n_frames": series.n_frames,
        "duration_s": round(series.duration_s, 4),
        "pose_share": round(series.pose_share, 4),
        "model": series.model,
        # How the real frame rate was known: user (--capture-fps), metadata (the phone's
        # capture-rate tag), detected (slow motion recognised) or file.
        "capture_fps_source": str(meta.get("capture_fps_source") or "file"),
        "turn_deg": int(meta.get("turn_deg") or 0),
        "people_max": int(meta.get("people_max") or 1),
    }


def _frame_of(series: PoseSeries, t: Array) -> NDArray[np.int64]:
    """Decode index of the frame nearest each time."""
    assert series.frame_index is not None
    return np.asarray(series.frame_index[nearest_sample(series.time_s, t)])


def _events_block(events: Events, series: PoseSeries) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for side in SIDES:
        for kind, times in (("initial_contact", events.ic_time_s[side]),
                            ("toe_off", events.to_time_s[side])):
            t = times[np.isfinite(times)]
            for f, tt in zip(_frame_of(series, t).tolist(), t.tolist(), strict=True):
                rows.append({"foot": side, "kind": kind, "frame": int(f),
                             "time_s": round(float(tt), 4)})
    rows.sort(key=lambda r: (r["time_s"], r["kind"]))
    return rows


def _steps_block(
    steps: StepTable, per_step: dict[str, Array], series: PoseSeries, side_view: bool
) -> list[dict[str, Any]]:
    ic_f = _frame_of(series, steps.ic_time_s)
    to_ok = np.isfinite(steps.to_time_s)
    to_f = np.where(to_ok, _frame_of(series, np.nan_to_num(steps.to_time_s)), -1)
    strike = strike_class(per_step.get("foot_angle_ic_deg", np.full(steps.n, np.nan)))
    rows: list[dict[str, Any]] = []
    for i in np.flatnonzero(steps.valid):
        row: dict[str, Any] = {
            "index": len(rows), "foot": str(steps.foot[i]),
            "ic_frame": int(ic_f[i]), "ic_time_s": float(steps.ic_time_s[i]),
            "to_frame": int(to_f[i]) if to_ok[i] else None,
            "to_time_s": float(steps.to_time_s[i]) if to_ok[i] else None,
            "step_time_s": float(steps.step_time_s[i]),
        }
        for k in STEP_COLUMNS[7:]:
            if k == "foot_strike":
                row[k] = str(strike[i]) or None if side_view else None
            elif k in per_step:
                row[k] = float(per_step[k][i])
            else:
                row[k] = None
        rows.append(row)
    return rows


def _clean_json(obj: Any) -> Any:
    """Round floats, turn NaN/inf into None, numpy scalars into Python ones."""
    if isinstance(obj, dict):
        return {k: _clean_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean_json(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return round(obj, 4) if math.isfinite(obj) else None
    return obj
