"""Command line: thin subcommands over the Python API.

Each subcommand is two small functions: ``_add_<name>(subparsers)`` declares its options and
``cmd_<name>(args) -> int`` runs it. Register new ones in :data:`SUBCOMMANDS`. Options shared
by every command that reads a video (``--config``, ``--model``, ``--capture-fps``, ``--start``,
``--end``, ``--no-cache``) are added by :func:`add_video_options` and turned into a
:class:`~gaitcheck.config.Config` by :func:`config_from_args`.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .batch import cli as batch_commands
from .config import Config, load_config
from .errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    GaitcheckError,
    GaitcheckWarning,
    Interrupted,
    write_crash_log,
)
from .web import cli as web_commands


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


def add_pose_workers_option(p: argparse.ArgumentParser) -> None:
    """``--pose-workers`` for single-video commands (batch fills the cores with its jobs)."""
    p.add_argument("--pose-workers", type=int, metavar="N", help="video segments tracked "
                   "at once by the pose model (default: one per core; the result is the same "
                   "for any N)")


def config_from_args(args: argparse.Namespace, **sections: dict[str, Any]) -> Config:
    """Config from ``--config FILE`` plus the command-line overrides (unset options ignored)."""
    overrides: dict[str, dict[str, Any]] = {
        "pose": {
            "model": args.model,
            "capture_fps": args.capture_fps,
            "start_s": args.start,
            "end_s": args.end,
            "use_cache": False if args.no_cache else None,
            "workers": getattr(args, "pose_workers", None),
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
    p.add_argument("--height-cm", type=float, metavar="CM",
                   help="runner's height: pose.trc is then in metres instead of pixels")
    add_video_options(p)
    add_pose_workers_option(p)
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
    turn = f", turned {meta['turn_deg']} deg (tag missing or wrong)" if meta.get("turn_deg") else ""
    extra = ""
    if meta.get("repeated_frames"):
        extra += f"; {len(meta['repeated_frames'])} frames repeat the picture before"
    if int(meta.get("people_max") or 1) > 1:
        extra += f"; up to {meta['people_max']} people in view"
    return (
        f"{Path(series.source).name}: {series.n_frames} frames at {series.fps:g} fps{slow}, "
        f"{series.duration_s:.2f} s, {vfr} frame rate, {w}x{h} px upright (rotation "
        f"{series.rotation_deg} deg{turn}); a pose was found in {series.pose_share:.1%} of "
        f"frames{extra}; "
        f"model {series.model} ({meta.get('model_origin', '?')}, sha256 {sha}...). "
        f"Wrote {', '.join(str(p) for p in written)}."
    )


def cmd_pose(args: argparse.Namespace) -> int:
    """``gaitcheck pose VIDEO -o OUT_DIR``."""
    from .api import pose_video_to_dir

    cfg = config_from_args(args)
    if args.height_cm is not None and not 100.0 <= args.height_cm <= 230.0:
        from .errors import ConfigError

        raise ConfigError(f"Height {args.height_cm:g} cm is outside 100-230 cm; give it in cm.")
    series, written = pose_video_to_dir(args.video, args.out, cfg, trc=args.trc,
                                        progress=not args.quiet, height_cm=args.height_cm)
    print(pose_summary(series, written))
    warn_truncated(series.meta.get("truncated_video"))
    return 0


def warn_truncated(truncated: Any) -> None:
    """Tell the user on stderr that the video ends before its announced length."""
    if isinstance(truncated, dict):
        from .analysis import truncation_sentence

        print(f"gaitcheck: warning: {truncation_sentence(truncated)}", file=sys.stderr)


# ---------------------------------------------------------------------------- analyze
def add_analysis_options(p: argparse.ArgumentParser) -> None:
    """Options for the analysis and the report (shared by analyze and demo)."""
    p.add_argument("-o", "--out", type=Path, required=True, metavar="OUT_DIR",
                   help="folder for analysis.json, steps.csv, cycles.csv and the report")
    p.add_argument("--view", choices=["auto", "side-left", "side-right", "rear", "front"],
                   help="camera view (default: detected)")
    p.add_argument("--rules", metavar="FILE", help="a coach's own rules table (TOML)")
    p.add_argument("--height-cm", type=float, metavar="CM",
                   help="runner's height: distances in %% of leg length are also given in cm, "
                   "and the step-rate advice is personalised")
    p.add_argument("--pace", help="running pace in the clip, e.g. 5:30/km or 9:00/mi")
    from .findings import PAIN_LOCATIONS, RED_FLAGS

    p.add_argument("--pain", action="append", metavar="WHERE[:SIDE]",
                   help=f"where it hurts: {', '.join(PAIN_LOCATIONS)}; add :left, :right or "
                   ":both to name the side, e.g. outer-hip:left (repeatable)")
    p.add_argument("--mileage-change", type=float, metavar="PCT",
                   help="change of weekly mileage over recent weeks, in percent")
    p.add_argument("--red-flag", action="append", metavar="FLAG",
                   help=f"a warning sign you have: {', '.join(RED_FLAGS)} (repeatable); puts a "
                   "see-a-professional block first and holds back self-treatment advice")
    p.add_argument("--no-plots", action="store_true", help="skip the figures")


def report_overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Config overrides of the analysis/report options (unset ones are None)."""
    return {
        "analysis": {"view": args.view},
        "report": {
            "rules": args.rules, "height_cm": args.height_cm, "pace": args.pace,
            "pain": tuple(args.pain) if args.pain else None,
            "weekly_mileage_change_pct": args.mileage_change,
            "red_flags": tuple(args.red_flag) if args.red_flag else None,
            "plots": False if args.no_plots else None,
            "overlay": False if getattr(args, "no_overlay", False) else None,
        },
    }


