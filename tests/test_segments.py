"""Pose tracking in fixed segments: planning, seeking, the core budget, and results that do not
depend on how many segments run at once (issue 12).

The equality asserted between one and two segments at a time is exact: each segment's tracker
sees the same frames in the same order whichever thread runs it, so any difference is a bug.
"""

from __future__ import annotations

import os
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from _props import prop
from conftest import needs_shared
from hypothesis import given
from hypothesis import strategies as st

from gaitcheck.analysis import analyze_pose
from gaitcheck.config import PoseConfig
from gaitcheck.models import resolve_model
from gaitcheck.pose import cache_key, run_landmarker
from gaitcheck.segments import (
    LEAD_IN_S,
    MIN_SEGMENT_S,
    SEGMENT_S,
    Segment,
    Track,
    available_cores,
    effective_workers,
    join,
    plan_segments,
    sample_times,
)
from gaitcheck.series import PoseSeries
from gaitcheck.video import iter_frames, packet_times, probe, read_frames


# ---------------------------------------------------------------------------- planning
def test_plan_is_a_fixed_grid_with_lead_ins() -> None:
    segs = plan_segments(None, None, 3 * SEGMENT_S + 0.02)
    assert [s.keep_s for s in segs] == [None, SEGMENT_S, 2 * SEGMENT_S]
    assert segs[0] == Segment(None, None, SEGMENT_S)
    assert segs[1].lead_s == pytest.approx(SEGMENT_S - LEAD_IN_S)
    assert segs[-1].end_s is None  # the last runs to the file's real end
    for a, b in zip(segs, segs[1:], strict=False):
        assert a.end_s == b.keep_s  # consecutive, no gap and no overlap of kept frames


def test_plan_keeps_the_range_and_merges_a_short_rest() -> None:
    segs = plan_segments(2.0, 2.0 + 2 * SEGMENT_S + MIN_SEGMENT_S - 0.1, 100.0)
    assert len(segs) == 2 and segs[0].lead_s == 2.0
    assert segs[-1].end_s == pytest.approx(2.0 + 2 * SEGMENT_S + MIN_SEGMENT_S - 0.1)
    segs = plan_segments(2.0, 2.0 + 2 * SEGMENT_S + MIN_SEGMENT_S, 100.0)
    assert len(segs) == 3
    assert plan_segments(None, None, SEGMENT_S * 1.4) == [Segment(None, None, None)]
    assert plan_segments(None, None, 60.0, whole=True) == [Segment(None, None, None)]


@prop()
@given(st.floats(0.0, 200.0), st.floats(0.5, 400.0), st.booleans())
def test_plan_covers_the_range_in_order(start_s: float, span_s: float, open_end: bool) -> None:
    end = None if open_end else start_s + span_s
    segs = plan_segments(start_s, end, start_s + span_s)
    assert segs[0].lead_s == start_s and segs[0].keep_s is None and segs[-1].end_s == end
    keeps = [start_s] + [s.keep_s for s in segs[1:]]
    ends = [s.end_s for s in segs[:-1]]
    assert keeps[1:] == ends and np.all(np.diff(keeps) > 0)
    for s in segs[1:]:
        assert s.lead_s is not None and s.keep_s is not None
        assert s.keep_s - s.lead_s == pytest.approx(min(LEAD_IN_S, s.keep_s - start_s))
    # Every segment but the last is SEGMENT_S long; the last between MIN_SEGMENT_S and more.
    lengths = np.diff(keeps + [start_s + span_s])
    np.testing.assert_allclose(lengths[:-1], SEGMENT_S)
    assert len(segs) == 1 or lengths[-1] >= MIN_SEGMENT_S - 1e-9


def test_sample_times_spread_over_the_range() -> None:
    t = sample_times(10.0, 18.0, 100.0, 4)
    np.testing.assert_allclose(t, [11.0, 13.0, 15.0, 17.0])


def test_never_more_at_once_than_cores_or_segments() -> None:
    cores = available_cores()
    assert effective_workers(10 * cores, 100) == cores
    assert effective_workers(None, 100) == cores
    assert effective_workers(None, 1) == 1
    assert effective_workers(1, 100) == 1


def _budget_in_child(q: object) -> None:
    from gaitcheck.segments import effective_workers as ew

    q.put(ew(None, 100))  # type: ignore[attr-defined]


def test_pool_workers_run_one_segment_at_a_time() -> None:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_budget_in_child, args=(q,))
    p.start()
    result = q.get(timeout=120)
    p.join(30)
    assert result == 1 and p.exitcode == 0


def test_worker_count_is_not_part_of_the_cache_key() -> None:
    assert cache_key("v", "m", PoseConfig()) == cache_key("v", "m", PoseConfig(workers=2))


def _track(index: list[int], repeated: list[int]) -> Track:
    n = len(index)
    return Track(xy_px=np.zeros((n, 33, 2)), world_m=np.zeros((n, 33, 3)),
                 visibility=np.zeros((n, 33)), presence=np.zeros((n, 33)),
                 frame_index=np.asarray(index, dtype=np.int64),
                 time_s=np.asarray(index, dtype=np.float64) / 30, repeated=repeated)


