"""Reconcile the history an OpenAI-style client sends with the conversation hearth has stored.

Clients (SillyTavern, Open WebUI, phone apps) send the whole conversation with every request.
hearth stores each message once: it finds the stored conversation the client is continuing, and
works out whether the request adds a turn, regenerates the last reply, or branches from an
earlier (edited) message — so nothing is duplicated and every branch is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hearth.errors import HearthError
from hearth.store import Store, chat

CANDIDATES = 50
"""How many of the companion's most recent hearth conversations are compared with a request."""


class BadRequest(HearthError):
    """The request cannot be answered as sent (no user message at the end, content that is not text)."""


@dataclass
class Plan:
    conversation_id: int
    text: str
    """The message to answer."""
    user_message_id: int | None
    """Set when that message is already stored (a regeneration): answer it, do not store it again."""
    parent_id: int | None = None
    """Where to hang the new message (None: after the newest visible message)."""
    client_system: str = ""
    """System text the client sent (its own instructions), passed on after the persona."""
    stored_from_client: int = 0


def _text(content: Any) -> str:
    """OpenAI content: a string, or a list of parts of which the text parts count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    if content is None:
        return ""
    raise BadRequest("A message's content must be a string or a list of content parts.")


def _key(role: str, text: str) -> tuple[str, str]:
    return ("assistant" if role == "assistant" else "user", " ".join(text.split()))


def split(messages: Sequence[dict[str, Any]]) -> tuple[str, list[tuple[str, str]], str]:
    """(client system text, history as (role, text), the new user message)."""
    if not messages:
        raise BadRequest("The request has no messages.")
    system, turns = [], []
    for m in messages:
        role = m.get("role")
        text = _text(m.get("content"))
        if role in ("system", "developer"):
            system.append(text)
        elif role in ("user", "assistant"):
            turns.append((role, text))
    if not turns or turns[-1][0] != "user":
        raise BadRequest("The last message must be from the user.", hint="Send the person's message last.")
    return "\n\n".join(t for t in system if t.strip()), turns[:-1], turns[-1][1]


def plan(store: Store, companion_id: int, messages: Sequence[dict[str, Any]]) -> Plan:
    """Find or create the conversation this request belongs to, storing any history the client
    has that hearth does not (an edited message, a chat begun elsewhere), and say what to answer."""
    system, history, text = split(messages)
    wanted = [_key(r, t) for r, t in history]
    best: tuple[int, int, list[chat.Turn]] | None = None  # (common prefix, conversation, path)
    if wanted:
        for conv in chat.recent_conversations(store, companion_id, CANDIDATES):
            path = [t for t in chat.visible_path(store, conv) if t.role in ("user", "assistant")]
            k = 0
            while k < min(len(path), len(wanted)) and _key(path[k].role, path[k].text) == wanted[k]:
                k += 1
            if k and (best is None or k > best[0]):
                best = (k, conv, path)
            if k == len(wanted):
                break
    if best is None:
        conv = chat.new_conversation(store, companion_id, title=text[:60] or None)
        stored = _store_history(store, conv, history, None)
        return Plan(conv, text, None, stored[1], system, stored[0])
    k, conv, path = best
    if k == len(wanted):
        if len(path) > k and _key(path[k].role, path[k].text) == _key("user", text):
            return Plan(conv, text, path[k].id, None, system)  # the same message again: a retry
        if len(path) == k:
            return Plan(conv, text, None, None, system)  # the next turn
        return Plan(conv, text, None, path[k - 1].id, system)  # after an earlier message: a new branch
    stored = _store_history(store, conv, history[k:], path[k - 1].id)
    return Plan(conv, text, None, stored[1], system, stored[0])


def _store_history(
    store: Store, conv: int, history: list[tuple[str, str]], parent: int | None
) -> tuple[int, int | None]:
    """Store messages the client had and hearth did not; (how many, the last one's id)."""
    last = parent
    for role, text in history:
        last = chat.append(store, conv, role, text, parent_id=last, status="from client", meta={"from": "client"})
    return len(history), last