def _add_analyze(sub: Any) -> None:
    p = sub.add_parser("analyze", help="analyse a running video (pose from cache when present)",
                       description="Find every foot strike, measure overstriding (side view) "
                       "or pelvic drop and hip adduction (rear view), and write the report.")
    p.add_argument("video", type=Path, help="video file")
    add_analysis_options(p)
    p.add_argument("--no-overlay", action="store_true", help="skip the annotated video")
    add_video_options(p)
    add_pose_workers_option(p)
    p.set_defaults(func=cmd_analyze)


def metrics_table(data: dict[str, Any]) -> str:
    """Short text table of the headline metrics with left/right and confidence."""
    from .findings import metric_info

    rows = [f"{'measure':<44}{'value':>8}{'left':>8}{'right':>8}  {'unit':<13}confidence"]
    for key, m in data["metrics"].items():
        def f(v: Any) -> str:
            return "-" if v is None else f"{v:.1f}"
        extra = f" ({m['pattern']})" if "pattern" in m else ""
        approx = " approx." if m.get("approximate") else ""
        sides = (m["confidence"].get("sides") or {})
        side_txt = ""
        if sides and len(set(sides.values()) | {m["confidence"]["level"]}) > 1:
            side_txt = f" (L {sides.get('left', '-')}, R {sides.get('right', '-')})"
        name = str(metric_info(key)["name"])[:43]
        rows.append(f"{name:<44}{f(m['value']):>8}{f(m['left']):>8}{f(m['right']):>8}  "
                    f"{m['unit']:<13}{m['confidence']['level']}{side_txt}{approx}{extra}")
    v = data["view"]
    head = (f"view {v['label']} (confidence {v['confidence']:.2f}), {data['activity']['label']}, "
            f"{len(data['steps'])} steps, {data['video']['fps']:.0f} fps")
    return head + "\n" + "\n".join(rows)


def cmd_analyze(args: argparse.Namespace) -> int:
    """``gaitcheck analyze VIDEO -o OUT_DIR``."""
    from .api import analyze_video_to_dir

    cfg = config_from_args(args, **report_overrides(args))
    analysis, written = analyze_video_to_dir(args.video, args.out, cfg, progress=not args.quiet)
    warn_truncated(analysis.data["quality"].get("truncated_video"))
    print(analysis_summary(written, args.out))
    return 0


def analysis_summary(written: dict[str, Path], out: Path) -> str:
    """What the terminal shows after an analysis: verdict, red flags, metrics, findings, notes.

    Read back from the written ``analysis.json`` so it shows exactly what the files hold.
    """
    import json

    from .assessment import headline

    data = json.loads(Path(written["analysis"]).read_text())
    findings = data.get("findings") or []
    lines: list[str] = []
    # Red flags first, as in the report, then the verdict.
    for f in findings:
        if f.get("kind") == "red_flag":
            lines.append(f"SEE A PROFESSIONAL: {f['title']}. {f['why_it_matters']}")
            lines += [f"  - {fl['label']}" for fl in f.get("flags") or []]
    a = data.get("assessment")
    if a:
        lines.append(f"VERDICT: {a['verdict'].replace('_', ' ')}. "
                     f"{a.get('headline') or headline(data, findings)}")
        lines += [f"  - {r['message']}" for r in a["reasons"]]
    lines += ["", metrics_table(data)]
    shown = [f for f in findings if f.get("kind") in ("threshold", "asymmetry", "context")]
    if shown:
        lines += ["", "Findings, most important first:"]
        # The numbers are the findings' ranks, the same as in report.html and report.md.
        lines += [f"  {f.get('rank') or i}. {f['title']} ({f['severity']}"
                  f"{', borderline' if f.get('borderline') else ''}, confidence "
                  f"{f['confidence']['level']})" for i, f in enumerate(shown[:5], start=1)]
        if len(shown) > 5:
            lines.append(f"  ... {len(shown) - 5} more in the report")
    unsure = [str(f.get("metric_name") or f["metric"]) for f in findings
              if f.get("kind") == "unreliable"]
    if unsure:
        lines.append("Could not judge reliably: " + ", ".join(n.lower() for n in unsure) + ".")
    notes = (data.get("quality") or {}).get("notes") or []
    if notes:
        lines += ["", "Capture notes:"] + [f"  - {n}" for n in notes]
    report = written.get("html")
    lines += ["", f"Report: {report}" if report else "",
              f"Wrote {', '.join(sorted(p.name for p in written.values()))} to {out}"]
    return "\n".join(x for i, x in enumerate(lines) if x or (i and lines[i - 1]))


