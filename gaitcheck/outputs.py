"""Output sets: every command's result files appear together, or not at all.

A run writes into a private staging folder inside ``OUT`` (``.gaitcheck-run-<pid>-<id>``, so two
processes never share a temporary name and the final rename stays on one file system), and only
when everything is written moves the files into place. Then it removes the files of the previous
set of the same command that this run did not write (say ``overlay.mp4`` after
``--no-overlay``; another command's files and the user's own are never touched) and writes
``outputs.json`` last: the run id, the command and the list of files of the set. So

- a run that fails or is interrupted before publishing leaves the previous set untouched;
- a folder whose ``outputs.json`` lists a file is a complete set; while a set is being
  published (a few renames) ``outputs.json`` is absent, so a half-moved folder never looks
  finished.

Staging folders left behind by a killed process (``kill -9``) are removed by the next run
into the same folder once their process is gone.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import OutputError

MANIFEST = "outputs.json"
STAGING_PREFIX = ".gaitcheck-run-"
MANIFEST_VERSION = 1
# Files each command of earlier gaitcheck versions wrote without a manifest; a run removes
# those of its own command it did not write itself, so an old folder never mixes two runs.
_ANALYSIS_FILES = ("analysis.json", "steps.csv", "cycles.csv", "report.html", "report.md",
                   "overlay.mp4", "pose.npz", "plots/*.png")
LEGACY_NAMES: dict[str, tuple[str, ...]] = {
    "analyze": _ANALYSIS_FILES,
    "demo": _ANALYSIS_FILES,
    "pose": ("pose.npz", "pose.csv", "pose.trc"),
    "compare": ("compare.json", "compare.md", "compare.html", "compare.png"),
}
# Commands whose sets replace each other (a demo into an analysis folder, and back).
_KIND = {"demo": "analyze"}


def _describe(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_out_dir(out_dir: str | Path) -> Path:
    """Make sure ``out_dir`` is a writable folder or can be created, without creating it.

    Raises
    ------
    OutputError
        When the path is an existing file, lies under a file, or cannot be written.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(
            f"Output folder {out} is an existing file; choose a folder name with -o."
        )
    # The nearest folder that exists must be writable (there the new folders are made).
    base = out.absolute()
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        raise OutputError(
            f"Output folder {out} cannot be created because {base} is a file; choose another "
            "folder with -o."
        )
    if not os.access(base, os.W_OK | os.X_OK):
        what = "is not writable" if base == out.absolute() else f"cannot be created in {base}"
        raise OutputError(
            f"Output folder {out} {what} (permission denied); choose a writable folder with -o."
        )
    return out


def _make_out_dir(out: Path) -> Path | None:
    """Create ``out``; return the topmost folder created (None when it existed)."""
    top = None
    base = out.absolute()
    while not base.exists():
        top, base = base, base.parent
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"Output folder {out} cannot be created ({_describe(exc)}); choose a writable "
            "folder with -o."
        ) from None
    return top


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_dead_staging(out: Path) -> None:
    """Delete staging folders in ``out`` whose writing process no longer runs."""
    with contextlib.suppress(OSError):
        for child in out.iterdir():
            if not child.name.startswith(STAGING_PREFIX) or not child.is_dir():
                continue
            pid_txt = child.name[len(STAGING_PREFIX):].split("-", 1)[0]
            if pid_txt.isdigit() and not _pid_alive(int(pid_txt)):
                shutil.rmtree(child, ignore_errors=True)


