"""Video probing, frame streaming, timestamps, rotation tags and writing."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from _props import prop
from conftest import needs_shared
from hypothesis import given
from hypothesis import strategies as st

from gaitcheck.errors import VideoError
from gaitcheck.video import (
    VideoWriter,
    iter_frames,
    monotonic_ms,
    next_timestamp_ms,
    probe,
    read_frames,
    repair_monotonic,
    scaled_size,
    tag_rotation,
)


def pattern(i: int, w: int = 64, h: int = 48) -> np.ndarray:
    """A frame whose top-left quadrant is bright, so orientation is visible; level varies."""
    img = np.full((h, w, 3), 40 + (5 * i) % 120, np.uint8)
    img[: h // 2, : w // 2] = 230
    return img


def write_clip(path: Path, times_s: list[float] | None = None, n: int = 10,
               w: int = 64, h: int = 48) -> Path:
    with VideoWriter(path, w, h, 30, crf=10) as wr:
        for i in range(len(times_s) if times_s else n):
            wr.write(pattern(i, w, h), None if times_s is None else times_s[i])
    return path


# ---------------------------------------------------------------------------- timestamps
def test_repair_monotonic_duplicates_and_jumps() -> None:
    t = np.array([0.0, 0.033, 0.033, 0.02, 0.1, 0.5, 0.5])
    r = repair_monotonic(t, 0.001)
    np.testing.assert_allclose(r, [0.0, 0.033, 0.034, 0.035, 0.1, 0.5, 0.501])
    assert np.all(np.diff(r) > 0)
    good = np.array([0.0, 0.1, 0.3])
    np.testing.assert_array_equal(repair_monotonic(good, 0.001), good)  # untouched
    with pytest.raises(ValueError):
        repair_monotonic(good, 0.0)


def test_monotonic_ms_for_mediapipe() -> None:
    ms = monotonic_ms(np.array([0.0, 0.0333, 0.0334, 0.0334, 0.02, 0.1, np.nan]))
    assert ms.tolist() == [0, 33, 34, 35, 36, 100, 101]
    assert next_timestamp_ms(0.05, None) == 50
    assert next_timestamp_ms(0.05, 50) == 51


@given(st.lists(st.floats(-10, 1000, allow_nan=False), min_size=1, max_size=60))
def test_repairs_are_strictly_increasing(values: list[float]) -> None:
    t = np.array(values)
    assert np.all(np.diff(monotonic_ms(t)) >= 1)
    r = repair_monotonic(t, 1e-3)
    assert np.all(np.diff(r) > 0)
    assert np.all(r >= t)  # only ever nudged forward


def test_scaled_size() -> None:
    assert scaled_size((3840, 2160), 1920) == (1920, 1080)
    assert scaled_size((720, 1280), 1920) == (720, 1280)
    assert scaled_size((720, 1280), None) == (720, 1280)
    # A whole factor when it keeps 3/4 of the bound (a box average), else the bound exactly.
    assert scaled_size((1080, 1920), 1280) == (540, 960)
    assert scaled_size((1920, 1080), 1280) == (960, 540)
    assert scaled_size((2160, 3840), 1280) == (720, 1280)
    assert scaled_size((1600, 900), 1280) == (1280, 720)  # 800 px would keep only 5/8
    assert scaled_size((1081, 1920), 1280) == (721, 1280)  # 1081 px does not halve


@prop()
@given(st.integers(16, 8000), st.integers(16, 8000), st.integers(64, 4096))
def test_scaled_size_bound(w: int, h: int, max_side: int) -> None:
    sw, sh = scaled_size((w, h), max_side)
    if max(w, h) <= max_side:
        assert (sw, sh) == (w, h)
        return
    # Within the bound, and never below 3/4 of it (the whole-factor rule's floor).
    assert 0.75 * max_side <= max(sw, sh) <= max_side
    # The shape is kept: exactly for a whole factor, to the short side's rounding otherwise.
    long_in, short_in = max(w, h), min(w, h)
    long_out, short_out = max(sw, sh), min(sw, sh)
    assert (sw >= sh) == (w >= h) or w == h or sw == sh
    assert abs(short_out - short_in * long_out / long_in) <= 1.0


# ---------------------------------------------------------------------------- writer
def test_writer_round_trip_exact_times_and_even_size(tmp_path: Path) -> None:
    times = [0.0, 0.033, 0.05, 0.1, 0.101, 0.18, 0.2, 0.26]
    path = write_clip(tmp_path / "vfr.mp4", times, w=65, h=47)
    info = probe(path)
    assert info.frame_size == (66, 48)  # padded to even for yuv420p
    assert info.codec == "h264" and info.n_frames == 8 and info.variable_frame_rate
    frames = list(iter_frames(path))
    assert [f.index for f in frames] == list(range(8))
    np.testing.assert_allclose([f.time_s for f in frames], times, atol=1e-4)
    # the content survives encoding: bright top-left quadrant
    img = frames[0].rgb
    assert img[5, 5].mean() > 200 and img[40, 60].mean() < 80
    assert not (tmp_path / "vfr.mp4.part").exists()


def test_writer_keeps_colours(tmp_path: Path) -> None:
    # Written frames go RGB -> I420 through OpenCV and come back through FFmpeg's decoder: the
    # two must agree on the matrix and range (BT.601, limited), or colours shift (a red becomes
    # orange, greys lift). Basis of the tolerance: 8-bit limited-range YUV rounds to about one
    # level per channel and crf 10 adds about one more on flat patches.
    colours = [(217, 84, 30), (31, 111, 180), (255, 255, 255), (0, 0, 0), (128, 128, 128),
               (0, 200, 0), (224, 172, 150)]
    img = np.zeros((64, 32 * len(colours), 3), np.uint8)
    for k, rgb in enumerate(colours):
        img[:, 32 * k:32 * (k + 1)] = rgb
    path = tmp_path / "colours.mp4"
    with VideoWriter(path, img.shape[1], img.shape[0], 30, crf=10) as wr:
        for _ in range(3):
            wr.write(img)
    back = next(iter_frames(path)).rgb.astype(float)
    for k, rgb in enumerate(colours):
        patch = back[16:48, 32 * k + 8:32 * k + 24].reshape(-1, 3).mean(axis=0)
        assert np.abs(patch - np.array(rgb)).max() <= 3.0, (rgb, patch)


def test_writer_constant_rate_and_webm(tmp_path: Path) -> None:
    path = tmp_path / "c.webm"
    with VideoWriter(path, 64, 48, 29.97) as w:
        for i in range(12):
            w.write(pattern(i))
    info = probe(path)
    assert info.codec == "vp9" and info.n_frames == 12 and not info.variable_frame_rate
    assert info.nominal_fps == pytest.approx(29.97, abs=0.01)
    times = [f.time_s for f in iter_frames(path)]
    np.testing.assert_allclose(np.diff(times), float(1 / Fraction(30000, 1001)), atol=1.5e-3)


def test_writer_discards_file_on_error(tmp_path: Path) -> None:
    path = tmp_path / "x.mp4"
    with pytest.raises(RuntimeError), VideoWriter(path, 64, 48, 30) as w:
        w.write(pattern(0))
        raise RuntimeError("boom")
    assert not path.exists() and not (tmp_path / "x.mp4.part").exists()
    with VideoWriter(path, 64, 48, 30) as w, pytest.raises(ValueError):
        w.write(np.zeros((10, 10, 3), np.uint8))
    with VideoWriter(tmp_path / "y.mp4", 64, 48, 30) as w:
        w.write(pattern(0), 0.1)
        with pytest.raises(ValueError, match="does not increase"):
            w.write(pattern(1), 0.1)


# ---------------------------------------------------------------------------- rotation
@pytest.mark.parametrize("rotation", [90, 270, 180])
def test_rotation_tag_gives_upright_frames(tmp_path: Path, rotation: int) -> None:
    upright = pattern(0, 64, 48)
    # Store the frames turned the other way, so applying the tag restores `upright`.
    k = {90: 1, 270: -1, 180: 2}[rotation]
    stored = np.ascontiguousarray(np.rot90(upright, k=k))
    src = tmp_path / "stored.mp4"
    with VideoWriter(src, stored.shape[1], stored.shape[0], 30, crf=10) as w:
        for _ in range(5):
            w.write(stored)
    dst = tag_rotation(src, tmp_path / "tagged.mp4", rotation)
    info = probe(dst)
    assert info.rotation_deg == rotation
    assert info.frame_size == (64, 48) and info.n_frames == 5
    frame = next(iter_frames(dst)).rgb
    assert frame.shape == (48, 64, 3)
    assert np.abs(frame.astype(int) - upright).mean() < 4
    assert read_frames(dst, [3])[0].shape == (48, 64, 3)


# ---------------------------------------------------------------------------- streaming
def test_trim_resize_and_read_frames(tmp_path: Path) -> None:
    path = write_clip(tmp_path / "c.mp4", n=30, w=640, h=480)
    frames = list(iter_frames(path, start_s=0.2, end_s=0.5, max_side_px=320))
    assert [f.index for f in frames] == list(range(6, 15))
    assert frames[0].rgb.shape == (240, 320, 3)
    got = read_frames(path, [14, 6, 6])
    assert [g.shape for g in got] == [(480, 640, 3)] * 3
    full = {f.index: f.rgb for f in iter_frames(path)}
    np.testing.assert_array_equal(got[0], full[14])
    np.testing.assert_array_equal(got[1], full[6])
    with pytest.raises(VideoError, match="no decodable frame 99"):
        read_frames(path, [99])


@needs_shared
def test_probe_side_clip(side_clip: Path) -> None:
    info = probe(side_clip)
    assert (info.n_frames, info.nominal_fps, info.frame_size) == (360, 30.0, (720, 1280))
    assert info.rotation_deg == 0 and not info.variable_frame_rate
    assert info.duration_s == pytest.approx(12.0)
    times = np.array([f.time_s for f in iter_frames(side_clip, end_s=1.0)])
    np.testing.assert_allclose(times, np.arange(30) / 30, atol=1e-6)


# ---------------------------------------------------------------------------- bad input
def test_bad_files_are_one_sentence_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(1).bytes(20000))
    empty = tmp_path / "empty.mp4"
    empty.touch()
    cases = {
        junk: "cannot be read as a video",
        empty: "empty",
        tmp_path / "missing.mp4": "does not exist",
        tmp_path: "not a file",
    }
    for path, words in cases.items():
        with pytest.raises(VideoError, match=words) as err:
            probe(path)
        assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_zero_frame_video(tmp_path: Path) -> None:
    import av

    path = tmp_path / "zero.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        c.start_encoding()
    with pytest.raises(VideoError, match="no video frames"):
        probe(path)


def test_truncated_video(tmp_path: Path) -> None:
    full = write_clip(tmp_path / "full.mp4", n=60, w=320, h=240)
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.3)])
    with pytest.raises(VideoError, match="truncated"):
        probe(cut)
