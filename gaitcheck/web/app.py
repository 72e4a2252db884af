"""The FastAPI application: routes for the pages, the upload, job status and session files.

Every address that names stored data carries a session id (the store's, a 64-bit hash of
athlete, video content and settings; checked for its shape) or an athlete's number; files are
picked from a fixed list by name, never by a path, so no request can reach outside a session
folder. Errors are one sentence (HTML page, or JSON under
``/api/`` and for clients that ask for JSON); tracebacks go to the server log only.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ..errors import GaitcheckError
from ..store import Store, StoreError
from ..store.keys import session_id_for
from . import pages, queue
from .security import RateLimiter, SecurityHeaders, TokenMiddleware
from .settings import WebSettings
from .uploads import PART_PREFIX, UploadRefused, check_video, receive, uploads_dir
from .worker import TMP_PREFIX, UPLOAD_NAME_KEY, WorkerPool

log = logging.getLogger("gaitcheck.web")
STATIC = Path(__file__).parent / "static"
SERVE_LOCK = "serve.lock"

# The files of a session that may be downloaded: address name -> (file, media type).
SESSION_FILES = {
    "analysis.json": ("analysis.json", "application/json"),
    "steps.csv": ("steps.csv", "text/csv"),
    "cycles.csv": ("cycles.csv", "text/csv"),
    "report.md": ("report.md", "text/markdown"),
    "report.html": ("report.html", "text/html"),
    "overlay.mp4": ("overlay.mp4", "video/mp4"),
}
SENTENCES = {
    400: "The request is malformed.",
    401: "This server needs its access token.",
    404: "There is nothing at this address; it may have been deleted.",
    405: "This address does not accept that kind of request.",
    413: "The upload is too large.",
    422: "The request's values are not valid.",
    429: "Too many uploads from this device; wait a little and try again.",
    500: "Something went wrong on the server; the details are in its log.",
}


class ServerBusy(StoreError):
    """Another server already works this data folder's queue."""


def wants_json(request: Request) -> bool:
    """API addresses and clients that ask for JSON get JSON errors."""
    return request.url.path.startswith("/api/") or \
        "application/json" in request.headers.get("accept", "")


