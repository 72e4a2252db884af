"""Command ``gaitcheck serve``: the web app under uvicorn.

Registered in :data:`gaitcheck.cli.SUBCOMMANDS` through :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .settings import DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_UPLOADS_PER_WINDOW, TOKEN_ENV


def _add_serve(sub: Any) -> None:
    p = sub.add_parser(
        "serve", help="web app: upload videos, follow the analysis, see reports and history",
        description="Serve the web app on http://HOST:PORT using the same store as "
        "'gaitcheck batch'. Binds to 127.0.0.1 (this machine only) unless --host says "
        f"otherwise; any other host needs --token (or {TOKEN_ENV}), which every request must "
        "then carry (open http://HOST:PORT/?token=SECRET once on a phone). Exit 2 when the "
        "options are wrong or the data folder is used by another server.")
    p.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="the store's folder (default: $GAITCHECK_DATA_DIR, else the user's "
                   "data directory, e.g. ~/.local/share/gaitcheck)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 for the local "
                   "network, with --token)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="analysis processes (default 1; each needs about 1 GiB of memory)")
    p.add_argument("--token", metavar="SECRET",
                   help=f"access token (at least 8 characters; default ${TOKEN_ENV})")
    p.add_argument("--max-upload-mb", type=float, default=DEFAULT_MAX_UPLOAD_BYTES / (1 << 20),
                   metavar="MB", help="largest upload accepted (default 1024 MiB)")
    p.add_argument("--uploads-per-hour", type=int, default=DEFAULT_UPLOADS_PER_WINDOW,
                   metavar="N", help="uploads accepted per client per hour (default "
                   f"{DEFAULT_UPLOADS_PER_WINDOW})")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="TOML settings applied to every upload ([pose], [clean], [report] ...)")
    p.add_argument("-q", "--quiet", action="store_true", help="log only warnings")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    """``gaitcheck serve``."""
    import uvicorn

    from ..store import resolve_data_dir
    from . import create_app
    from .settings import WebSettings

    settings = WebSettings(
        data_dir=resolve_data_dir(args.data_dir), host=args.host, port=args.port,
        token=args.token, workers=args.workers,
        max_upload_bytes=int(args.max_upload_mb * (1 << 20)),
        uploads_per_window=args.uploads_per_hour, config_path=args.config, quiet=args.quiet)
    app = create_app(settings)
    ensure_free(settings.data_dir)
    print(f"gaitcheck serving http://{args.host}:{args.port}/ with {settings.workers} analysis "
          f"process(es); data folder {settings.data_dir}.", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning" if args.quiet
                else "info", server_header=False)
    return 0


def ensure_free(data_dir: Path) -> None:
    """Refuse to start (one sentence, exit 2) when another server uses the data folder; the
    app takes the lock itself when it starts."""
    from filelock import FileLock, Timeout

    from .app import SERVE_LOCK, ServerBusy

    lock = FileLock(str(data_dir / SERVE_LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ServerBusy(f"Another gaitcheck server is using the data folder {data_dir}; stop "
                         "it first or give another --data-dir.") from None
    lock.release()


COMMANDS: list[Callable[[Any], None]] = [_add_serve]
