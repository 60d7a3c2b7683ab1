"""Receiving an upload: the multipart body streamed to files on disk as it arrives, counted
against the size limit while it streams, so a multi-gigabyte export never sits in memory and an
upload over the limit is refused as soon as it crosses it (or at once, from its Content-Length).

Starlette's own form parser has no total-size limit and would write the whole body before the
route could look at it; this one also checks the CSRF value before the first file byte is kept.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from hearth.errors import HearthError
from hearth.server.web.common import CsrfFailed

DEFAULT_LIMIT = 4 << 30
MAX_FILES = 20_000
MAX_FIELD = 64 << 10
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_BAD = re.compile(r"[\x00-\x1f\x7f]")


class UploadTooLarge(HearthError):
    status = 413


class BadUpload(HearthError):
    status = 400


def human(size: int) -> str:
    for unit, div in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= div:
            return f"{size / div:.1f} {unit}"
    return f"{size} bytes"


def parse_size(text: str) -> int:
    """'4G', '500M', '123456' → bytes (what HEARTH_MAX_UPLOAD takes)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not m:
        raise HearthError(f"Cannot read the size {text!r}.", hint="Write it like 4G, 500M or a number of bytes.")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def upload_limit(app_state: object) -> int:
    """The largest upload accepted: `app.state.upload_limit`, else HEARTH_MAX_UPLOAD, else 4 GB."""
    value = getattr(app_state, "upload_limit", None)
    if isinstance(value, int):
        return value
    env = os.environ.get("HEARTH_MAX_UPLOAD")
    return parse_size(env) if env else DEFAULT_LIMIT


def too_large(limit: int) -> UploadTooLarge:
    return UploadTooLarge(
        f"The upload is larger than the limit of {human(limit)}; nothing was imported.",
        hint="Import it from the command line instead (`hearth import PATH`), or start the server with a larger "
        "HEARTH_MAX_UPLOAD.",
    )


def safe_relpath(filename: str) -> Path | None:
    """A browser's file name (a folder upload sends `folder/sub/file.json`) as a relative path with
    no way out of the upload folder: no absolute paths, no `..`, no control characters."""
    parts = [_BAD.sub("", p).strip()[:200] for p in re.split(r"[\\/]+", filename)]
    parts = [p for p in parts if p not in ("", ".", "..")]
    return Path(*parts) if parts else None


@dataclass
class Received:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    """Paths relative to the destination folder, in upload order."""
    size: int = 0


class _Receiver:
    def __init__(self, dest: Path, limit: int, allowed: Callable[[dict[str, str]], bool]) -> None:
        self.dest, self.limit, self.allowed = dest, limit, allowed
        self.out = Received()
        self.headers: dict[bytes, bytes] = {}
        self.name = self.value = b""
        self.field_name: str | None = None
        self.data = bytearray()
        self.file: IO[bytes] | None = None
        self.checked = False

    def on_part_begin(self) -> None:
        self.headers, self.field_name, self.file, self.data = {}, None, None, bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.name.lower()] = self.value
        self.name = self.value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.field_name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options:
            return
        if not self.checked:
            if not self.allowed(self.out.fields):
                raise CsrfFailed
            self.checked = True
        rel = safe_relpath(options[b"filename"].decode("utf-8", "replace"))
        if rel is None:
            return  # an empty file input
        if len(self.out.files) >= MAX_FILES:
            raise BadUpload(f"More than {MAX_FILES:,} files in one upload.", hint="Upload a zip instead.")
        target = self.dest / rel
        n = 1
        while target.exists() or rel in self.out.files:
            rel = rel.with_name(f"{rel.stem}-{n}{rel.suffix}")
            target, n = self.dest / rel, n + 1
        target.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(target, "wb")  # noqa: SIM115 — closed in on_part_end or by close()
        self.out.files.append(rel)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.file is not None:
            self.out.size += end - start
            if self.out.size > self.limit:
                raise too_large(self.limit)
            self.file.write(data[start:end])
        elif self.field_name is not None:
            if len(self.data) + end - start > MAX_FIELD:
                raise BadUpload("A form field is too long.")
            self.data += data[start:end]

    def on_part_end(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        elif self.field_name:
            self.out.fields[self.field_name] = self.data.decode("utf-8", "replace")

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


async def receive(request: Request, dest: Path, limit: int, allowed: Callable[[dict[str, str]], bool]) -> Received:
    """Stream a multipart upload into `dest`; `allowed(fields so far)` must pass before any file
    is written (the CSRF check: the form puts its `csrf` field first)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + (1 << 20):
        raise too_large(limit)
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or b"boundary" not in params:
        raise BadUpload("The upload must be sent as a multipart form.", hint="Use the import form.")
    receiver = _Receiver(dest, limit, allowed)
    callbacks = {name: getattr(receiver, name) for name in (
        "on_part_begin", "on_part_data", "on_part_end", "on_header_field", "on_header_value", "on_header_end",
        "on_headers_finished")}  # fmt: skip
    parser = MultipartParser(params[b"boundary"], callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise BadUpload(f"The upload is not a valid multipart form ({exc}).", hint="Try again.") from None
    finally:
        receiver.close()
    if not receiver.checked and not allowed(receiver.out.fields):
        raise CsrfFailed
    return receiver.out
