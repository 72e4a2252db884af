"""Which pose model file to use: bundled, cached, or fetched once from Google's model store.

``--model lite|full|heavy|PATH``. The "full" bundle ships inside the package
(``models/`` at the repository's top level, reached through the package-data link
``gaitcheck/data/models``, so wheels carry it too); "lite" and "heavy" (and "full" should the
bundled file be missing) are downloaded once into the user cache. Google publishes no checksums
for these bundles, so a download is accepted when it is a zip holding ``.tflite`` networks, and
its sha256 is recorded next to it; later runs verify the file against that record.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import ModelError

MODEL_NAMES = ("lite", "full", "heavy")
MODEL_URL = (
    "https://storage.googleapis.com/mediapipe-models/pose_landmarker/"
    "pose_landmarker_{name}/float16/latest/pose_landmarker_{name}.task"
)
BUNDLED = {
    # name: (file name, sha256) of the bundles shipped in gaitcheck/data/models
    "full": (
        "pose_landmarker_full.task",
        "e90b72371e860a65ad1b59546c0a1c4405eddbd1f16bdf58985b31febac94821",
    ),
}
DOWNLOAD_TIMEOUT_S = 30.0

Opener = Callable[..., IO[bytes]]


@dataclass(frozen=True)
class ModelFile:
    """A resolved, verified pose model bundle.

    Attributes
    ----------
    name : str
        ``lite``, ``full``, ``heavy``, or the file stem for a user-supplied path.
    path : Path
        The ``.task`` file.
    sha256 : str
        Content hash of the file (part of the pose cache key).
    origin : str
        ``bundled``, ``cache``, ``downloaded`` or ``file``.
    """

    name: str
    path: Path
    sha256: str
    origin: str


def cache_root() -> Path:
    """Root of gaitcheck's user cache: ``$GAITCHECK_CACHE_DIR`` or ``~/.cache/gaitcheck``."""
    env = os.environ.get("GAITCHECK_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "gaitcheck"


def model_cache_dir() -> Path:
    """Folder for downloaded model bundles."""
    return cache_root() / "models"


def bundled_dirs() -> list[Path]:
    """Folders searched for bundled models, in order.

    Package data ``gaitcheck/data/models`` (every install), then a repository-level ``models/``
    folder (older source checkouts).
    """
    here = Path(__file__).resolve().parent
    return [here / "data" / "models", here.parent / "models"]


def file_sha256(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """sha256 of a file, read in chunks so memory does not grow with file size."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_bytes):
            h.update(chunk)
    return h.hexdigest()


def check_bundle(path: Path) -> None:
    """Raise :class:`ModelError` unless ``path`` is a zip holding ``.tflite`` networks."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        raise ModelError(
            f"Model file {path} is not a MediaPipe .task bundle (not a zip archive); "
            "delete it and pass --model lite, full or heavy, or a valid .task file."
        ) from None
    if not any(n.endswith(".tflite") for n in names):
        raise ModelError(
            f"Model file {path} holds no .tflite networks, so it is not a pose landmarker "
            "bundle; pass --model lite, full or heavy, or a valid .task file."
        )


def resolve_model(
    spec: str,
    *,
    download: bool = True,
    url_template: str = MODEL_URL,
    opener: Opener | None = None,
) -> ModelFile:
    """Find (and if needed fetch) the model bundle named by ``spec``.

    Parameters
    ----------
    spec : str
        ``lite``, ``full``, ``heavy`` or a path to a ``.task`` file.
    download : bool
        Allow fetching a missing named model into the cache.
    url_template : str
        Download URL with a ``{name}`` field (overridable for tests and mirrors).
    opener : callable, optional
        Replacement for :func:`urllib.request.urlopen` (tests use it to stay offline).

    Raises
    ------
    ModelError
        Unknown name, missing or invalid file, checksum mismatch, or failed download.
    """
    if spec not in MODEL_NAMES:
        path = Path(spec).expanduser()
        if not path.is_file():
            raise ModelError(
                f"Model '{spec}' is neither lite, full, heavy nor an existing .task file; "
                "pass one of those."
            )
        check_bundle(path)
        return ModelFile(path.stem, path, file_sha256(path), "file")

    if spec in BUNDLED:
        fname, sha = BUNDLED[spec]
        for folder in bundled_dirs():
            path = folder / fname
            if path.is_file():
                actual = file_sha256(path)
                if actual != sha:
                    raise ModelError(
                        f"Bundled model {path} has sha256 {actual[:12]}..., expected "
                        f"{sha[:12]}...; restore it from the repository "
                        "(git checkout models/)."
                    )
                return ModelFile(spec, path, sha, "bundled")

    cached = model_cache_dir() / f"pose_landmarker_{spec}.task"
    record = cached.with_name(cached.name + ".sha256")
    if cached.is_file():
        actual = file_sha256(cached)
        expected = record.read_text().split()[0] if record.is_file() else actual
        if actual != expected:
            raise ModelError(
                f"Cached model {cached} does not match its recorded sha256 (corrupted); "
                "delete it and run again to download it afresh."
            )
        return ModelFile(spec, cached, actual, "cache")
    if not download:
        raise ModelError(
            f"Pose model '{spec}' is not available offline at {cached}; run once with an "
            "internet connection or pass --model PATH to a .task file."
        )
    return _download(spec, cached, url_template.format(name=spec), opener)


def _download(name: str, target: Path, url: str, opener: Opener | None) -> ModelFile:
    open_url: Any = opener or urllib.request.urlopen
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")
    try:
        with open_url(url, timeout=DOWNLOAD_TIMEOUT_S) as resp, open(part, "wb") as fh:
            shutil.copyfileobj(resp, fh)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        part.unlink(missing_ok=True)
        reason = getattr(exc, "reason", exc)
        raise ModelError(
            f"Cannot download the '{name}' pose model from {url} ({reason}); connect to the "
            "internet once, or use the bundled model (--model full) or --model PATH."
        ) from None
    try:
        check_bundle(part)
    except ModelError:
        part.unlink(missing_ok=True)
        raise ModelError(
            f"The download from {url} is not a MediaPipe model bundle; try again later or "
            "pass --model PATH to a .task file."
        ) from None
    sha = file_sha256(part)
    target.with_name(target.name + ".sha256").write_text(f"{sha}  {target.name}  {url}\n")
    part.replace(target)
    return ModelFile(name, target, sha, "downloaded")
