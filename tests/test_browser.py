"""The overlay plays in a real browser: headless Chromium (Debian package) driven by Playwright.

Needs ``/usr/bin/chromium`` (``apt-get install -y chromium``; another binary can be named in
``GAITCHECK_CHROMIUM``) and the ``playwright`` Python package (never ``playwright install``:
the system Chromium is used). Skips cleanly when either is missing, unless
``GAITCHECK_REQUIRE_BROWSER=1`` is set (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pytest

from gaitcheck.landmarks import LEFT_HIP, LEFT_KNEE
from gaitcheck.overlay import write_overlay
from gaitcheck.series import PoseSeries, empty_arrays
from gaitcheck.video import VideoWriter, probe

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

PAGE = """<!doctype html>
<html><body><video id="v" src="{name}" muted playsinline preload="auto"></video></body></html>
"""

LOAD_JS = """async () => {
  const v = document.getElementById("v");
  if (v.readyState < 2) {
    await new Promise((resolve, reject) => {
      if (v.error) { reject(new Error("media error " + v.error.code)); return; }
      v.addEventListener("loadeddata", resolve, {once: true});
      v.addEventListener("error", () => reject(new Error("media error " + v.error.code)),
                         {once: true});
      setTimeout(() => reject(new Error("no data after 20 s")), 20000);
    });
  }
  return {duration: v.duration, readyState: v.readyState, videoWidth: v.videoWidth,
          videoHeight: v.videoHeight};
}"""

PLAY_JS = """async () => {
  const v = document.getElementById("v");
  const start = v.currentTime;
  await v.play();
  const t0 = performance.now();
  while (v.currentTime <= start + 0.2 && performance.now() - t0 < 10000) {
    await new Promise(r => setTimeout(r, 50));
  }
  return {start: start, now: v.currentTime, paused: v.paused, error: v.error && v.error.code};
}"""


def _missing(reason: str) -> NoReturn:
    if os.environ.get("GAITCHECK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and GAITCHECK_REQUIRE_BROWSER=1 is set")
    pytest.skip(reason)


def _chromium() -> str:
    exe = os.environ.get("GAITCHECK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(exe).is_file():
        _missing("Chromium is not installed (apt-get install -y chromium)")
    return exe


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = _chromium()
    try:
        from playwright import sync_api
    except ImportError:
        _missing("playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def serve(tmp_path: Path) -> Iterator[str]:
    """Serve ``tmp_path`` on a random local port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _series(n: int, size: tuple[int, int], fps: float) -> PoseSeries:
    """A short leg drawn moving across the frame (hip above knee)."""
    w, h = size
    arr: dict[str, Any] = empty_arrays(n)
    x = np.linspace(0.2 * w, 0.8 * w, n)
    arr["xy_px"][:, LEFT_HIP] = np.column_stack([x, np.full(n, 0.55 * h)])
    arr["xy_px"][:, LEFT_KNEE] = np.column_stack([x, np.full(n, 0.75 * h)])
    arr["visibility"][:, [LEFT_HIP, LEFT_KNEE]] = 1.0
    arr["presence"][:, [LEFT_HIP, LEFT_KNEE]] = 1.0
    return PoseSeries(time_s=np.arange(n) / fps, fps=fps, frame_size=size, **arr)


def _analysis(n: int, fps: float) -> dict[str, Any]:
    events = [
        {"foot": "left" if k % 2 == 0 else "right", "kind": "initial_contact", "frame": f,
         "time_s": f / fps}
        for k, f in enumerate(range(3, n, 11))
    ]
    return {"view": {"label": "side-left"}, "quality": {"near_leg": "left"}, "events": events,
            "steps": []}


def _synthetic_clip(path: Path, n: int = 60, size: tuple[int, int] = (320, 240)) -> Path:
    w, h = size
    with VideoWriter(path, w, h, 30.0) as writer:
        for i in range(n):
            img = np.full((h, w, 3), 40, np.uint8)
            img[:, (i * 5) % w] = 255
            writer.write(img)
    return path


def _check_plays(browser: Any, base_url: str, name: str, source: Path) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{base_url}/page.html")
        state = page.evaluate(LOAD_JS)
        expected = probe(source).duration_s
        assert state["duration"] == pytest.approx(expected, abs=0.05), state
        assert state["readyState"] >= 2 and state["videoWidth"] > 0, state
        played = page.evaluate(PLAY_JS)
        assert played["error"] is None and played["now"] > played["start"], played
    finally:
        page.close()


@pytest.mark.parametrize("webm", [False, True], ids=["mp4", "webm"])
def test_synthetic_overlay_plays_in_chromium(
    browser: Any, serve: str, tmp_path: Path, webm: bool
) -> None:
    src = _synthetic_clip(tmp_path / "src.mp4")
    out = write_overlay(src, _series(60, (320, 240), 30.0), _analysis(60, 30.0),
                        tmp_path / "overlay.mp4", progress=False, webm=webm)
    name = out.with_suffix(".webm").name if webm else out.name
    (tmp_path / "page.html").write_text(PAGE.format(name=name))
    _check_plays(browser, serve, name, src)


@pytest.mark.shared
def test_real_clip_overlay_plays_in_chromium(
    browser: Any, serve: str, tmp_path: Path, side_short: Path
) -> None:
    info = probe(side_short)  # the first 2 s of side_treadmill_01.mp4
    series = _series(info.n_frames, info.frame_size, info.nominal_fps)
    out = write_overlay(side_short, series, _analysis(info.n_frames, info.nominal_fps),
                        tmp_path / "overlay.mp4", progress=False)
    (tmp_path / "page.html").write_text(PAGE.format(name=out.name))
    _check_plays(browser, serve, out.name, side_short)
