"""The person's preferences as training pairs: between two answers to the same message, the one
they liked (or kept) against the one they disliked (or regenerated away from)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from hearth.store import Store
from hearth.store import schema as s

CONTEXT_TURNS = 20


def _path_to(conn: sa.Connection, message_id: int) -> list[dict[str, str]]:
    """The turns leading to a message (following parents), oldest first, user/assistant only."""
    m = s.messages.c
    out: list[dict[str, str]] = []
    current: int | None = message_id
    while current is not None and len(out) < CONTEXT_TURNS:
        row = conn.execute(sa.select(m.parent_id, m.role, m.text, m.hidden).where(m.id == current)).first()
        if row is None:
            break
        if row.role in ("user", "assistant") and not row.hidden and row.text:
            out.append({"role": row.role, "content": row.text})
        current = row.parent_id
    return out[::-1]


def preference_pairs(store: Store, companion_id: int | None = None) -> Iterator[dict[str, Any]]:
    """DPO-style pairs: `prompt` (the conversation up to the person's message), `chosen`, `rejected`.

    Among the answers to one message, the best is the one rated up, else the one on the visible
    branch; the worst is the one rated down, else a hidden one. A pair is only made when the person
    said something about one of them (a rating), so a silent regeneration is not read as a verdict.
    """
    m, f, c = s.messages.c, s.feedback.c, s.conversations.c
    q = (
        sa.select(m.id, m.parent_id, m.text, m.visible, sa.func.max(f.rating).label("up"),
                  sa.func.min(f.rating).label("down"))
        .join(s.conversations, c.id == m.conversation_id)
        .outerjoin(s.feedback, f.message_id == m.id)
        .where(m.role == "assistant", m.text != "", m.parent_id.is_not(None))
        .group_by(m.id)
    )  # fmt: skip
    if companion_id is not None:
        q = q.where(c.companion_id == companion_id)
    with store.engine.connect() as conn:
        siblings: dict[int, list[Any]] = defaultdict(list)
        for row in conn.execute(q):
            siblings[row.parent_id].append(row)
        for parent, answers in siblings.items():
            if len(answers) < 2 or not any(a.up is not None for a in answers):
                continue

            def score(a: Any) -> tuple[int, int]:
                return (a.down if a.down is not None and a.down < 0 else a.up or 0, int(bool(a.visible)))

            ranked = sorted(answers, key=score)
            worst, best = ranked[0], ranked[-1]
            if score(best) == score(worst):
                continue
            yield {"prompt": _path_to(conn, parent), "chosen": best.text, "rejected": worst.text,
                   "message_id": parent, "chosen_id": best.id, "rejected_id": worst.id}  # fmt: skip
