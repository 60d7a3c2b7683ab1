"""The import pipeline: open → detect → hash → read in a stream → write in batches.

Imports are idempotent (a file already imported adds nothing) and resumable: each batch commits
together with the count of conversations it completes, so after a kill the next run skips exactly
what was committed and the unique keys catch anything else. A broken file keeps everything read
before the break, and the import is marked failed with the reason.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from hearth.errors import HearthError
from hearth.formats import detect, open_bundle
from hearth.formats.bundle import Bundle
from hearth.records import AttachmentFile, Conversation, Item
from hearth.store import BatchResult, Store

BATCH_MESSAGES = int(os.environ.get("HEARTH_BATCH_MESSAGES", "5000"))
"""Commit after about this many messages: large enough to amortise a commit, small enough that
a kill loses little work and memory stays flat (tests lower it to force many batches)."""

BATCH_BYTES = 64 << 20
"""…and after about this many bytes of attached files, so thousands of photos never sit in memory."""

COMPANION_NAMES = {"chatgpt": "ChatGPT"}


class Observer(Protocol):
    """What a progress display needs to know; every method is optional to act on."""

    def hashing(self, total: int) -> Callable[[int], None]: ...
    def reading(self, total: int, already: int) -> Callable[[int], None]: ...
    def conversation(self, index: int) -> None: ...
    def warn(self, message: str) -> None: ...


class QuietObserver:
    def hashing(self, total: int) -> Callable[[int], None]:
        return lambda n: None

    def reading(self, total: int, already: int) -> Callable[[int], None]:
        return lambda n: None

    def conversation(self, index: int) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


@dataclass
class ImportSummary:
    path: str
    format: str
    status: str
    """`done`, `already imported`, or `failed`."""
    resumed_from: int = 0
    conversations_read: int = 0
    result: BatchResult = field(default_factory=BatchResult)
    error: str | None = None


def bundle_digest(bundle: Bundle, progress: Callable[[int], None]) -> str:
    """sha256 of the input: the file itself, or every file of a folder with its name."""
    h = hashlib.sha256()
    if bundle.kind in ("file", "zip"):
        with open(bundle.path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
                progress(len(chunk))
        return h.hexdigest()
    for entry in bundle.entries:
        h.update(entry.name.encode() + b"\x00")
        with entry.open(progress) as stream:
            while chunk := stream.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def _digest_size(bundle: Bundle) -> int:
    return bundle.path.stat().st_size if bundle.kind in ("file", "zip") else sum(e.size for e in bundle.entries)


def import_path(store: Store, path: Path, observer: Observer | None = None) -> ImportSummary:
    """Import one export (file, zip or folder) into the store."""
    observer = observer or QuietObserver()
    with open_bundle(Path(path)) as bundle:
        reader = detect(bundle)
        size = _digest_size(bundle)
        digest = bundle_digest(bundle, observer.hashing(size))
        state = store.begin_import(digest, str(Path(path).resolve()), reader.NAME, size)
        summary = ImportSummary(
            path=str(path), format=reader.NAME, status="done", resumed_from=state.conversations_done
        )
        if state.status == "done":
            summary.status = "already imported"
            return summary
        companion = store.ensure_companion(reader.NAME, COMPANION_NAMES.get(reader.NAME, reader.NAME))
        progress = observer.reading(reader.total_bytes(bundle), 0)
        batch: list[Item] = []
        batch_messages = batch_bytes = 0
        index = 0

        def flush() -> None:
            nonlocal batch, batch_messages, batch_bytes
            if batch:
                summary.result.add(store.write_batch(state.id, companion, batch, index))
            batch, batch_messages, batch_bytes = [], 0, 0

        try:
            for item in reader.read(bundle, progress, observer.warn):
                if isinstance(item, Conversation):
                    index += 1
                    summary.conversations_read = index
                    observer.conversation(index)
                    if index <= state.conversations_done:
                        continue
                    batch_messages += len(item.messages)
                else:
                    batch_messages += 1
                    if isinstance(item, AttachmentFile):
                        batch_bytes += len(item.data)
                batch.append(item)
                if batch_messages >= BATCH_MESSAGES or batch_bytes >= BATCH_BYTES:
                    flush()
            flush()
        except HearthError as exc:
            flush()
            store.finish_import(state.id, "failed", exc.message)
            summary.status, summary.error = "failed", exc.message
            raise
        except BaseException as exc:
            store.finish_import(state.id, "interrupted", repr(exc))
            raise
        for warning in summary.result.warnings:
            observer.warn(warning)
        store.finish_import(state.id, "done")
        return summary