def test_join_keeps_order_and_refuses_overlaps() -> None:
    out = join([_track([0, 1, 2], [1]), _track([3, 4], [4])])
    assert out.frame_index.tolist() == [0, 1, 2, 3, 4] and out.repeated == [1, 4]
    with pytest.raises(RuntimeError, match="overlap"):
        join([_track([0, 1, 2], []), _track([2, 3], [])])


# ---------------------------------------------------------------------------- seeking
@pytest.fixture(scope="module")
def gop_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A variable-rate clip with a keyframe every 5 frames and B-frames (decode order differs
    from presentation order), each frame's picture unique."""
    import av

    out = tmp_path_factory.mktemp("gop") / "gop.mp4"
    rng = np.random.default_rng(3)
    times_ms = np.cumsum(rng.integers(20, 50, 90))
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        stream.options = {"g": "5", "bf": "2", "crf": "10", "keyint_min": "5",
                          "sc_threshold": "0"}
        for i, t in enumerate(times_ms):
            img = np.zeros((48, 64, 3), np.uint8)
            img[:, :, 0] = (i * 37) % 256
            img[(i % 6) * 8:(i % 6) * 8 + 8, (i % 8) * 8:(i % 8) * 8 + 8] = 255
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = int(t), Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return out


def test_packet_times_match_the_decoded_frames(gop_clip: Path) -> None:
    packets = packet_times(gop_clip)
    assert packets is not None and packets.pts.size == probe(gop_clip).n_frames == 90
    times = [f.time_s for f in iter_frames(gop_clip)]
    np.testing.assert_allclose(packets.time_s, times)


@prop(0.3)
@given(st.floats(0.0, 3.5), st.floats(0.0, 2.0) | st.none())
def test_seeking_gives_the_frames_of_a_decode_from_the_start(
    gop_clip: Path, start_s: float, span_s: float | None
) -> None:
    end = None if span_s is None else start_s + span_s
    packets = packet_times(gop_clip)
    ref = list(iter_frames(gop_clip, start_s=start_s, end_s=end))
    got = list(iter_frames(gop_clip, start_s=start_s, end_s=end, packets=packets))
    assert [f.index for f in got] == [f.index for f in ref]
    assert [f.time_s for f in got] == [f.time_s for f in ref]
    assert all(np.array_equal(a.rgb, b.rgb) for a, b in zip(got, ref, strict=True))


def test_read_frames_seeks_to_each_frame(gop_clip: Path) -> None:
    want = [89, 7, 0, 33, 7, 34]
    every = {f.index: f.rgb for f in iter_frames(gop_clip)}
    got = read_frames(gop_clip, want)
    assert all(np.array_equal(g, every[i]) for g, i in zip(got, want, strict=True))


# ---------------------------------------------------------------------------- results
@pytest.fixture(scope="module")
def one_at_a_time(side_clip: Path) -> PoseSeries:
    cfg = PoseConfig(workers=1, use_cache=False)
    return run_landmarker(side_clip, probe(side_clip), resolve_model(cfg.model), cfg,
                          progress=False)


@needs_shared
def test_segments_side_by_side_equal_one_at_a_time(
    side_series: PoseSeries, one_at_a_time: PoseSeries
) -> None:
    """The session's side series ran with the default budget (all cores); one at a time
    gives the same landmarks bit for bit, and so the same analysis."""
    if available_cores() < 2:
        pytest.skip("one core: both runs take one segment at a time")
    a, b = side_series, one_at_a_time
    assert a.meta["segments"] == b.meta["segments"] >= 2
    for name in ("xy_px", "world_m", "visibility", "presence", "time_s", "frame_index"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for key in ("repeated_frames", "people_max", "people_tracked_largest"):
        assert a.meta[key] == b.meta[key], key
    assert analyze_pose(a).to_dict()["metrics"] == analyze_pose(b).to_dict()["metrics"]


@needs_shared
def test_a_segment_starts_at_its_lead_in(side_clip: Path, one_at_a_time: PoseSeries) -> None:
    """Segment two's frames equal a run started at its lead-in (its own tracker)."""
    cfg = PoseConfig(workers=1, use_cache=False)
    info = probe(side_clip)
    seg = plan_segments(None, None, info.duration_s)[1]
    assert seg.lead_s is not None and seg.keep_s is not None
    part = run_landmarker(side_clip, info, resolve_model(cfg.model),
                          replace(cfg, start_s=seg.lead_s, end_s=seg.end_s), progress=False)
    keep = part.time_s >= seg.keep_s
    assert part.meta["segments"] == 1
    rows = np.isin(one_at_a_time.frame_index, part.frame_index[keep])
    assert rows.sum() == keep.sum() > 0
    np.testing.assert_array_equal(part.xy_px[keep], one_at_a_time.xy_px[rows])


def test_cores_reported_match_the_machine() -> None:
    assert 1 <= available_cores() <= (os.cpu_count() or 1)
