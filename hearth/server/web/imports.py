"""The import page: upload exports (files or a whole folder), watch the progress, read the same
summary `hearth import` prints. Uploads stream to disk under a size limit; the import runs in the
background (`web.jobs`) so a long one never holds a request open."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

import platformdirs
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from hearth.errors import HearthError, NotFound
from hearth.server.hub import hub_of
from hearth.server.web.common import WebRoute, csrf_valid, render
from hearth.server.web.jobs import ImportJob, Jobs
from hearth.server.web.upload import human, receive, upload_limit

router = APIRouter(route_class=WebRoute)


_jobs_lock = threading.Lock()


def jobs(request: Request) -> Jobs:
    """The imports of whoever is asking: each person sees (and can poll) only their own."""
    hub = hub_of(request)
    with _jobs_lock:
        if getattr(hub, "import_jobs", None) is None:
            hub.import_jobs = Jobs()
        return hub.import_jobs


def upload_root(request: Request) -> Path:
    """Where uploads land: `app.state.upload_dir`, else hearth's cache folder — on disk, not a
    RAM-backed /tmp, since an export can be gigabytes."""
    base = getattr(request.app.state, "upload_dir", None) or Path(platformdirs.user_cache_dir("hearth")) / "uploads"
    Path(base).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="upload-", dir=base))


def _job(request: Request, job_id: str) -> ImportJob:
    job = jobs(request).get(job_id)
    if job is None:
        raise NotFound("There is no such import (the server keeps the last 20 since it started).")
    return job


@router.get("/import")
def import_page(request: Request) -> Response:
    limit = upload_limit(request.app.state)
    return render(request, "import.html", title="Import", limit=limit, limit_text=human(limit),
                  jobs=jobs(request).recent())  # fmt: skip


@router.post("/import")
async def upload(request: Request) -> Response:
    """Receive the files, start the import, answer with where to watch it (JSON for the page's
    script, a redirect for a plain form)."""
    root = upload_root(request)
    header = request.headers.get("x-csrf-token")
    try:
        received = await receive(request, root, upload_limit(request.app.state),
                                 lambda fields: csrf_valid(request, header or fields.get("csrf")))  # fmt: skip
        if not received.files:
            raise HearthError("No file was chosen.", hint="Pick export files or a folder, then Import.")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    inputs = list(dict.fromkeys(Path(p.parts[0]) for p in received.files))
    job = jobs(request).start(hub_of(request).store, root, inputs, extract=received.fields.get("extract") == "1")
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"job": job.id, "url": f"/import/{job.id}", "status": f"/ui/import/{job.id}/status"})
    return RedirectResponse(f"/import/{job.id}", 303)


@router.get("/import/{job_id}")
def import_job_page(request: Request, job_id: str) -> Response:
    return render(request, "import_job.html", title="Import", job=_job(request, job_id))


@router.get("/ui/import/{job_id}/status")
def import_status(request: Request, job_id: str) -> Response:
    return JSONResponse(_job(request, job_id).status(), headers={"cache-control": "no-store"})
