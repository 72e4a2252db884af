"""Command line: thin subcommands over the Python API.

Each subcommand is two small functions: ``_add_<name>(subparsers)`` declares its options and
``cmd_<name>(args) -> int`` runs it. Register new ones in :data:`SUBCOMMANDS`. Options shared
by every command that reads a video (``--config``, ``--model``, ``--capture-fps``, ``--start``,
``--end``, ``--no-cache``) are added by :func:`add_video_options` and turned into a
:class:`~gaitcheck.config.Config` by :func:`config_from_args`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .config import Config, load_config
from .errors import GaitcheckError


def add_video_options(p: argparse.ArgumentParser) -> None:
    """Options shared by commands that read a video."""
    p.add_argument("--config", metavar="FILE", help="TOML settings file ([pose], [clean], ...)")
    p.add_argument("--model", help="pose model: lite, full (bundled, default), heavy or a "
                   ".task file")
    p.add_argument("--capture-fps", type=float, metavar="HZ",
                   help="real capture rate of a slow-motion clip (e.g. 240 for one exported "
                   "at 30); times are then real seconds")
    p.add_argument("--start", type=float, metavar="S", help="skip frames before S seconds")
    p.add_argument("--end", type=float, metavar="S", help="stop at S seconds")
    p.add_argument("--no-cache", action="store_true", help="rerun the pose model even if a "
                   "saved result exists")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def config_from_args(args: argparse.Namespace, **sections: dict[str, Any]) -> Config:
    """Config from ``--config FILE`` plus the command-line overrides (unset options ignored)."""
    overrides: dict[str, dict[str, Any]] = {
        "pose": {
            "model": args.model,
            "capture_fps": args.capture_fps,
            "start_s": args.start,
            "end_s": args.end,
            "use_cache": False if args.no_cache else None,
        }
    }
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    return load_config(args.config, overrides)


# ---------------------------------------------------------------------------- pose
def _add_pose(sub: Any) -> None:
    p = sub.add_parser("pose", help="extract the pose series of a video",
                       description="Run the pose model on every frame and save the landmarks "
                       "(pose.npz, pose.csv, optionally pose.trc).")
    p.add_argument("video", type=Path, help="video file")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="OUT_DIR",
                   help="output folder")
    p.add_argument("--trc", action="store_true", help="also write pose.trc (OpenSim markers)")
    add_video_options(p)
    p.set_defaults(func=cmd_pose)


def pose_summary(series: Any, written: Sequence[Path]) -> str:
    """One paragraph describing a pose series and the files written."""
    meta = series.meta
    slow = ""
    if meta.get("capture_fps") and meta.get("nominal_fps") and \
            abs(meta["capture_fps"] - meta["nominal_fps"]) > 1e-6:
        slow = f" (slow motion: file at {meta['nominal_fps']:g} fps, times in real seconds)"
    vfr = "variable" if meta.get("variable_frame_rate") else "constant"
    w, h = series.frame_size
    sha = str(meta.get("model_sha256", ""))[:12]
    return (
        f"{Path(series.source).name}: {series.n_frames} frames at {series.fps:g} fps{slow}, "
        f"{series.duration_s:.2f} s, {vfr} frame rate, {w}x{h} px upright (rotation "
        f"{series.rotation_deg} deg); a pose was found in {series.pose_share:.1%} of frames; "
        f"model {series.model} ({meta.get('model_origin', '?')}, sha256 {sha}...). "
        f"Wrote {', '.join(str(p) for p in written)}."
    )


def cmd_pose(args: argparse.Namespace) -> int:
    """``gaitcheck pose VIDEO -o OUT_DIR``."""
    from .pose import load_or_extract, save_outputs

    cfg = config_from_args(args)
    series = load_or_extract(args.video, cfg, args.out, progress=not args.quiet,
                             cache=cfg.pose.use_cache)
    written = save_outputs(series, args.out, trc=args.trc)
    print(pose_summary(series, written))
    return 0


# ---------------------------------------------------------------------------- main
SUBCOMMANDS: list[Callable[[Any], None]] = [_add_pose]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="gaitcheck", description="Running gait analysis from a phone video."
    )
    parser.add_argument("--version", action="version", version=f"gaitcheck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run a subcommand; user errors become one line on stderr and exit code 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except GaitcheckError as exc:
        print(f"gaitcheck: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("gaitcheck: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
