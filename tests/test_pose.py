"""Pose extraction on real clips: sizes, anatomy, rotation, VFR, cache, bad input, models."""

from __future__ import annotations

import io
import urllib.error
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import needs_shared

from gaitcheck import landmarks as lm
from gaitcheck import pose
from gaitcheck.config import Config, PoseConfig
from gaitcheck.errors import ModelError, NoPersonError, VideoError
from gaitcheck.models import model_cache_dir, resolve_model
from gaitcheck.series import PoseSeries
from gaitcheck.video import VideoWriter, iter_frames, probe, tag_rotation

FAST = PoseConfig(use_cache=False)


# ---------------------------------------------------------------------------- models (offline)
def test_model_download_failure_is_one_sentence(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    def offline(url: str, timeout: float) -> Any:
        raise urllib.error.URLError("no network")

    with pytest.raises(ModelError, match="Cannot download the 'heavy' pose model") as err:
        resolve_model("heavy", opener=offline)
    assert "no network" in str(err.value)
    with pytest.raises(ModelError, match="Cannot download"):
        resolve_model("lite", url_template="http://127.0.0.1:9/{name}.task")

    class Reset(io.RawIOBase):
        """A connection that sends some bytes, then breaks: the .part file exists by then."""

        sent = False

        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            if self.sent:
                raise ConnectionResetError("connection reset by peer")
            self.sent = True
            b[:4] = b"PK\x03\x04"
            return 4

    with pytest.raises(ModelError, match="connection reset"):
        resolve_model("heavy", opener=lambda url, timeout: io.BufferedReader(Reset()))
    # Nothing half-written stays in the model cache, where the download goes.
    cache = model_cache_dir()
    assert cache.is_dir()
    assert not list(cache.glob("*.part")) and not list(cache.glob("*.task"))


def test_model_download_is_verified_and_recorded(tmp_path: Path) -> None:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("pose_detector.tflite", b"x" * 100)
    good = buf.getvalue()
    model = resolve_model("heavy", opener=lambda url, timeout: io.BytesIO(good))
    assert model.origin == "downloaded" and model.path.read_bytes() == good
    assert model.path.with_name(model.path.name + ".sha256").read_text().startswith(model.sha256)
    assert resolve_model("heavy", download=False).origin == "cache"
    model.path.write_bytes(good + b"corrupt")
    with pytest.raises(ModelError, match="corrupted"):
        resolve_model("heavy")
    with pytest.raises(ModelError, match="not a MediaPipe model bundle"):
        resolve_model("lite", opener=lambda url, timeout: io.BytesIO(b"<html>404</html>"))
    with pytest.raises(ModelError, match="neither lite, full, heavy"):
        resolve_model("medium")


def test_bundled_full_model() -> None:
    m = resolve_model("full")
    assert m.origin == "bundled"
    assert m.sha256.startswith("e90b72371e86")


# ---------------------------------------------------------------------------- the side clip
@needs_shared
def test_side_clip_series(side_series: PoseSeries) -> None:
    s = side_series
    assert s.n_frames == 360 and s.fps == 30.0 and s.frame_size == (720, 1280)
    assert s.rotation_deg == 0 and s.pose_share >= 0.9
    np.testing.assert_allclose(s.time_s, np.arange(360) / 30, atol=1e-6)
    assert s.meta["nominal_fps"] == 30.0 and s.meta["variable_frame_rate"] is False
    assert s.meta["model_sha256"].startswith("e90b72") and len(s.source_sha256) == 64
    y = s.xy_px[s.has_pose, :, 1]
    for side in lm.SIDES:
        hip, knee, ankle = lm.LEG[side][:3]
        assert np.mean((y[:, hip] < y[:, knee]) & (y[:, knee] < y[:, ankle])) > 0.9
    # landmarks in pixels of the full frame, world landmarks in metres
    assert 0 < np.nanmedian(s.xy_px[:, lm.LEFT_HIP, 0]) < 720
    assert 0.5 < np.nanmedian(s.xy_px[:, lm.LEFT_ANKLE, 1]) / 1280 < 1
    assert np.nanmax(np.abs(s.world_m)) < 2.0


@needs_shared
def test_side_pose_dir_files(side_pose_dir: Path) -> None:
    assert {p.name for p in side_pose_dir.iterdir()} == {"pose.npz", "pose.csv"}


@needs_shared
def test_slow_motion_and_trim(side_short: Path) -> None:
    s = pose.extract_pose(side_short, PoseConfig(capture_fps=240, start_s=0.5, end_s=1.5),
                          progress=False, cache=False)
    assert s.n_frames == 30 and s.fps == 240 and s.frame_index is not None
    assert s.frame_index[0] == 15
    np.testing.assert_allclose(np.diff(s.time_s), 1 / 240, atol=1e-6)
    assert s.time_s[0] == pytest.approx(0.5 / 8)
    assert s.meta["capture_fps"] == 240 and s.meta["nominal_fps"] == 30


@needs_shared
def test_downscaled_frames_report_full_size_pixels(side_short: Path) -> None:
    cfg = PoseConfig(end_s=0.5)
    full = pose.extract_pose(side_short, cfg, progress=False, cache=False)
    small = pose.extract_pose(side_short, PoseConfig(end_s=0.5, max_side_px=640),
                              progress=False, cache=False)
    legs = list(lm.LEG["left"][:3]) + list(lm.LEG["right"][:3])
    diff = np.abs(full.xy_px[:, legs] - small.xy_px[:, legs])
    assert np.nanmedian(diff) < 10  # pixels of the 720x1280 frame, not of the 360x640 one


@needs_shared
def test_rotation_tag_same_landmarks(side_short: Path, tmp_path: Path) -> None:
    # Store the frames turned 90 deg counter-clockwise and tag them "rotate 90 clockwise".
    stored = tmp_path / "stored.mp4"
    with VideoWriter(stored, 1280, 720, 30, crf=14) as w:
        for f in iter_frames(side_short):
            w.write(np.ascontiguousarray(np.rot90(f.rgb, k=1)))
    tagged = tag_rotation(stored, tmp_path / "tagged.mp4", 90)
    info = probe(tagged)
    assert info.rotation_deg == 90 and info.frame_size == (720, 1280)
    a = pose.extract_pose(side_short, FAST, progress=False, cache=False)
    b = pose.extract_pose(tagged, FAST, progress=False, cache=False)
    assert b.frame_size == (720, 1280) and b.rotation_deg == 90 and b.n_frames == 60
    both = a.has_pose & b.has_pose
    assert both.mean() > 0.9
    legs = [i for side in lm.SIDES for i in lm.LEG[side]]
    err = np.linalg.norm(a.xy_px[both][:, legs] - b.xy_px[both][:, legs], axis=-1)
    assert np.median(err) < 5


@needs_shared
def test_vfr_and_duplicate_timestamps(side_short: Path, tmp_path: Path) -> None:
    # Irregular intervals; the container cannot store equal pts, so two frames 0.4 ms apart
    # stand in for duplicates (same integer millisecond for MediaPipe).
    rng = np.random.default_rng(3)
    times = np.cumsum(rng.choice([0.02, 0.033, 0.05], size=40))
    times[10] = times[9] + 0.0004
    path = tmp_path / "vfr.mp4"
    with VideoWriter(path, 720, 1280, 30) as w:
        for f, t in zip(iter_frames(side_short, end_s=40 / 30), times, strict=True):
            w.write(f.rgb, float(t))
    assert probe(path).variable_frame_rate
    s = pose.extract_pose(path, FAST, progress=False, cache=False)
    assert s.n_frames == 40 and s.meta["variable_frame_rate"] is True
    assert np.all(np.diff(s.time_s) > 0)
    # times are relative to the first frame (the muxer starts the stream at 0)
    np.testing.assert_allclose(s.time_s - s.time_s[0], times - times[0], atol=1.1e-3)
    assert s.pose_share > 0.9


@needs_shared
def test_cache_hit_does_not_run_model(side_short: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = pose.create_landmarker

    def counting(*args: Any) -> Any:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(pose, "create_landmarker", counting)
    # A cache of its own: other tests may already have cached this clip with these settings.
    monkeypatch.setenv("GAITCHECK_CACHE_DIR", str(tmp_path / "cache"))
    cfg = Config(pose=PoseConfig(end_s=0.3))
    first = pose.load_or_extract(side_short, cfg, tmp_path / "out", progress=False)
    assert len(calls) == 1 and (tmp_path / "out" / "pose.npz").is_file()
    again = pose.load_or_extract(side_short, cfg, tmp_path / "out", progress=False)
    other_dir = pose.load_or_extract(side_short, cfg, tmp_path / "elsewhere", progress=False)
    direct = pose.extract_pose(side_short, cfg, progress=False)
    assert len(calls) == 1  # out-dir cache, then global cache
    for s in (again, other_dir, direct):
        np.testing.assert_array_equal(s.xy_px, first.xy_px)
        assert s.meta["cache_key"] == first.meta["cache_key"]
    pose.extract_pose(side_short, Config(pose=PoseConfig(end_s=0.4)), progress=False)
    pose.extract_pose(side_short, cfg, progress=False, cache=False)
    assert len(calls) == 3  # other settings, or cache off: the model runs


# ---------------------------------------------------------------------------- no person
def test_gray_video_has_no_person(tmp_path: Path) -> None:
    path = tmp_path / "gray.mp4"
    with VideoWriter(path, 320, 480, 30) as w:
        for _ in range(15):
            w.write(np.full((480, 320, 3), 128, np.uint8))
    with pytest.raises(NoPersonError, match="No person was found") as err:
        pose.extract_pose(path, FAST, progress=False)
    assert str(path) in str(err.value)


@needs_shared
def test_upper_body_only_asks_for_legs(side_short: Path, tmp_path: Path) -> None:
    path = tmp_path / "upper.mp4"
    with VideoWriter(path, 720, 720, 30) as w:
        for f in iter_frames(side_short, end_s=1.0):
            w.write(np.ascontiguousarray(f.rgb[100:820]))
    with pytest.raises(NoPersonError, match="legs and feet") as err:
        pose.extract_pose(path, FAST, progress=False)
    assert str(path) in str(err.value)


@needs_shared
def test_truncated_with_index_up_front(side_short: Path, tmp_path: Path) -> None:
    # moov at the start (as phones and "faststart" write): the header opens, the data stops.
    import subprocess

    import imageio_ffmpeg

    fast = tmp_path / "fast.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(side_short),
                    "-c", "copy", "-movflags", "+faststart", str(fast)], check=True)
    data = fast.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.3)])
    with pytest.raises(VideoError, match="truncated") as err:
        pose.extract_pose(cut, FAST, progress=False)
    assert str(cut) in str(err.value)