# ---------------------------------------------------------------------------- demo
def _add_demo(sub: Any) -> None:
    p = sub.add_parser("demo", help="full report from a bundled pose series (no video needed)",
                       description="Analyse the bundled landmarks of a real treadmill run "
                       "(side view) and write the full report, without an overlay video.")
    add_analysis_options(p)
    p.add_argument("--config", metavar="FILE", help="TOML settings file")
    p.add_argument("-q", "--quiet", action="store_true", help="accepted for symmetry with "
                   "analyze (the demo shows no progress bar)")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """``gaitcheck demo -o OUT_DIR``."""
    from .analysis import analyze_pose
    from .api import check_inputs, write_outputs
    from .outputs import output_set
    from .series import PoseSeries

    cfg = load_config(args.config, report_overrides(args))
    check_inputs(None, cfg, args.out)
    series = PoseSeries.load(DEMO_SERIES)
    analysis = analyze_pose(series, cfg)
    analysis.data["demo"] = True  # the reports say they were made from the bundled series
    with output_set(args.out, "demo") as oset:
        staged = write_outputs(analysis, oset.staging, cfg)
    written = {k: oset.final(v) for k, v in staged.items()}
    print(analysis_summary(written, args.out))
    return 0


DEMO_SERIES = Path(__file__).parent / "data" / "demo_side_treadmill.npz"


# ---------------------------------------------------------------------------- compare
def _add_compare(sub: Any) -> None:
    p = sub.add_parser("compare", help="before/after table of two analyses",
                       description="Compare two analysis.json files (earlier run first).")
    p.add_argument("before", type=Path, help="analysis.json (or its folder) of the earlier run")
    p.add_argument("after", type=Path, help="analysis.json (or its folder) of the later run")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="OUT_DIR")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    """``gaitcheck compare A/analysis.json B/analysis.json -o OUT_DIR``."""
    from .compare import write_compare

    written = write_compare(args.before, args.after, args.out)
    md = written.get("markdown") or next((p for p in written.values()
                                          if str(p).endswith(".md")), None)
    if md is not None:
        print(Path(md).read_text())
    print(f"Wrote {', '.join(sorted(Path(p).name for p in written.values()))} to {args.out}")
    return 0


# ---------------------------------------------------------------------------- main
SUBCOMMANDS: list[Callable[[Any], None]] = [_add_pose, _add_analyze, _add_demo, _add_compare]
SUBCOMMANDS += batch_commands.COMMANDS  # batch, history, athletes
SUBCOMMANDS += web_commands.COMMANDS  # serve


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


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                  line: str | None = None) -> None:
    """Warnings as one 'gaitcheck: warning: ...' line (no source location)."""
    print(f"gaitcheck: warning: {message}", file=sys.stderr)


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Interrupted()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run a subcommand under the error contract (README, "Exit codes").

    0 done; 2 bad input (one sentence naming the problem and the fix); 130 interrupted
    (Ctrl-C or SIGTERM; outputs stay as they were); 1 internal error (one line plus the path
    of a log file holding the traceback).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    with contextlib.suppress(ValueError):  # not in the main thread: keep the default
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with warnings.catch_warnings():
            # gaitcheck's own warnings (a healed cache entry) are news for the user, shown
            # once as one line, never turned into errors.
            warnings.simplefilter("always", GaitcheckWarning)
            warnings.showwarning = _show_warning
            return int(args.func(args))
    except GaitcheckError as exc:
        print(f"gaitcheck: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("gaitcheck: interrupted; the output folder keeps its previous results.",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: no traceback on screen, the full one in a log file
        log = write_crash_log(exc, list(sys.argv if argv is None else argv))
        where = f"details in {log}" if log else "no log could be written"
        print(f"gaitcheck: internal error ({type(exc).__name__}); this is a bug, please report "
              f"it with the log ({where}).", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
