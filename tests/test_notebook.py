"""The walkthrough notebook runs end to end on the real side clip (nbclient, fresh kernel)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from gaitcheck.series import PoseSeries

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "walkthrough.ipynb"
KERNEL = "gaitcheck-test-python"


def _kernelspec(root: Path) -> Path:
    """A kernelspec that starts *this* interpreter, so the kernel sees the same packages.

    The ``python3`` spec shipped with ipykernel runs whatever ``python`` is first on PATH,
    which in CI need not be the virtual environment running the tests.
    """
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "gaitcheck tests", "language": "python",
    }))
    return root


@pytest.mark.shared
@pytest.mark.slow
def test_walkthrough_notebook_executes(
    side_clip: Path, side_series: PoseSeries, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # side_series has extracted the clip's pose into the session's GAITCHECK_CACHE_DIR (set by
    # conftest); the kernel inherits that variable, so the notebook loads from the cache.
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("JUPYTER_PATH", str(_kernelspec(tmp_path / "jupyter")))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # no jupyter_core migration warning
    monkeypatch.setenv("GAITCHECK_VIDEO", str(side_clip))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # Import gaitcheck from this checkout even when it is not installed.
    old = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO)] + ([old] if old else [])))

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name=KERNEL, timeout=600,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "view: side-left" in text
    assert "cadence_spm" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # cleaning plot, cycle curves, annotated frame


def _execute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, video: str) -> Any:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("JUPYTER_PATH", str(_kernelspec(tmp_path / "jupyter")))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("GAITCHECK_VIDEO", video)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    old = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO)] + ([old] if old else [])))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:  # run from the sources, not the stored outputs
        if cell.cell_type == "code":
            cell.outputs = []
    nbclient.NotebookClient(nb, kernel_name=KERNEL, timeout=600,
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return nb


def test_walkthrough_runs_on_the_bundled_demo_without_shared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone without ../shared (and without decoding video) can run the whole notebook."""
    nb = _execute(tmp_path, monkeypatch, "demo")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "bundled demo pose series" in text and "view: side-left" in text
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) >= 3


def test_committed_notebook_has_outputs_and_matches_its_generator() -> None:
    nbformat = pytest.importorskip("nbformat")
    sys.path.insert(0, str(REPO / "notebooks"))
    try:
        import make_walkthrough
    finally:
        sys.path.pop(0)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    built = make_walkthrough.build()
    assert [c.source for c in nb.cells] == [c.source for c in built.cells]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs for c in code)  # committed with outputs, every code cell
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert "/work/" not in NOTEBOOK.read_text()  # no machine paths in the outputs
