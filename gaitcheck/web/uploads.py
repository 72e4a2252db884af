"""Receiving an upload: stream the multipart body to disk with a size limit, hash it on the way,
then decide by the content (never the name or the browser's type) whether it is a video.

The client's file name is kept only as text for the page; the file is stored as
``DATA/uploads/<random id>.video``.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header

from ..errors import VideoError

UPLOADS_DIR = "uploads"
PART_PREFIX = ".part-"
FILE_FIELD = "video"
MAX_FIELD_BYTES = 10_000  # a form field (athlete name, pace, ...) is never longer
MAX_FIELDS = 64
FORM_OVERHEAD_BYTES = 1 << 20  # room for the form's own fields around the file

# Container signatures (ISO BMFF covers mp4/mov/m4v/3gp; EBML covers mkv/webm).
_MAGIC_AT_4 = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")


class UploadRefused(Exception):
    """An upload that cannot be accepted: HTTP ``status`` and one sentence."""

    def __init__(self, status: int, sentence: str) -> None:
        super().__init__(sentence)
        self.status = status
        self.sentence = sentence


@dataclass
class Upload:
    """A received upload: the stored file, its hash and size, and the other form fields."""

    path: Path | None = None
    filename: str = ""
    size_bytes: int = 0
    sha256: str = ""
    fields: dict[str, list[str]] = field(default_factory=dict)

    def first(self, name: str) -> str:
        """The first value of a text field, blanks stripped ('' when absent)."""
        return (self.fields.get(name) or [""])[0].strip()

    def discard(self) -> None:
        """Remove the stored file."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def uploads_dir(data_dir: Path) -> Path:
    """``DATA/uploads``, created if missing."""
    path = data_dir / UPLOADS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def too_large(max_bytes: int) -> UploadRefused:
    """413 with the limit in words."""
    mb = max_bytes / (1 << 20)
    limit = f"{mb / 1024:g} GiB" if mb >= 1024 else f"{mb:g} MiB"
    return UploadRefused(413, f"The video is larger than this server accepts ({limit}); "
                         "trim it to 15-30 s of running or film at a lower resolution.")


class _Receiver:
    """Callbacks of the streaming multipart parser: one file part to disk, small text fields
    to memory."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.upload = Upload()
        self.error: UploadRefused | None = None
        self._hname = b""
        self._hvalue = b""
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._is_file = False
        self._text = bytearray()
        self._fh: BinaryIO | None = None
        self._hash = hashlib.sha256()

    # header callbacks
    def on_part_begin(self) -> None:
        self._headers, self._text = {}, bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._hname.lower()] = self._hvalue
        self._hname, self._hvalue = b"", b""

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        self._is_file = b"filename" in params
        if self._is_file:
            if self._name != FILE_FIELD or self.upload.path is not None:
                self._fail(UploadRefused(400, "Send one video file in the form field "
                                         f"'{FILE_FIELD}'."))
                return
            raw = params[b"filename"].decode("utf-8", "replace")
            self.upload.filename = Path(raw.replace("\\", "/")).name[:200] or "video"
            self.upload.path = self.folder / f"{PART_PREFIX}{secrets.token_hex(12)}"
            self._fh = open(self.upload.path, "wb")  # noqa: SIM115 - closed in on_part_end
        elif sum(len(v) for v in self.upload.fields.values()) >= MAX_FIELDS:
            self._fail(UploadRefused(400, "The form has too many fields."))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        chunk = data[start:end]
        if self._is_file:
            self.upload.size_bytes += len(chunk)
            if self.upload.size_bytes > self.max_bytes:
                self._fail(too_large(self.max_bytes))
                return
            self._hash.update(chunk)
            assert self._fh is not None
            self._fh.write(chunk)
        else:
            self._text += chunk
            if len(self._text) > MAX_FIELD_BYTES:
                self._fail(UploadRefused(400, f"The form field '{self._name}' is too long."))

    def on_part_end(self) -> None:
        if self._is_file and self._fh is not None:
            self._fh.close()
            self._fh = None
        elif not self._is_file and self.error is None:
            self.upload.fields.setdefault(self._name, []).append(
                self._text.decode("utf-8", "replace"))

    def _fail(self, error: UploadRefused) -> None:
        if self.error is None:
            self.error = error

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


async def receive(stream: AsyncIterator[bytes], content_type: str, content_length: str | None,
                  data_dir: Path, max_bytes: int) -> Upload:
    """Read a ``multipart/form-data`` body chunk by chunk.

    The file part goes to ``DATA/uploads/.part-<random>`` and is renamed to
    ``<random>.video`` once complete; nothing is left behind on any error.

    Raises
    ------
    UploadRefused
        400 for a malformed form or no file, 413 when the file exceeds ``max_bytes``.
    """
    mime, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise UploadRefused(400, "Send the video as a form upload (multipart/form-data) in the "
                            f"field '{FILE_FIELD}'.")
    if content_length and content_length.isdigit() and \
            int(content_length) > max_bytes + FORM_OVERHEAD_BYTES:
        raise too_large(max_bytes)  # refuse before reading a byte
    rec = _Receiver(uploads_dir(data_dir), max_bytes)
    parser = MultipartParser(boundary, {
        "on_part_begin": rec.on_part_begin, "on_part_data": rec.on_part_data,
        "on_part_end": rec.on_part_end, "on_header_field": rec.on_header_field,
        "on_header_value": rec.on_header_value, "on_header_end": rec.on_header_end,
        "on_headers_finished": rec.on_headers_finished})
    try:
        async for chunk in stream:
            parser.write(chunk)
            if rec.error is not None:
                raise rec.error
        parser.finalize()
        if rec.error is not None:
            raise rec.error
        if rec.upload.path is None or rec.upload.size_bytes == 0:
            raise UploadRefused(400, "No video was sent: choose or film a video first.")
    except BaseException as exc:
        rec.close()
        rec.upload.discard()
        if isinstance(exc, UploadRefused):
            raise
        if isinstance(exc, Exception):
            raise UploadRefused(400, "The upload was cut off or malformed; try again.") from None
        raise
    rec.close()
    upload = rec.upload
    assert upload.path is not None
    final = upload.path.with_name(upload.path.name.removeprefix(PART_PREFIX) + ".video")
    os.replace(upload.path, final)
    upload.path = final
    upload.sha256 = rec._hash.hexdigest()
    return upload


def looks_like_video(path: Path) -> bool:
    """Whether the first bytes carry a known video container's signature."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    return (head[4:8] in _MAGIC_AT_4 or head[:4] == b"\x1a\x45\xdf\xa3"
            or (head[:4] == b"RIFF" and head[8:12] == b"AVI ") or head[:3] == b"FLV"
            or head[:4] == b"\x00\x00\x01\xba")


def check_video(upload: Upload) -> None:
    """Probe the stored file as the CLI does; refuse what is not a readable video.

    Raises
    ------
    UploadRefused
        415 when the content is not a video container at all, 422 when it is one that cannot
        be read (truncated, no frames, undecodable), each with the CLI's sentence naming the
        file as the client called it.
    """
    from ..video import probe

    assert upload.path is not None
    known = looks_like_video(upload.path)
    try:
        probe(upload.path)
    except VideoError as exc:
        sentence = str(exc).replace(str(upload.path), upload.filename)
        raise UploadRefused(422 if known else 415, sentence) from None
