"""The web app: upload a phone video, watch it being analysed, see the report and the history.

``gaitcheck serve`` runs :func:`create_app` under uvicorn. Pages are server-rendered Jinja2
templates with a little vanilla JavaScript (no build step); the queue is the store's job table,
worked by separate analysis processes (:mod:`.worker`). See ``docs/web.md``.

FastAPI is imported only when the app is built, so the other commands start as fast as before.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WebSettings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "WebSettings":
        from .settings import WebSettings

        return WebSettings
    raise AttributeError(name)
