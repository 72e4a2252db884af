"""The annotated video: frame accuracy, browser-safe format, timing, drawing."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from gaitcheck.landmarks import LEFT_HEEL, LEFT_HIP, LEFT_KNEE, RIGHT_HIP, RIGHT_KNEE
from gaitcheck.overlay import (
    CADENCE_STEPS,
    FAR_RGB,
    LEFT_RGB,
    RIGHT_RGB,
    TEXT_RGB,
    OverlayPainter,
    write_overlay,
)
from gaitcheck.series import PoseSeries, empty_arrays
from gaitcheck.video import VideoWriter, iter_frames, probe

FPS = 30.0
W, H = 320, 240
DOT_Y = 200  # below the panel in the top-left corner


def marker_x(i: int) -> int:
    """x of the white dot in frame i: jumps far between neighbouring frames."""
    return 40 + (i * 53) % 240


def make_marker_video(path: Path, n: int, size: tuple[int, int] = (W, H)) -> Path:
    """A video whose frame i is black with a white dot at (marker_x(i), DOT_Y)."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    with VideoWriter(path, w, h, FPS, crf=12) as writer:
        for i in range(n):
            img = np.zeros((h, w, 3), np.uint8)
            img[(xx - marker_x(i)) ** 2 + (yy - DOT_Y) ** 2 <= 36] = 255
            writer.write(img)
    return path


def marker_series(n: int, size: tuple[int, int] = (W, H), first: int = 0) -> PoseSeries:
    """Left hip 40 px above the dot and left knee on it, for decode frames first..first+n-1."""
    arr: dict[str, Any] = empty_arrays(n)
    idx = np.arange(first, first + n)
    xs = np.array([marker_x(int(i)) for i in idx], dtype=float)
    arr["xy_px"][:, LEFT_KNEE] = np.column_stack([xs, np.full(n, DOT_Y)])
    arr["xy_px"][:, LEFT_HIP] = np.column_stack([xs, np.full(n, DOT_Y - 40)])
    arr["visibility"][:, [LEFT_HIP, LEFT_KNEE]] = 1.0
    arr["presence"][:, [LEFT_HIP, LEFT_KNEE]] = 1.0
    return PoseSeries(time_s=idx / FPS, fps=FPS, frame_size=size, frame_index=idx,
                      source="marker", **arr)


def minimal_analysis(n_frames: int, step_frames: int = 10) -> dict[str, Any]:
    """The parts of analysis.json the overlay reads (docs/analysis-format.md)."""
    events = []
    steps = []
    for k, frame in enumerate(range(5, n_frames, step_frames)):
        foot = "left" if k % 2 == 0 else "right"
        events.append({"foot": foot, "kind": "initial_contact", "frame": frame,
                       "time_s": frame / FPS})
        steps.append({"index": k, "foot": foot, "ic_frame": frame, "ic_time_s": frame / FPS,
                      "overstride_pct_leg": 10.0})
    return {
        "view": {"label": "side-left", "confidence": 0.9, "source": "auto"},
        "quality": {"near_leg": "left"},
        "events": events,
        "steps": steps,
        "metrics": {},
    }


