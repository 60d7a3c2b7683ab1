"""The persona editor: every editable field of the card, the warmth dial with its band named as it
moves, "derive from history", and the version history with revert. Saves go through the same
functions as `hearth persona edit / derive / revert` (a new version each time, nothing overwritten,
and a field set by hand is kept by later derives)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from hearth.errors import HearthError, NotFound
from hearth.persona.card import EDITABLE, Persona
from hearth.persona.card import render as render_card
from hearth.persona.derive import base_persona, derive, save_derived
from hearth.persona.warmth import style
from hearth.server.hub import hub_of
from hearth.server.web.common import WebRoute, int_or_none, pick_companion, render, require_csrf, warmth_bands
from hearth.store import personas

router = APIRouter(route_class=WebRoute)
LONG_FIELDS = {"description", "personality", "scenario", "voice", "relationship", "greeting", "example_dialogue",
               "system_prompt", "post_history_instructions", "summary", "feedback"}  # fmt: skip


def _companion(request: Request, value: Any) -> int:
    _, cid = pick_companion(hub_of(request), int_or_none(value))
    if cid is None:
        raise NotFound("There is no companion yet.", hint="Import a history or a character card first.")
    return cid


def edited(current: Persona, form: dict[str, str]) -> tuple[Persona, list[str]]:
    """`current` with the form's fields applied, as `hearth persona edit --set` applies them: list
    fields one item per line, changed fields added to `edited` so derive keeps them."""
    data: dict[str, Any] = current.model_dump()
    changed: list[str] = []
    for field in EDITABLE:
        if field not in form:
            continue
        raw = form[field].replace("\r\n", "\n")
        value: Any = [line for line in raw.split("\n") if line.strip()] if isinstance(data.get(field), list) else raw
        same = str(data.get(field)) == raw.strip() if field == "warmth" else value == data.get(field)
        if not same:
            data[field] = value
            changed.append(field)
    data["edited"] = sorted(set(data.get("edited", [])) | set(changed))
    try:
        return Persona(**data), changed
    except (ValidationError, ValueError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else [{"loc": ("value",), "msg": str(exc)}]
        first = errors[0]
        raise HearthError(f"{first['loc'][0]}: {first['msg'].removeprefix('Value error, ')}.",
                          hint="Nothing was saved.") from exc  # fmt: skip


@router.get("/persona")
def persona_page(request: Request, companion: str = "", saved: str = "", derived: str = "",
                 unchanged: str = "") -> Response:  # fmt: skip
    hub = hub_of(request)
    companions, cid = pick_companion(hub, int_or_none(companion))
    if cid is None:
        return render(request, "persona.html", title="Persona", companions=[], cid=None, persona=None)
    persona = base_persona(hub.store, cid)
    versions = personas.history(hub.store, cid)
    fields = [(f, getattr(persona, f)) for f in EDITABLE if f not in ("warmth", "language")]
    return render(
        request, "persona.html", title="Persona", companions=companions, cid=cid, persona=persona, fields=fields,
        long_fields=LONG_FIELDS, versions=list(reversed(versions)), band=style(persona.warmth).band,
        bands=warmth_bands(), saved=int_or_none(saved), derived=int_or_none(derived), unchanged=bool(unchanged),
        current=versions[-1].version if versions else None,
    )  # fmt: skip


@router.post("/persona", dependencies=[Depends(require_csrf)])
async def persona_save(request: Request) -> Response:
    form = await request.form()
    cid = _companion(request, form.get("companion"))
    store = hub_of(request).store
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    persona, changed = edited(base_persona(store, cid), values)
    if not changed:
        return RedirectResponse(f"/persona?companion={cid}&unchanged=1", 303)
    note = (values.get("note") or "").strip() or "changed " + ", ".join(changed)
    version = personas.save(store, cid, persona.model_dump(), "edited", note)
    return RedirectResponse(f"/persona?companion={cid}&saved={version}", 303)


@router.post("/persona/derive", dependencies=[Depends(require_csrf)])
async def persona_derive(request: Request) -> Response:
    form = await request.form()
    cid = _companion(request, form.get("companion"))
    store = hub_of(request).store

    def work() -> int:
        return save_derived(store, cid, derive(store, cid))

    version = await run_in_threadpool(work)
    return RedirectResponse(f"/persona?companion={cid}&derived={version}", 303)


@router.post("/persona/revert", dependencies=[Depends(require_csrf)])
async def persona_revert(request: Request) -> Response:
    form = await request.form()
    cid = _companion(request, form.get("companion"))
    version = int_or_none(form.get("version"))
    if version is None:
        raise HearthError("Pick a version to go back to.")
    store = hub_of(request).store
    old = personas.get(store, cid, version)
    new = personas.save(store, cid, old.persona, "edited", f"reverted to version {version}")
    return RedirectResponse(f"/persona?companion={cid}&saved={new}", 303)


@router.get("/persona/version/{version}")
def persona_version(request: Request, version: int, companion: str = "") -> Response:
    cid = _companion(request, companion)
    old = personas.get(hub_of(request).store, cid, version)
    return render(request, "persona_version.html", title=f"Persona version {version}", cid=cid, version=old,
                  text=render_card(Persona(**old.persona)))  # fmt: skip
