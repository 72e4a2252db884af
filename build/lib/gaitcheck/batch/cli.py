"""Commands ``gaitcheck batch``, ``gaitcheck history`` and ``gaitcheck athletes``.

Registered in :data:`gaitcheck.cli.SUBCOMMANDS` through :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="the store's folder (default: $GAITCHECK_DATA_DIR, else the user's "
                   "data directory, e.g. ~/.local/share/gaitcheck)")


def _add_batch(sub: Any) -> None:
    from ..cli import add_video_options

    p = sub.add_parser(
        "batch", help="analyse a group's videos (roster CSV or folder) into the store",
        description="Analyse every video of a roster CSV (columns athlete, video, date, view, "
        "height_cm, pace, pain, red_flags, capture_fps, notes; paths relative to the CSV) or of "
        "a folder FOLDER/<athlete>/<videos>; each video once per content and settings. Writes "
        "group.html, summary.csv and athletes/<name>.html to REPORT_DIR. Exit 0: all analysed; "
        "3: some failed (listed); 2: the input or options are wrong. Rerun the same command "
        "after an interruption: finished videos are not redone.")
    p.add_argument("input", type=Path, help="roster CSV or folder of athlete sub-folders")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="REPORT_DIR",
                   help="folder for group.html, summary.csv and athletes/")
    _add_data_dir(p)
    p.add_argument("--workers", type=int, metavar="N",
                   help=f"worker processes (default: the number of cores, {os.cpu_count()})")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask cluster: tcp://HOST:8786, or 'local' for a Dask "
                   "LocalCluster of --workers processes on this machine")
    p.add_argument("--ship-videos", action="store_true",
                   help="with --scheduler: send each video's bytes to its worker (for workers "
                   "that do not share the videos' file system)")
    p.add_argument("--view", choices=["auto", "side-left", "side-right", "rear", "front"],
                   help="camera view for rows that give none (default: detected)")
    p.add_argument("--rules", metavar="FILE", help="a coach's own rules table (TOML)")
    p.add_argument("--no-plots", action="store_true", help="skip the per-session figures")
    p.add_argument("--no-overlay", action="store_true", help="skip the annotated videos")
    add_video_options(p)
    p.set_defaults(func=cmd_batch)


def cmd_batch(args: argparse.Namespace) -> int:
    """``gaitcheck batch INPUT -o REPORT_DIR``."""
    from ..errors import ConfigError
    from ..store import Store
    from .group import write_group_report
    from .runner import run_batch
    from .sources import read_input

    if args.workers is not None and args.workers < 1:
        raise ConfigError("--workers must be 1 or more.")
    if args.ship_videos and not args.scheduler:
        raise ConfigError("--ship-videos needs --scheduler (it sends videos to Dask workers).")
    overrides = {
        "pose": {"model": args.model, "capture_fps": args.capture_fps, "start_s": args.start,
                 "end_s": args.end, "use_cache": False if args.no_cache else None},
        "analysis": {"view": args.view},
        "report": {"rules": args.rules, "plots": False if args.no_plots else None,
                   "overlay": False if args.no_overlay else None},
    }
    items = read_input(args.input)
    store = Store(args.data_dir)
    result = run_batch(items, store, config_path=args.config, overrides=overrides,
                       workers=args.workers, scheduler=args.scheduler,
                       ship_videos=args.ship_videos, progress=not args.quiet)
    written = write_group_report(store, result.session_ids, args.out, result.failed)
    print(f"{len(result.analysed)} analysed, {len(result.reused)} already in the store, "
          f"{len(result.failed)} failed; data folder {store.data_dir}.")
    print(f"Wrote {written['group']}, {written['summary']} and "
          f"{sum(k.startswith('athlete:') for k in written)} athlete page(s).")
    if result.failed:
        print("Not analysed:", file=sys.stderr)
        for item, reason in result.failed:
            print(f"  {item.athlete}, {item.video}: {reason}", file=sys.stderr)
    return result.exit_code


def _add_history(sub: Any) -> None:
    p = sub.add_parser("history", help="one athlete's stored sessions",
                       description="List an athlete's sessions in the store, oldest first, "
                       "with verdict and headline metrics.")
    p.add_argument("athlete", help="athlete name (case does not matter)")
    _add_data_dir(p)
    p.set_defaults(func=cmd_history)


def cmd_history(args: argparse.Namespace) -> int:
    """``gaitcheck history ATHLETE``."""
    from ..errors import GaitcheckError
    from ..store import Store
    from .group import metric_order

    store = Store(args.data_dir)
    athlete = store.find_athlete(args.athlete)
    if athlete is None:
        known = ", ".join(a.name for a in store.athletes()) or "none yet"
        raise GaitcheckError(f"No athlete called '{args.athlete}' in {store.data_dir} "
                             f"(athletes: {known}).")
    sessions = store.sessions(athlete.name)
    keys = metric_order(sessions)[:6]
    head = f"{'date':<11}{'view':<11}{'verdict':<19}" + "".join(f"{k[:14]:>15}" for k in keys)
    lines = [f"{athlete.name}: {len(sessions)} session(s)", head]
    for s in sessions:
        vals = "".join(f"{_num(s.metrics.get(k)):>15}" for k in keys)
        lines.append(f"{s.date:<11}{(s.view or '-'):<11}{(s.verdict or '-'):<19}{vals}"
                     f"  {s.video_name} [{s.id}]")
    failed = [j for j in store.jobs("failed") if j.athlete_id == athlete.id]
    for j in failed:
        lines.append(f"failed: {Path(j.video_path).name} ({j.date}): {j.error}")
    print("\n".join(lines))
    return 0


def _num(metric: Any) -> str:
    v = (metric or {}).get("value")
    return "-" if not isinstance(v, int | float) else f"{v:.1f}"


def _add_athletes(sub: Any) -> None:
    p = sub.add_parser("athletes", help="athletes in the store",
                       description="List the athletes in the store with their number of "
                       "sessions and latest session date.")
    _add_data_dir(p)
    p.set_defaults(func=cmd_athletes)


def cmd_athletes(args: argparse.Namespace) -> int:
    """``gaitcheck athletes``."""
    from ..store import Store

    store = Store(args.data_dir)
    athletes = store.athletes()
    print(f"{len(athletes)} athlete(s) in {store.data_dir}")
    for a in athletes:
        print(f"{a.name:<30}{a.n_sessions:>4} session(s)   latest {a.last_date or '-'}")
    return 0


COMMANDS: list[Callable[[Any], None]] = [_add_batch, _add_history, _add_athletes]