def stream_facts(path: Path) -> dict[str, Any]:
    """Codec facts and packet times of the first video stream (PyAV)."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        assert s.time_base is not None
        pts = sorted(p.pts for p in c.demux(s) if p.pts is not None)
        return {
            "codec": s.codec_context.name, "pix_fmt": s.codec_context.pix_fmt,
            "profile": s.codec_context.profile, "width": s.width, "height": s.height,
            "times": [float(p * s.time_base) for p in pts],
            "time_base": s.time_base, "format": c.format.name,
        }


@pytest.fixture(scope="module")
def marker_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_marker_video(tmp_path_factory.mktemp("marker") / "marker.mp4", 45)


def test_drawn_landmark_lands_on_the_marker_in_the_same_frame(
    marker_clip: Path, tmp_path: Path
) -> None:
    n = 45
    out = write_overlay(marker_clip, marker_series(n), minimal_analysis(n),
                        tmp_path / "overlay.mp4", progress=False)
    frames = list(iter_frames(out))
    assert [f.index for f in frames] == list(range(n))
    colour = np.array(LEFT_RGB, dtype=float)
    for f in frames:
        i = f.index
        here = f.rgb[DOT_Y - 1:DOT_Y + 2, marker_x(i) - 1:marker_x(i) + 2].reshape(-1, 3)
        err = np.abs(here.astype(float) - colour).max(axis=1).min()
        assert err < 40, f"frame {i}: no left joint on the marker (colour error {err})"
        for j in (i - 1, i + 1):  # the neighbours' marker positions are not painted
            x = marker_x(j)
            other = f.rgb[DOT_Y, x].astype(float)
            assert np.abs(other - colour).max() > 60, f"frame {i} shows frame {j}'s landmark"


def test_output_matches_input_frames_duration_and_plays_in_browsers(
    marker_clip: Path, tmp_path: Path
) -> None:
    n = 45
    out = write_overlay(marker_clip, marker_series(n), minimal_analysis(n),
                        tmp_path / "overlay.mp4", progress=False)
    assert out == tmp_path / "overlay.mp4" and out.is_file()
    assert not list(tmp_path.glob("*.part"))
    src, dst = probe(marker_clip), probe(out)
    assert dst.n_frames == src.n_frames == n
    assert dst.duration_s == pytest.approx(src.duration_s, abs=1e-3)
    assert not dst.variable_frame_rate
    facts_in, facts = stream_facts(marker_clip), stream_facts(out)
    np.testing.assert_allclose(facts["times"], facts_in["times"], atol=1e-4)
    assert facts["codec"] == "h264" and facts["pix_fmt"] == "yuv420p"
    assert facts["profile"] in ("Main", "Baseline", "Constrained Baseline")
    assert facts["width"] % 2 == 0 and facts["height"] % 2 == 0
    data = out.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat"), "moov atom must come first (faststart)"


def test_wide_frames_are_downscaled_to_even_size(tmp_path: Path) -> None:
    clip = make_marker_video(tmp_path / "wide.mp4", 6, size=(1600, 240))
    out = write_overlay(clip, marker_series(6, size=(1600, 240)), minimal_analysis(6),
                        tmp_path / "wide_overlay.mp4", progress=False)
    facts = stream_facts(out)
    assert facts["width"] <= 1280 and facts["width"] % 2 == 0 and facts["height"] % 2 == 0
    assert facts["width"] / facts["height"] == pytest.approx(1600 / 240, rel=0.02)
    # The landmark is scaled with the frame: the knee of frame 3 sits on the scaled marker.
    f = next(fr for fr in iter_frames(out) if fr.index == 3)
    scale = facts["width"] / 1600
    x, y = round(marker_x(3) * scale), round(DOT_Y * scale)
    patch = f.rgb[y - 1:y + 2, x - 1:x + 2].reshape(-1, 3).astype(float)
    assert np.abs(patch - np.array(LEFT_RGB)).max(axis=1).min() < 40


def test_series_range_trims_the_output(marker_clip: Path, tmp_path: Path) -> None:
    series = marker_series(20, first=10)  # decode frames 10..29 of 45
    out = write_overlay(marker_clip, series, minimal_analysis(45), tmp_path / "trim.mp4",
                        progress=False)
    info = probe(out)
    assert info.n_frames == 20
    assert info.duration_s == pytest.approx(20 / FPS, abs=1e-3)
    assert stream_facts(out)["times"][0] == 0.0
    # Output frame k is decode frame 10 + k, with that frame's landmark drawn on its marker.
    for f in iter_frames(out):
        x = marker_x(10 + f.index)
        patch = f.rgb[DOT_Y - 1:DOT_Y + 2, x - 1:x + 2].reshape(-1, 3).astype(float)
        assert np.abs(patch - np.array(LEFT_RGB)).max(axis=1).min() < 40


def test_webm_option_writes_vp9_with_the_same_frames(marker_clip: Path, tmp_path: Path) -> None:
    out = write_overlay(marker_clip, marker_series(45), minimal_analysis(45),
                        tmp_path / "overlay.mp4", progress=False, webm=True)
    webm = out.with_suffix(".webm")
    assert out.is_file() and webm.is_file()
    facts = stream_facts(webm)
    assert facts["codec"] == "vp9" and facts["pix_fmt"] == "yuv420p"
    assert len(facts["times"]) == 45
    np.testing.assert_allclose(facts["times"], stream_facts(out)["times"], atol=2e-3)


def test_failure_leaves_no_file(marker_clip: Path, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    original = OverlayPainter.paint

    def failing(self: OverlayPainter, rgb: Any, frame: int) -> Any:
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("boom")
        return original(self, rgb, frame)

    monkeypatch.setattr(OverlayPainter, "paint", failing)
    with pytest.raises(RuntimeError, match="boom"):
        write_overlay(marker_clip, marker_series(45), minimal_analysis(45),
                      tmp_path / "overlay.mp4", progress=False, webm=True)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- painter
def skeleton_series(n: int = 40) -> PoseSeries:
    """Both hips and knees plus the left heel, fixed positions, on a 320x240 frame."""
    arr: dict[str, Any] = empty_arrays(n)
    arr["xy_px"][:, LEFT_HIP] = (150, 120)
    arr["xy_px"][:, RIGHT_HIP] = (170, 120)
    arr["xy_px"][:, LEFT_KNEE] = (130, 170)
    arr["xy_px"][:, RIGHT_KNEE] = (200, 170)
    arr["xy_px"][:, LEFT_HEEL] = (100, 225)
    arr["visibility"][:] = 1.0
    arr["presence"][:] = 1.0
    return PoseSeries(time_s=np.arange(n) / FPS, fps=FPS, frame_size=(W, H), **arr)


def test_painter_colours_sides_and_keeps_the_input() -> None:
    painter = OverlayPainter(skeleton_series(), minimal_analysis(40), (W, H))
    black = np.zeros((H, W, 3), np.uint8)
    out = painter.paint(black, 0)
    assert out.shape == black.shape and out.dtype == np.uint8
    assert not black.any(), "paint must not modify its input"
    assert tuple(out[170, 130]) == LEFT_RGB
    # side view with the left leg near the camera: the far (right) leg is greyed
    assert tuple(out[170, 200]) == FAR_RGB
    rear = {**minimal_analysis(40), "view": {"label": "rear", "confidence": 0.9,
                                             "source": "auto"}, "quality": {"near_leg": None}}
    out_rear = OverlayPainter(skeleton_series(), rear, (W, H)).paint(black, 0)
    assert tuple(out_rear[170, 130]) == LEFT_RGB and tuple(out_rear[170, 200]) == RIGHT_RGB
    with pytest.raises(ValueError, match="size"):
        painter.paint(np.zeros((H, W + 2, 3), np.uint8), 0)


def test_strike_label_flashes_and_heel_marker_persists() -> None:
    analysis = minimal_analysis(40, step_frames=30)  # left IC at 5, right IC at 35
    painter = OverlayPainter(skeleton_series(), analysis, (W, H))
    black = np.zeros((H, W, 3), np.uint8)

    def left_pixels(img: np.ndarray, y0: int, y1: int, rgb: tuple[int, ...] = LEFT_RGB) -> int:
        region = img[y0:y1, 60:140].astype(int)
        return int((np.abs(region - np.array(rgb)).max(axis=2) < 30).sum())

    before, at, later = (painter.paint(black, f) for f in (4, 5, 5 + painter.flash_frames + 2))
    text = TEXT_RGB["left"]  # labels use a lighter tint of the side colour

    def label_pixels(img: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> int:
        region = img[y0:y1, x0:x1].astype(int)
        return int((np.abs(region - np.array(text)).max(axis=2) < 30).sum())

    # The heel (100, 225) is too near the bottom for a label below it, so "L strike" goes
    # behind the foot (the runner faces image-left): to the right of the ring, never on it.
    rr = 2 * (painter.radius + 3)
    beside = (200, H, 100 + rr, W)
    assert label_pixels(before, *beside) == 0
    assert label_pixels(at, *beside) > label_pixels(later, *beside) + 20
    on_foot = (225 - rr, 225 + rr, 100 - rr, 100 + rr)
    assert label_pixels(at, *on_foot) == 0
    ring = (218, 233)  # the heel marker at (100, 225)
    assert left_pixels(later, *ring) > 10 and left_pixels(before, *ring) == 0


def test_running_cadence_uses_recent_steps_only() -> None:
    analysis = minimal_analysis(200, step_frames=10)  # one step per 1/3 s: 180 steps/min
    painter = OverlayPainter(skeleton_series(200), analysis, (W, H))
    assert np.isnan(painter.cadence_at(4))
    assert np.isnan(painter.cadence_at(5))  # one contact: no step yet
    # a rate from one or two steps is not a cadence: the panel waits for CADENCE_STEPS steps
    assert np.isnan(painter.cadence_at(15))
    assert painter.cadence_at(5 + 10 * CADENCE_STEPS) == pytest.approx(180.0)
    assert painter.cadence_at(199) == pytest.approx(180.0)


def test_cadence_not_shown_across_a_missed_step() -> None:
    analysis = minimal_analysis(200, step_frames=10)
    del analysis["steps"][10]  # a contact the analysis did not keep: a gap of two steps
    analysis["events"] = [e for e in analysis["events"] if e["frame"] != 105]
    painter = OverlayPainter(skeleton_series(200), analysis, (W, H))
    assert np.isnan(painter.cadence_at(120))  # window spans the gap: no halved rate
    assert painter.cadence_at(199) == pytest.approx(180.0)  # window past the gap


def test_panel_shows_only_measured_frames() -> None:
    series = skeleton_series(40)
    vis = series.visibility.copy()
    vis[20] = 0.1  # a frame without a usable pose
    series = series.with_arrays(visibility=vis)
    painter = OverlayPainter(series, minimal_analysis(40, step_frames=10), (W, H))
    assert painter.shows(10, 10, "left") and not painter.shows(20, 20, "left")
    assert not painter.shows(2, 2, "left")  # before the first analysed step


def test_time_base_is_exact_for_ntsc_rates(tmp_path: Path) -> None:
    # 29.97 fps: output times equal the source's container times.
    clip = tmp_path / "ntsc.mp4"
    n = 12
    with VideoWriter(clip, W, H, 30000 / 1001) as w:
        for _ in range(n):
            w.write(np.zeros((H, W, 3), np.uint8))
    series = marker_series(n)
    series = series.with_arrays(time_s=np.arange(n) * 1001 / 30000, fps=30000 / 1001)
    out = write_overlay(clip, series, minimal_analysis(n), tmp_path / "o.mp4", progress=False)
    np.testing.assert_allclose(stream_facts(out)["times"], stream_facts(clip)["times"],
                               atol=1 / 90000)
    assert probe(out).nominal_fps == pytest.approx(float(Fraction(30000, 1001)), rel=1e-3)


# ---------------------------------------------------------------------------- real analysis
def test_overlay_of_a_real_analysis_of_the_synthetic_runner(tmp_path: Path) -> None:
    from gaitcheck.analysis import analyze_pose
    from gaitcheck.synthetic import generate

    run = generate(fps=30.0, duration_s=3.0)
    series = run.series
    analysis = analyze_pose(series).to_dict()
    w, h = series.frame_size  # 469 x 650: odd width, padded to even by the writer
    clip = tmp_path / "runner.mp4"
    with VideoWriter(clip, w, h, series.fps) as writer:
        for _ in range(series.n_frames):
            writer.write(np.full((h, w, 3), 90, np.uint8))
    out = write_overlay(clip, series, analysis, tmp_path / "overlay.mp4", progress=False)
    info = probe(out)
    assert info.n_frames == series.n_frames
    assert info.duration_s == pytest.approx(probe(clip).duration_s, abs=1e-3)
    assert info.width_px % 2 == 0 and info.height_px % 2 == 0

    painter = OverlayPainter(series, analysis, (info.width_px, info.height_px))
    assert painter.cadence_at(series.n_frames - 1) == pytest.approx(
        run.truth["cadence_spm"], rel=0.03)
    # At every left contact the heel marker is drawn around the heel of that very frame.
    frames = {f.index: f.rgb for f in iter_frames(out)}
    left_ics = [e["frame"] for e in analysis["events"]
                if e["foot"] == "left" and e["kind"] == "initial_contact"]
    assert len(left_ics) >= 3
    for f in left_ics:
        x, y = (int(round(v)) for v in series.xy_px[f, LEFT_HEEL])
        patch = frames[f][y - 14:y + 15, x - 14:x + 15].reshape(-1, 3).astype(int)
        near_colour = np.abs(patch - np.array(LEFT_RGB)).max(axis=1) < 40
        assert near_colour.sum() > 10, f"no heel marker at left contact frame {f}"


def test_poster_is_the_painted_middle_step(tmp_path: Path) -> None:
    clip = tmp_path / "c.mp4"
    n = 40
    with VideoWriter(clip, W, H, FPS) as w:
        for _ in range(n):
            w.write(np.zeros((H, W, 3), np.uint8))
    poster = tmp_path / "poster.jpg"
    write_overlay(clip, skeleton_series(n), minimal_analysis(n), tmp_path / "o.mp4",
                  progress=False, poster_path=poster)
    from PIL import Image

    img = np.asarray(Image.open(poster))
    assert img.shape == (H, W, 3)
    # the painted skeleton (left thigh, blue) is on the poster, on a black source frame
    assert np.abs(img[170, 130].astype(int) - np.array(LEFT_RGB)).max() < 40
