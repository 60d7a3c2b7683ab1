"""`GET /v1/letter`: the memory letter over HTTP, for apps that fetch it themselves (same code as
`hearth letter`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from hearth.errors import BackendConfigError, BackendError, HearthError, NotFound
from hearth.server.hub import hub_of
from hearth.server.openai_api import error

router = APIRouter()


@router.get("/v1/letter", response_model=None)
async def letter(request: Request, tokens: str = "2000", lang: str | None = None, target: str = "generic",
                 companion: str | None = None, format: str = "json", backend: str | None = None) -> Any:  # fmt: skip
    """?tokens=2000&lang=zh|en&target=chatgpt|claude|generic&companion=SLUG&format=json|text&backend=NAME
    (`backend`: a configured model rewords the letter, kept only when it passes the check)"""
    from fastapi.responses import PlainTextResponse

    from hearth.memory.letter import build_letter
    from hearth.store.loaders import companion_id, default_companion_id

    if not tokens.isdigit():
        return error(400, "`tokens` must be a whole number, e.g. 2000.")
    hub = hub_of(request)
    store = hub.store

    def build():
        cid = companion_id(store, companion) if companion else default_companion_id(store)
        plain = build_letter(store, cid, int(tokens), lang=lang, target=target)
        if backend is None:
            return plain
        from hearth.memory.letter_wording import reword

        model = hub.backend(backend)
        with hub.backend_lock(model):
            return reword(plain, model)

    try:
        result = await run_in_threadpool(build)
    except NotFound as e:
        return error(404, e.with_hint(), code="not_found")
    except BackendError as e:
        if isinstance(e, BackendConfigError):
            return error(400, e.with_hint())
        return error(502, e.with_hint(), code="upstream_error")
    except HearthError as e:
        return error(400, e.with_hint())
    if format == "text":
        return PlainTextResponse(result.text, headers={"x-hearth-letter-tokens": str(result.tokens)})
    return {
        "object": "hearth.letter", "companion": result.companion, "text": result.text, "tokens": result.tokens,
        "budget": result.budget, "lang": result.language, "target": result.target, "left_out": result.left_out,
        "memory_ids": [i.memory_id for i in result.items if i.memory_id is not None],
        "moment_message_ids": [i.message_id for i in result.items if i.message_id is not None],
        "worded_by": result.worded_by, "wording_note": result.wording_note,
    }  # fmt: skip
