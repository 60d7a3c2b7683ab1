"""Which model really answered each reply, month by month and conversation by conversation.

A reply is *rerouted* when the model family that served it differs from the one requested
(`gpt-4o` asked, `gpt-4o-mini` or `gpt-5-safety` answered). Tool variants of one model
(`gpt-4-browsing`, `…-mobile`) and dated snapshots count as the same family. When the request
was `auto` (the provider's router) or is unknown (old exports), nothing can be called a mismatch;
a safety or mini model answering inside a conversation otherwise served by another model is
still listed as a suspected reroute, with the reason.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hearth.store import Store
from hearth.store.queries import reply_rows

_DATE = re.compile(r"-\d{4}-\d{2}-\d{2}$")
_VARIANT = re.compile(r"-(browsing|plugins|code-interpreter|mobile|canmore|gizmo|jawbone|ada)$")
_SUSPECT = re.compile(r"(safety|mini|nano|lite)", re.IGNORECASE)
ROUTERS = {"auto"}


def model_family(slug: str | None) -> str | None:
    """`gpt-4-browsing`, `gpt-4-mobile` and `gpt-4-0613`… all name the family `gpt-4`."""
    if not slug:
        return None
    name = slug.strip().lower()
    name = _DATE.sub("", name)
    while True:
        stripped = _VARIANT.sub("", name)
        if stripped == name:
            return name
        name = stripped


def is_suspect(slug: str | None) -> bool:
    return bool(slug and _SUSPECT.search(slug))


@dataclass
class Bucket:
    replies: int = 0
    with_request: int = 0
    mismatched: int = 0
    served: Counter = field(default_factory=Counter)
    requested: Counter = field(default_factory=Counter)

    def add(self, requested: str | None, served: str, mismatch: bool | None) -> None:
        self.replies += 1
        self.served[served] += 1
        self.requested[requested or "unknown"] += 1
        if mismatch is not None:
            self.with_request += 1
            self.mismatched += int(mismatch)

    @property
    def share(self) -> float | None:
        """Share of replies (with a concrete request) served by another model family."""
        return self.mismatched / self.with_request if self.with_request else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "replies": self.replies,
            "with_request": self.with_request,
            "mismatched": self.mismatched,
            "mismatch_share": self.share,
            "served": dict(self.served.most_common()),
            "requested": dict(self.requested.most_common()),
        }


@dataclass
class RoutingAudit:
    total: Bucket = field(default_factory=Bucket)
    months: dict[str, Bucket] = field(default_factory=dict)
    conversations: dict[int, Bucket] = field(default_factory=dict)
    titles: dict[int, str | None] = field(default_factory=dict)
    suspects: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "timezone": "UTC",
            "total": self.total.as_dict(),
            "months": [{"month": k, **b.as_dict()} for k, b in sorted(self.months.items())],
            "conversations": [
                {"id": cid, "title": self.titles.get(cid), **b.as_dict()}
                for cid, b in sorted(self.conversations.items(), key=lambda kv: (-kv[1].mismatched, kv[0]))
            ],
            "suspected_reroutes": self.suspects,
        }


def mismatch(requested: str | None, served: str) -> bool | None:
    """True/False when the request names a concrete model; None when it is unknown or a router."""
    if not requested or requested.lower() in ROUTERS:
        return None
    return model_family(requested) != model_family(served)


def _month(ts: float | None) -> str:
    if ts is None:
        return "unknown"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m")


def run_audit(store: Store) -> RoutingAudit:
    """Aggregate every stored assistant reply; one pass over the store plus the candidates."""
    audit = RoutingAudit()
    candidates: list[tuple] = []
    for mid, cid, title, ts, requested, served, _default in reply_rows(store):
        mm = mismatch(requested, served)
        audit.total.add(requested, served, mm)
        audit.months.setdefault(_month(ts), Bucket()).add(requested, served, mm)
        audit.conversations.setdefault(cid, Bucket()).add(requested, served, mm)
        audit.titles[cid] = title
        if mm or is_suspect(served):
            candidates.append((mid, cid, title, ts, requested, served, mm))
    for mid, cid, title, ts, requested, served, mm in candidates:
        families = Counter()
        for model, n in audit.conversations[cid].served.items():
            families[model_family(model)] += n
        dominant = families.most_common(1)[0][0]
        if mm:
            reason = f"asked for {requested}, answered by {served}"
        elif model_family(served) != dominant and not is_suspect(dominant):
            reason = f"{served} answered in a conversation otherwise served by {dominant}"
        else:
            continue
        audit.suspects.append(
            {
                "message_id": mid,
                "conversation_id": cid,
                "title": title,
                "time": datetime.fromtimestamp(ts, UTC).isoformat() if ts is not None else None,
                "requested": requested,
                "served": served,
                "reason": reason,
            }
        )
    return audit
