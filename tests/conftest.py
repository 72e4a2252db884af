"""Shared test fixtures: the real clips in ../shared (skipped when absent) and their pose."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from _props import PROPERTY_SEED, property_examples

# One module-scoped headless Chromium fixture (defined with the overlay browser test) for every
# file that screenshots pages.
from test_browser import browser  # noqa: F401

from gaitcheck.config import Config
from gaitcheck.series import PoseSeries

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
VIDEOS = SHARED / "videos"
SIDE_CLIP = VIDEOS / "side_treadmill_01.mp4"

needs_shared = pytest.mark.skipif(
    not SIDE_CLIP.is_file(), reason=f"real clips not available at {VIDEOS}"
)


def pytest_report_header(config: pytest.Config) -> str:
    """Say how the property tests run, so any run can be repeated exactly."""
    return (f"gaitcheck properties: {property_examples()} random examples each, seed "
            f"{PROPERTY_SEED} (set GAITCHECK_PROPERTY_SEED={PROPERTY_SEED} to rerun them)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Name the session seed beside every failed property (Hypothesis prints the example)."""
    outcome = yield
    rep = outcome.get_result()  # type: ignore[attr-defined]
    if rep.failed and getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
        rep.sections.append(("gaitcheck property seed", (
            f"Rerun with GAITCHECK_PROPERTY_SEED={PROPERTY_SEED} "
            f"GAITCHECK_PROPERTY_EXAMPLES={property_examples()} pytest {item.nodeid}")))


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point gaitcheck's global cache at a temporary folder for the whole session."""
    root = tmp_path_factory.mktemp("gaitcheck-cache")
    old = os.environ.get("GAITCHECK_CACHE_DIR")
    os.environ["GAITCHECK_CACHE_DIR"] = str(root)
    yield root
    if old is None:
        os.environ.pop("GAITCHECK_CACHE_DIR", None)
    else:
        os.environ["GAITCHECK_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` relative to the repository root (skips when absent)."""
    if not VIDEOS.is_dir():
        pytest.skip(f"real clips not available at {VIDEOS}")
    return SHARED


@pytest.fixture(scope="session")
def side_clip(shared_dir: Path) -> Path:
    """Path of ``side_treadmill_01.mp4``."""
    if not SIDE_CLIP.is_file():
        pytest.skip(f"{SIDE_CLIP} not available")
    return SIDE_CLIP


@pytest.fixture(scope="session")
def side_pose_dir(side_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Output folder of one pose extraction of the side clip (pose.npz, pose.csv)."""
    from gaitcheck.pose import load_or_extract, save_outputs

    out = tmp_path_factory.mktemp("side_pose")
    series = load_or_extract(side_clip, Config(), out, progress=False)
    save_outputs(series, out)
    return out


@pytest.fixture(scope="session")
def side_series(side_pose_dir: Path) -> PoseSeries:
    """PoseSeries of ``../shared/videos/side_treadmill_01.mp4`` (extracted once per session)."""
    return PoseSeries.load(side_pose_dir / "pose.npz")


@pytest.fixture(scope="session")
def side_short(side_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 60 frames of the side clip, re-encoded (a fast stand-in for the real clip)."""
    from gaitcheck.video import VideoWriter, iter_frames

    path = tmp_path_factory.mktemp("short") / "side_short.mp4"
    with VideoWriter(path, 720, 1280, 30, crf=14) as w:
        for f in iter_frames(side_clip, end_s=59.5 / 30):
            w.write(f.rgb)
    return path


def random_series(n: int = 20, seed: int = 0, nan_rows: tuple[int, ...] = (3, 4)) -> PoseSeries:
    """A valid series with random values and some 'no pose' frames."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 700, (n, 33, 2))
    world = rng.normal(0, 0.5, (n, 33, 3))
    vis = rng.uniform(0, 1, (n, 33))
    pres = rng.uniform(0, 1, (n, 33))
    for r in nan_rows:
        xy[r] = np.nan
        world[r] = np.nan
        vis[r] = 0
        pres[r] = 0
    return PoseSeries(
        xy_px=xy, world_m=world, visibility=vis, presence=pres,
        time_s=np.arange(n) / 30.0 + 0.01 * rng.uniform(0, 1, n), fps=30.0,
        frame_size=(720, 1280), rotation_deg=90, source="random.mp4",
        source_sha256="ab" * 32, model="full", meta={"note": "test", "x": [1, 2]},
    )