def create_app(settings: WebSettings) -> FastAPI:
    """Build the app for one data folder.

    Starting it (uvicorn, or ``with TestClient(app)``) takes the data folder's server lock,
    puts jobs interrupted by the last stop back in the queue (or fails them after
    ``settings.max_attempts`` runs) and starts ``settings.workers`` analysis processes;
    stopping it ends them.
    """
    from filelock import FileLock, Timeout

    store = Store(settings.data_dir)
    data_dir = store.data_dir
    pool = WorkerPool(data_dir, settings.workers, settings.poll_s,
                      logging.WARNING if settings.quiet else logging.INFO,
                      settings.max_attempts)
    limiter = RateLimiter(settings.uploads_per_window, settings.upload_window_s)
    lock = FileLock(str(data_dir / SERVE_LOCK))
    view = pages.Pages(store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise ServerBusy(f"Another gaitcheck server is using the data folder {data_dir}; "
                             "stop it first or give another --data-dir.") from None
        try:
            requeued, failed = queue.recover(store, settings.max_attempts)
            if requeued or failed:
                log.info("after the last stop: %d job(s) queued again, %d failed",
                         len(requeued), len(failed))
            for tmp in (data_dir / "sessions").glob(f"{TMP_PREFIX}*"):
                shutil.rmtree(tmp, ignore_errors=True)
            for part in uploads_dir(data_dir).glob(f"{PART_PREFIX}*"):
                part.unlink(missing_ok=True)
            pool.start()
            yield
        finally:
            pool.stop()
            lock.release()

    app = FastAPI(title="gaitcheck", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.add_middleware(TokenMiddleware, token=settings.token)
    app.add_middleware(SecurityHeaders)  # outermost: 401s carry the headers too
    app.state.settings = settings
    app.state.store = store
    app.state.pool = pool

    # ------------------------------------------------------------------ errors
    def error_response(request: Request, status: int, sentence: str,
                       headers: Mapping[str, str] | None = None) -> Response:
        if wants_json(request):
            return JSONResponse({"error": sentence}, status, headers=headers)
        return HTMLResponse(view.error(status, sentence), status, headers=headers)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        sentence = exc.detail if isinstance(exc.detail, str) and exc.detail.endswith(".") \
            else SENTENCES.get(exc.status_code, "The request cannot be served.")
        return error_response(request, exc.status_code, sentence, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 422, SENTENCES[422])

    @app.exception_handler(UploadRefused)
    async def refused(request: Request, exc: UploadRefused) -> Response:
        return error_response(request, exc.status, exc.sentence)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("error serving %s", request.url.path)
        return error_response(request, 500, SENTENCES[500])

    def session_or_404(session_id: str) -> Any:
        s = store.session(session_id) if queue.is_session_id(session_id) else None
        if s is None:
            raise HTTPException(404)
        return s

    # ------------------------------------------------------------------ pages
    @app.get("/", response_class=HTMLResponse)
    def upload_page() -> str:
        return view.upload(settings.max_upload_bytes)

    @app.get("/jobs/{session_id}", response_class=HTMLResponse)
    def job_page(session_id: str) -> Response:
        job = store.job_for_session(session_id) if queue.is_session_id(session_id) else None
        if job is None:
            if queue.is_session_id(session_id) and store.session(session_id) is not None:
                return RedirectResponse(f"/sessions/{session_id}", 303)
            raise HTTPException(404)
        return HTMLResponse(view.job(job, queue.queue_position(store, job)))

    @app.get("/sessions/{session_id}", response_class=HTMLResponse)
    def session_page(session_id: str) -> str:
        return view.session(session_or_404(session_id), SESSION_FILES)

    @app.get("/sessions/{session_id}/files/{name}")
    def session_file(session_id: str, name: str) -> Response:
        s = session_or_404(session_id)
        if name not in SESSION_FILES:
            raise HTTPException(404)
        file, media = SESSION_FILES[name]
        path = store.data_dir / s.output_dir / file
        if not path.is_file():
            raise HTTPException(404)
        inline = name in ("report.html", "overlay.mp4")
        return FileResponse(path, media_type=media,
                            filename=None if inline else f"{s.athlete}-{s.date}-{file}",
                            content_disposition_type="inline" if inline else "attachment")

    @app.post("/sessions/{session_id}/delete")
    def delete_session(session_id: str) -> Response:
        s = session_or_404(session_id)
        job = store.job_for_session(session_id)
        store.delete_session(session_id)
        if job is not None and job.video_path.startswith(f"{queue.UPLOADS_DIR}/"):
            (store.data_dir / job.video_path).unlink(missing_ok=True)
        return RedirectResponse(f"/athletes/{s.athlete_id}", 303)

    @app.get("/athletes", response_class=HTMLResponse)
    def athletes_page() -> str:
        return view.athletes()

    @app.get("/athletes/{athlete_id}", response_class=HTMLResponse)
    def athlete_page(athlete_id: int, a: str | None = None, b: str | None = None) -> str:
        html = view.athlete(athlete_id, a, b)
        if html is None:
            raise HTTPException(404)
        return html

    @app.get("/group", response_class=HTMLResponse)
    def group_page() -> str:
        return view.group()

    @app.get("/static/app.js")
    def app_js() -> Response:
        return FileResponse(STATIC / "app.js", media_type="text/javascript")

    @app.get("/static/web.css")
    def web_css() -> Response:
        return FileResponse(STATIC / "web.css", media_type="text/css")

    # ------------------------------------------------------------------ API
    @app.get("/api/jobs/{session_id}")
    async def job_status(session_id: str) -> dict[str, Any]:
        # On the event loop: one indexed read, quicker than a hop to the thread pool.
        job = store.job_for_session(session_id) if queue.is_session_id(session_id) else None
        if job is None:
            raise HTTPException(404)
        return pages.job_json(job, queue.queue_position(store, job))

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "workers": pool.alive()}

    @app.post("/upload")
    async def upload(request: Request) -> Response:
        client = request.client.host if request.client else "?"
        wait_s = limiter.allow(client)
        if wait_s:
            raise HTTPException(429, f"Too many uploads from this device; try again in "
                                f"{int(wait_s) + 1} s.", headers={"Retry-After":
                                                                 str(int(wait_s) + 1)})
        up = await receive(request.stream(), request.headers.get("content-type", ""),
                           request.headers.get("content-length"), data_dir,
                           settings.max_upload_bytes)
        try:
            form = await run_in_threadpool(pages.parse_form, up, settings.config_path)
            await run_in_threadpool(check_video, up)
            athlete = store.athlete(form.athlete)
        except UploadRefused:
            up.discard()
            raise
        except GaitcheckError as exc:
            up.discard()
            raise UploadRefused(422, str(exc)) from None
        except BaseException:
            up.discard()
            raise
        assert up.path is not None
        sid = session_id_for(athlete.name, up.sha256, form.settings_hash)
        job = store.job_for_session(sid)
        if store.session(sid) is not None or (job is not None and job.state != "failed"):
            up.discard()  # the same video with the same settings: show what is there
            status = 200
        else:
            job = queue.enqueue(
                store, session_id=sid, athlete_id=athlete.id, date=form.date,
                stored_name=up.path.name, sha256=up.sha256, settings_hash=form.settings_hash,
                settings=form.settings, context={**form.context, UPLOAD_NAME_KEY: up.filename},
                notes=form.notes)
            status = 201
        url = f"/sessions/{sid}" if store.session(sid) is not None else f"/jobs/{sid}"
        if wants_json(request):
            return JSONResponse({"session_id": sid, "url": url}, status)
        return RedirectResponse(url, 303)

    return app