def read_manifest(out_dir: str | Path) -> dict[str, Any] | None:
    """The ``outputs.json`` of a folder, or None when absent or unreadable."""
    try:
        data = json.loads((Path(out_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        return None
    return data


def _files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` via a uniquely named temporary file and an atomic rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


@dataclass
class OutputSet:
    """A staging folder for one run's files; :meth:`publish` moves them into ``out``.

    Use :func:`output_set` rather than building one by hand.

    Attributes
    ----------
    out : Path
        The output folder.
    staging : Path
        Where the run writes its files (same names and sub-folders as in ``out``).
    run_id : str
        Unique id of this run (also in ``outputs.json``).
    command : str
        The command that wrote the set (``analyze``, ``pose``, ``compare``, ``demo``).
    files : list of str
        After publishing: the set's files, relative to ``out``.
    """

    out: Path
    staging: Path
    run_id: str
    command: str
    files: list[str] = field(default_factory=list)

    def final(self, staged: Path) -> Path:
        """Where a staged file ends up after publishing."""
        return self.out / Path(staged).relative_to(self.staging)

    def publish(self) -> list[Path]:
        """Move the staged files into ``out``, drop stale ones, write ``outputs.json`` last.

        Runs under an exclusive lock on the folder (two runs into one folder publish one after
        the other, so the later set wholly replaces the earlier) and with Ctrl-C/SIGTERM held
        back until the set is complete.
        """
        with _folder_lock(self.out), _signals_deferred():
            return self._publish()

    def _publish(self) -> list[Path]:
        new = _files_under(self.staging)
        old = self._stale_candidates()
        try:
            (self.out / MANIFEST).unlink(missing_ok=True)  # the set is incomplete from here
            for rel in new:
                target = self.out / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.staging / rel, target)
            for rel in old:
                if rel in new or rel == MANIFEST or ".." in Path(rel).parts:
                    continue
                with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                    (self.out / rel).unlink()
            plots = self.out / "plots"
            with contextlib.suppress(OSError):
                if plots.is_dir() and not any(plots.iterdir()):
                    plots.rmdir()
            manifest = {
                "format_version": MANIFEST_VERSION,
                "run_id": self.run_id,
                "command": self.command,
                "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "files": new,
            }
            write_text_atomic(self.out / MANIFEST, json.dumps(manifest, indent=1) + "\n")
        except OSError as exc:
            raise OutputError(
                f"Cannot write results to {self.out} ({_describe(exc)}); choose a writable "
                "output folder with -o."
            ) from None
        self.files = new
        return [self.out / rel for rel in new]

    def _stale_candidates(self) -> list[str]:
        """Files of the previous set this run replaces: a set of the same kind of command.

        A set of another command (say a compare written into an analysis folder) is left
        alone, so one run never deletes another command's results.
        """
        kind = _KIND.get(self.command, self.command)
        previous = read_manifest(self.out)
        if previous is not None:
            same = _KIND.get(str(previous.get("command")), previous.get("command")) == kind
            return [str(f) for f in previous["files"]] if same else []
        found: list[str] = []
        for pattern in LEGACY_NAMES.get(kind, ()):
            found += [p.relative_to(self.out).as_posix() for p in self.out.glob(pattern)
                      if p.is_file()]
        return found


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on the folder itself (no lock file left behind)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Windows; publishing is then unlocked
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back during the few renames of publishing, then deliver them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    kinds = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.getsignal(s) for s in kinds}
    for s in kinds:
        signal.signal(s, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        if caught:
            signal.raise_signal(caught[0])


@contextlib.contextmanager
def output_set(out_dir: str | Path, command: str) -> Iterator[OutputSet]:
    """Stage a run's files and publish them as one set when the block ends without error.

    Examples
    --------
    >>> with output_set("out", "analyze") as s:  # doctest: +SKIP
    ...     (s.staging / "analysis.json").write_text("{}")
    """
    out = check_out_dir(out_dir)
    created = _make_out_dir(out)
    remove_dead_staging(out)
    run_id = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"
    staging = out / f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir()
    except OSError as exc:
        raise OutputError(
            f"Cannot write results to {out} ({_describe(exc)}); choose a writable output "
            "folder with -o."
        ) from None
    oset = OutputSet(out, staging, run_id, command)
    try:
        yield oset
        oset.publish()
        created = None  # published: the folders stay
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS, errno.EPERM):
            raise OutputError(
                f"Cannot write results to {out} ({_describe(exc)}); free some space or choose "
                "a writable output folder with -o."
            ) from None
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created is not None:  # nothing published: remove the folders this run made
            with contextlib.suppress(OSError):
                _remove_empty_up_to(out.absolute(), created)


def _remove_empty_up_to(folder: Path, top: Path) -> None:
    while True:
        folder.rmdir()
        if folder == top:
            return
        folder = folder.parent


def remap(paths: dict[str, Path], oset: OutputSet) -> dict[str, Path]:
    """Staged paths -> final paths (for return values of writers that wrote into staging)."""
    return {k: oset.final(v) for k, v in paths.items()}
