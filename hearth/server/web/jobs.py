"""Imports started from the browser: `hearth.ingest.import_many` in a background thread, its
progress kept where the status endpoint can read it, then (optionally) memory extraction over what
came in, then the same per-input summary `hearth import` prints. The uploaded files are deleted
when the job ends: the store keeps everything, losslessly."""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hearth.ingest import ImportSummary, import_many

KEEP_JOBS = 20
COUNTERS = (
    ("convs", "conversations_added"), ("msgs", "messages_added"), ("updated", "conversations_updated"),
    ("unchanged", "conversations_unchanged"), ("cards", "companions_added"), ("memories", "memories_added"),
    ("docs", "documents_added"), ("feedback", "feedback_added"), ("files", "files_added"),
)  # fmt: skip
"""The columns of `hearth import`'s summary table, in its order."""


@dataclass
class ImportJob:
    id: str
    names: list[str]
    extract: bool
    state: str = "running"
    """`running`, `done` (every input done or already imported) or `failed` (at least one failed)."""
    phase: str = "checking"
    hashed: int = 0
    hash_total: int = 0
    read: int = 0
    read_total: int = 0
    conversations: int = 0
    warnings: list[str] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    memories: dict[str, int] | None = None
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def status(self) -> dict[str, Any]:
        return asdict(self) | {"warnings": self.warnings[:50], "warning_count": len(self.warnings)}


class _Observer:
    """`hearth.ingest.Observer` that writes into the job instead of a terminal."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job

    def hashing(self, total: int):
        self.job.hash_total = total

        def advance(n: int) -> None:
            self.job.hashed += n

        return advance

    def reading(self, total: int, already: int):
        self.job.read_total, self.job.read, self.job.phase = total, already, "importing"

        def advance(n: int) -> None:
            self.job.read += n

        return advance

    def conversation(self, index: int) -> None:
        self.job.conversations += 1

    def warn(self, message: str) -> None:
        self.job.warnings.append(message)


def summary_rows(summaries: list[ImportSummary], root: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """The rows of `hearth import`'s table (the counters that are non-zero anywhere), with inputs
    named as the person uploaded them rather than by their temporary path."""
    shown = [n for n, attr in COUNTERS if any(getattr(s.result, attr) for s in summaries)] or ["convs", "msgs"]
    attrs = dict(COUNTERS)
    rows = []
    for s in summaries:
        label = s.path.replace(str(root) + "/", "").replace(str(root), "")
        status = f"done (resumed at #{s.resumed_from + 1})" if s.status == "done" and s.resumed_from else s.status
        counts = {} if s.status in ("failed", "skipped") else {n: getattr(s.result, attrs[n]) for n in shown}
        rows.append({"input": label, "format": s.format, "status": status, "ok": s.status not in ("failed",),
                     "counts": counts, "error": s.error, "hint": s.hint})  # fmt: skip
    return shown, rows


class Jobs:
    """The imports this server ran (newest kept), one background thread each."""

    def __init__(self) -> None:
        self._jobs: dict[str, ImportJob] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> ImportJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def recent(self) -> list[ImportJob]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: -j.started)

    def start(self, store: Any, root: Path, inputs: list[Path], extract: bool) -> ImportJob:
        job = ImportJob(secrets.token_hex(8), [str(p) for p in inputs], extract)
        with self._lock:
            self._jobs[job.id] = job
            for old in sorted(self._jobs.values(), key=lambda j: j.started)[:-KEEP_JOBS]:
                del self._jobs[old.id]
        threading.Thread(target=self._run, args=(job, store, root, inputs), daemon=True).start()
        return job

    def _run(self, job: ImportJob, store: Any, root: Path, inputs: list[Path]) -> None:
        try:
            summaries = import_many(store, [root / p for p in inputs], _Observer(job))
            job.columns, job.summaries = summary_rows(summaries, root)
            if job.extract and any(s.status == "done" for s in summaries):
                from hearth.memory.consolidate import extract_memories

                job.phase = "memories"
                stats = extract_memories(store)
                job.memories = asdict(stats)
            job.state = "failed" if any(s.status == "failed" for s in summaries) else "done"
        except Exception as exc:  # a bug, not a bad file (those come back as summaries): say so, keep serving
            job.state, job.error = "failed", f"The import stopped: {exc!r}"
        finally:
            job.phase, job.finished = "done", time.time()
            shutil.rmtree(root, ignore_errors=True)
