"""The import pipeline: plan → hash → read in a stream → write in batches.

Imports are idempotent (a file already imported adds nothing) and resumable: each batch commits
together with the count of conversations it completes, so after a kill the next run skips exactly
what was committed and the unique keys catch anything else. A broken file keeps everything read
before the break, and its import is marked failed with the reason; the other files of a mixed
folder still import.
"""

from __future__ import annotations

import gc
import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Protocol

from hearth.errors import HearthError
from hearth.formats import Planned, plan
from hearth.formats.bundle import Bundle
from hearth.records import AttachmentFile, Conversation, Item
from hearth.store import BatchResult, Store

BATCH_MESSAGES = int(os.environ.get("HEARTH_BATCH_MESSAGES", "5000"))
"""Commit after about this many messages: large enough to amortise a commit, small enough that
a kill loses little work and memory stays flat (tests lower it to force many batches)."""

BATCH_BYTES = 64 << 20
"""…and after about this many bytes of attached files, so thousands of photos never sit in memory."""

GC_THRESHOLD = 100_000
"""Net new container objects between two collections of Python's youngest generation while an
import runs (the default is 700): see `_fewer_collections`."""

Progress = Callable[[int], None]

_gc_lock = threading.Lock()
_gc_imports = 0
_gc_saved: tuple[int, ...] = ()


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often during an import. Reading builds and drops
    hundreds of thousands of dicts and lists per batch, none of them in cycles (refcounting frees
    them); at the default threshold the collector ran ~600 times per 30 MB export, and its full
    passes over every live object took ~10 % of the import's CPU. Cycles are still collected, only
    every GC_THRESHOLD new objects; the thresholds come back when the last running import ends,
    and a collector someone turned off or set higher is left alone."""
    global _gc_imports, _gc_saved
    with _gc_lock:
        if _gc_imports == 0:
            _gc_saved = gc.get_threshold()
            if 0 < _gc_saved[0] < GC_THRESHOLD:
                gc.set_threshold(GC_THRESHOLD, *_gc_saved[1:])
        _gc_imports += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_imports -= 1
            if _gc_imports == 0:
                gc.set_threshold(*_gc_saved)


class Observer(Protocol):
    """What a progress display needs to know."""

    def hashing(self, total: int) -> Progress: ...
    def reading(self, total: int, already: int) -> Progress: ...
    def conversation(self, index: int) -> None: ...
    def warn(self, message: str) -> None: ...


class QuietObserver:
    def hashing(self, total: int) -> Progress:
        return lambda n: None

    def reading(self, total: int, already: int) -> Progress:
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
    """`done`, `already imported`, `failed` or `skipped`."""
    resumed_from: int = 0
    conversations_read: int = 0
    result: BatchResult = field(default_factory=BatchResult)
    error: str | None = None
    hint: str | None = None


def bundle_digest(bundle: Bundle, progress: Progress) -> str:
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


def digest_size(bundle: Bundle) -> int:
    return bundle.path.stat().st_size if bundle.kind in ("file", "zip") else sum(e.size for e in bundle.entries)


def _import_bundle(
    store: Store, reader: ModuleType, bundle: Bundle, label: str, hashed: Progress, read: Progress, observer: Observer
) -> ImportSummary:
    digest = bundle_digest(bundle, hashed)
    state = store.begin_import(digest, str(Path(bundle.path).resolve()), reader.NAME, digest_size(bundle))
    summary = ImportSummary(path=label, format=reader.NAME, status="done", resumed_from=state.conversations_done)
    if state.status == "done":
        read(reader.total_bytes(bundle))
        summary.status = "already imported"
        return summary
    if reader.NAME == "hearth":
        from hearth.store.archive import import_archive

        try:
            summary.result = import_archive(store, bundle, read)
        except HearthError as exc:
            store.finish_import(state.id, "failed", exc.message)
            raise
        store.finish_import(state.id, "done")
        return summary
    batch: list[Item] = []
    batch_messages = batch_bytes = 0
    index = 0

    def flush() -> None:
        nonlocal batch, batch_messages, batch_bytes
        if batch:
            summary.result.add(store.write_batch(state.id, batch, index))
        batch, batch_messages, batch_bytes = [], 0, 0

    try:
        for item in reader.read(bundle, read, observer.warn):
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
        raise
    except BaseException as exc:
        store.finish_import(state.id, "interrupted", repr(exc))
        raise
    for warning in summary.result.warnings:
        observer.warn(f"{label}: {warning}")
    store.finish_import(state.id, "done")
    return summary


def _profile_pass(store: Store, summary: ImportSummary, observer: Observer) -> None:
    """Once the history is in, the provider's profile in it (custom instructions, saved memory,
    `bio` notes, Claude's memories) becomes memories. Cursor-based, so it reads only what is new
    and an import killed during it catches up on the next run (even of an already imported file)."""
    from hearth.memory.profile import scan_profile

    try:
        stats = scan_profile(store, mark_read=summary.format == "hearth")
    except HearthError as exc:
        observer.warn(f"{summary.path}: the provider's profile was not read ({exc.message}); `hearth profile --rescan`")
        return
    summary.result.memories_added += stats.added
    for warning in stats.warnings:
        observer.warn(f"{summary.path}: {warning}")


def import_many(store: Store, paths: Iterable[Path], observer: Observer | None = None) -> list[ImportSummary]:
    """Import every file, zip and folder given; one failure does not stop the others.

    Failed and skipped inputs come back as summaries with the reason, so a person sees one table.
    """
    observer = observer or QuietObserver()
    summaries: list[ImportSummary] = []
    plans: list[Planned] = []
    for path in paths:
        try:
            planned, skipped = plan(Path(path))
        except HearthError as exc:
            summaries.append(ImportSummary(str(path), "", "failed", error=exc.message, hint=exc.hint))
            continue
        plans += planned
        summaries += [ImportSummary(s.label, "", "skipped", error=s.reason) for s in skipped]
    hashed = observer.hashing(sum(digest_size(p.bundle) for p in plans))
    read = observer.reading(sum(p.reader.total_bytes(p.bundle) for p in plans), 0)
    done: list[ImportSummary] = []
    try:
        for p in plans:
            try:
                with _fewer_collections():
                    summary = _import_bundle(store, p.reader, p.bundle, p.label, hashed, read, observer)
                    _profile_pass(store, summary, observer)
                done.append(summary)
            except HearthError as exc:
                done.append(ImportSummary(p.label, p.reader.NAME, "failed", error=exc.message, hint=exc.hint))
    finally:
        for p in plans:
            p.bundle.close()
    return done + summaries


def import_path(store: Store, path: Path, observer: Observer | None = None) -> ImportSummary:
    """Import one export (a file, zip or folder holding one export); errors raise."""
    observer = observer or QuietObserver()
    planned, _ = plan(Path(path))
    try:
        if len(planned) != 1:
            raise HearthError(
                f"{path} holds {len(planned)} separate exports.",
                hint="Use import_many() or `hearth import` for folders.",
            )
        p = planned[0]
        hashed = observer.hashing(digest_size(p.bundle))
        read = observer.reading(p.reader.total_bytes(p.bundle), 0)
        with _fewer_collections():
            summary = _import_bundle(store, p.reader, p.bundle, str(path), hashed, read, observer)
            _profile_pass(store, summary, observer)
    finally:
        for p in planned:
            p.bundle.close()
    return summary
