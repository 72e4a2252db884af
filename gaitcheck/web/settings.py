"""Settings of one web server: where the data lives, who may connect, the limits."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

DEFAULT_MAX_UPLOAD_BYTES = 1 << 30  # 1 GiB: a 60 fps phone clip of a few minutes
DEFAULT_UPLOADS_PER_WINDOW = 20
DEFAULT_UPLOAD_WINDOW_S = 3600.0
TOKEN_ENV = "GAITCHECK_TOKEN"


def is_loopback(host: str) -> bool:
    """True for a host name or address that only this machine can reach."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class WebSettings:
    """Everything :func:`gaitcheck.web.create_app` needs.

    Attributes
    ----------
    data_dir : Path
        The store's folder (shared with ``gaitcheck batch``).
    host : str
        Address uvicorn binds to; any non-loopback address needs ``token``.
    token : str or None
        Shared secret checked on every request (header, cookie or ``?token=`` once).
    workers : int
        Analysis processes working the queue (0: none; jobs wait, for tests of the queue).
    max_upload_bytes : int
        Larger uploads are refused with 413.
    uploads_per_window, upload_window_s : int, float
        Per-client upload rate limit: at most this many uploads per window (429 beyond).
    poll_s : float
        How often an idle analysis process looks for a queued job.
    config_path : Path or None
        TOML settings applied to every upload (model, cleaning, rules, ...).
    max_attempts : int
        A job interrupted by a stop is retried on start until it has run this many times.
    quiet : bool
        Analysis processes log only warnings.
    """

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    workers: int = 1
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    uploads_per_window: int = DEFAULT_UPLOADS_PER_WINDOW
    upload_window_s: float = DEFAULT_UPLOAD_WINDOW_S
    poll_s: float = 0.5
    config_path: Path | None = None
    max_attempts: int = 2
    quiet: bool = False

    def __post_init__(self) -> None:
        if self.token is None and os.environ.get(TOKEN_ENV):
            object.__setattr__(self, "token", os.environ[TOKEN_ENV])
        if self.token is not None and len(self.token) < 8:
            raise ConfigError("The access token must be at least 8 characters long.")
        if not is_loopback(self.host) and not self.token:
            raise ConfigError(
                f"Serving on {self.host} lets other machines connect: give --token SECRET "
                f"(or set {TOKEN_ENV}), or keep the default host 127.0.0.1."
            )
        if self.workers < 0:
            raise ConfigError("--workers must be 0 or more.")
        if self.max_upload_bytes < 1:
            raise ConfigError("--max-upload-mb must be positive.")
        if self.uploads_per_window < 1 or self.upload_window_s <= 0:
            raise ConfigError("The upload rate limit must allow at least one upload.")
