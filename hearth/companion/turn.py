"""One companion turn: keep the message → remember → assemble → call → verify → store → learn.

The person's message is stored before any model is called, so a failed call loses nothing.
Fallback is explicit: only backends the person listed are tried, and a reply that came from a
fallback (or from a model other than the one asked for) is marked, stored with both names, and
shown — never a silent swap.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any

from hearth.backends.base import ChatBackend, ChatResult
from hearth.companion.prompt import MEMORY_SHARE, Prompt, assemble, reply_language
from hearth.errors import BackendError
from hearth.guard import policy
from hearth.guard.lines import help_block
from hearth.memory.background import Backfill
from hearth.memory.consolidate import extract_from
from hearth.memory.embed import Embedder, one_core_in_this_thread
from hearth.memory.retrieve import Hit, retrieve
from hearth.persona.card import Persona
from hearth.persona.derive import base_persona
from hearth.store import Store, chat, guard_events
from hearth.store.memories import mark_used, pinned_memories

GUARD_MODEL = "hearth-guard (no model answered)"
GUARD_OPENING = {
    "en": "I'm here with you, and I'm so glad you told me. I couldn't reach my words just now, but please don't "
    "wait — talk to someone who can help right away.",
    "zh": "我在这里陪着你，谢谢你愿意告诉我。我现在没法好好回复你，但请不要等——马上联系能帮助你的人。",
}
RECENT_TURNS = 40
REPLY_TOKENS = 400
SMALL_CONTEXT = 4096
SMALL_REPLY_TOKENS = 200
"""A backend with a context this small is a small local model: shorter replies, and it rambles less."""


@dataclass
class TurnResult:
    conversation_id: int
    user_message_id: int
    reply_message_id: int | None
    text: str
    requested_model: str
    served_model: str | None = None
    backend: str | None = None
    result: ChatResult | None = None
    failures: list[tuple[str, str]] = field(default_factory=list)
    """(backend, error) of every backend that failed before one answered."""
    error: BackendError | None = None
    prompt: Prompt | None = None
    memories_added: int = 0
    guard: policy.Check | None = None
    guard_action: str = ""

    @property
    def flagged(self) -> str | None:
        """Why the person should look twice at this reply (None when nothing is off)."""
        reasons = []
        if self.failures and self.result is not None:
            reasons.append(f"answered by fallback {self.backend} because {self.failures[0][0]} failed")
        if self.result is not None and self.result.verification.flagged:
            reasons.append(str(self.result.verification))
        if self.guard is not None and self.guard.sycophantic:
            reasons.append(f"the reply agreed with a {self.guard.claims[0].kind} claim")
        if self.result is not None and self.result.finish_reason == "length":
            reasons.append("cut off at the reply length limit")
        return "; ".join(reasons) or None


class Companion:
    """A companion bound to a store and the backends it may speak through."""

    def __init__(
        self,
        store: Store,
        companion_id: int,
        backend: ChatBackend,
        *,
        fallbacks: Sequence[ChatBackend] = (),
        warmth: int | None = None,
        embedder: Embedder | None = None,
        backfill: Backfill | None = None,
        user_name: str = "you",
        reply_tokens: int = REPLY_TOKENS,
        region: str | None = None,
        persona: Persona | None = None,
    ) -> None:
        """`persona` speaks instead of the stored one (the drill tries a persona without saving it);
        `backfill`, the store's background embedding, waits while a turn runs."""
        self.store = store
        self._persona = persona
        self.companion_id = companion_id
        self.backend = backend
        self.fallbacks = list(fallbacks)
        self.warmth = warmth
        self.embedder = embedder
        self.backfill = backfill
        self.user_name = user_name
        self.reply_tokens = reply_tokens
        self.region = region
        self.last: TurnResult | None = None
        self._turn_persona: Persona | None = None

    def reply_budget(self, backend: ChatBackend) -> int:
        """Tokens a reply may take on this backend (a small local model gets fewer)."""
        if backend.context_tokens <= SMALL_CONTEXT:
            return min(self.reply_tokens, SMALL_REPLY_TOKENS)
        return self.reply_tokens

    @property
    def persona(self) -> Persona:
        """The persona speaking. Read once per turn (a turn asks for it several times, and each read
        is a query); between turns it is read afresh, so an edit shows in the next reply."""
        return self._persona or self._turn_persona or base_persona(self.store, self.companion_id)

    @contextmanager
    def _in_turn(self) -> Iterator[None]:
        """Within a turn, every ask for the persona gets the one read at its start, and background
        embedding waits (then hears that there are new messages)."""
        self._turn_persona = self.persona
        try:
            with self.backfill.turn() if self.backfill is not None else nullcontext():
                yield
        finally:
            self._turn_persona = None

    def new_conversation(self, title: str | None = None) -> int:
        return chat.new_conversation(self.store, self.companion_id, title, self.backend.requested_model)

    def _memories(self, text: str, exclude: set[int], budget: int) -> list[Hit]:
        pinned = [
            Hit("memory", m.id, m.text, 1.0, self.backend.count_tokens(m.text), m.event_at or m.created_at,
                source_message_ids=m.source_message_ids, why={"pinned": True})
            for m in pinned_memories(self.store, self.companion_id)
        ]  # fmt: skip
        if self.embedder is not None:
            one_core_in_this_thread()  # the guard reads on the other core meanwhile
        found = retrieve(self.store, text, budget_tokens=budget, companion_id=self.companion_id,
                         embedder=self.embedder)  # fmt: skip
        seen = {h.id for h in pinned}
        keep = [h for h in found if h.id not in (exclude if h.kind == "message" else seen)]
        return pinned + keep

    def recent(self, conversation_id: int, before: int | None = None) -> list[Any]:
        """The latest turns of the visible path (before message `before`), the prompt's history."""
        return [
            t for t in chat.visible_path(self.store, conversation_id, RECENT_TURNS, before=before)
            if t.role in ("user", "assistant")
        ]  # fmt: skip

    def prepare(
        self, conversation_id: int, text: str, exclude_id: int | None = None, client_system: str = "",
        now: float | None = None, as_of: int | None = None, recent: list[Any] | None = None,
    ) -> Prompt:
        """The prompt this message would be sent with (what `/why` shows). `now` and `as_of` (a
        message id) rebuild it as it was at a past moment: that time, and nothing said later in
        that conversation. `recent`: those turns, when the caller already read them."""
        if recent is None:
            recent = self.recent(conversation_id, exclude_id)
        context = self.backend.context_tokens
        budget = max(64, int((context - self.reply_budget(self.backend)) * MEMORY_SHARE))
        hits = self._memories(text, {t.id for t in recent} | {exclude_id or -1}, budget)
        if as_of is not None:
            hits = [h for h in hits if not (h.kind == "message" and h.conversation_id == conversation_id
                                            and h.id >= as_of)]  # fmt: skip
        if now is not None:  # what was said or learned after that moment was not there to recall
            hits = [h for h in hits if (h.created_at or 0) <= now]
        return assemble(
            self.persona, text, recent=recent, memories=hits, context_tokens=context,
            reply_tokens=self.reply_budget(self.backend), count=self.backend.count_tokens, warmth=self.warmth,
            user_name=self.user_name, client_system=client_system, now=now,
            compact=self.backend.context_tokens <= SMALL_CONTEXT,
        )  # fmt: skip

    def _guard(self, text: str) -> policy.Check:
        """The well-being guard's reading of the message. Its embedding classifier starts here, in the
        background, so it reads while the message is stored, memories are retrieved and the prompt
        is put together."""
        return policy.before(text, reply_language(text, self.persona.language), self.region)

    @staticmethod
    def _instruct(prompt: Prompt, check: policy.Check) -> None:
        """The guard's instructions, added to the prompt's system message."""
        if check.instructions:
            prompt.messages[0]["content"] += "\n\n" + "\n\n".join(check.instructions)

    def _guarded(self, prompt: Prompt, text: str) -> policy.Check:
        check = self._guard(text)
        self._instruct(prompt, check)
        return check

    def replay(self, conversation_id: int, user_id: int, text: str, *, seed: int | None = None,
               now: float | None = None) -> tuple[Prompt, ChatResult]:  # fmt: skip
        """Answer a past message again exactly as a turn would have then (its time, what was said
        before it), storing nothing: the model-retirement drill's replay."""
        prompt = self.prepare(conversation_id, text, exclude_id=user_id, now=now, as_of=user_id)
        self._guarded(prompt, text)
        allowance = max(32, int(self.reply_budget(self.backend) * prompt.length))
        result = self.backend.complete(prompt.messages, temperature=prompt.temperature, top_p=prompt.top_p,
                                       max_tokens=allowance, seed=seed)  # fmt: skip
        return prompt, result

    def turn(
        self,
        conversation_id: int,
        text: str,
        *,
        parent_id: int | None = None,
        on_delta: Callable[[str], None] | None = None,
        seed: int | None = None,
        timeout: float | None = None,
        client_system: str = "",
    ) -> TurnResult:
        """Answer `text` in this conversation; the message is stored whatever happens next."""
        with self._in_turn():
            check = self._guard(text)
            user_id = chat.append(self.store, conversation_id, "user", text, parent_id=parent_id,
                                  author_name=self.user_name if self.user_name != "you" else None)  # fmt: skip
            return self._reply_to(conversation_id, user_id, text, on_delta, seed, timeout, client_system, check)

    def reply_to(
        self,
        conversation_id: int,
        user_id: int,
        text: str,
        *,
        on_delta: Callable[[str], None] | None = None,
        seed: int | None = None,
        timeout: float | None = None,
        client_system: str = "",
    ) -> TurnResult:
        """Answer a stored message (a new turn, or a regeneration: older answers stay as branches)."""
        with self._in_turn():
            return self._reply_to(conversation_id, user_id, text, on_delta, seed, timeout, client_system,
                                  self._guard(text))  # fmt: skip

    def _reply_to(
        self, conversation_id: int, user_id: int, text: str, on_delta: Callable[[str], None] | None,
        seed: int | None, timeout: float | None, client_system: str, check: policy.Check,
    ) -> TurnResult:  # fmt: skip
        recent = self.recent(conversation_id, user_id)
        prompt = self.prepare(conversation_id, text, exclude_id=user_id, client_system=client_system, recent=recent)
        self._instruct(prompt, check)
        language = reply_language(text, self.persona.language)
        out = TurnResult(conversation_id, user_id, None, "", self.backend.requested_model, prompt=prompt, guard=check)
        for backend in [self.backend, *self.fallbacks]:
            streamed: list[str] = []
            try:
                allowance = max(32, int(self.reply_budget(backend) * prompt.length))
                stream = backend.stream(prompt.messages, temperature=prompt.temperature, top_p=prompt.top_p,
                                        max_tokens=allowance, seed=seed, timeout=timeout)  # fmt: skip
                for delta in stream:
                    streamed.append(delta.text)
                    if on_delta:
                        on_delta(delta.text)
                out.result = stream.result or stream.final()
                out.backend = backend.name
                break
            except BackendError as exc:
                out.failures.append((backend.name, exc.message))
                out.error = exc
                if streamed or exc.partial_text:  # the person saw part of a reply: keep it, do not start over
                    partial = exc.partial_text or "".join(streamed)
                    out.reply_message_id = self._store_partial(conversation_id, user_id, backend, partial, exc, out)
                    out.text = partial
                    return self._finish(out)
        if out.result is None:
            policy.settle(check)
            if check.crisis.crisis:  # no model answered, but help must still reach the person
                self._guard_only_reply(out, conversation_id, user_id, check, on_delta)
            return self._finish(out)
        out.error = None
        out.text = out.result.text
        addition, out.guard_action = policy.after(check, out.text, language)
        if addition:
            out.text += addition
            if on_delta:
                on_delta(addition)
        out.served_model = out.result.served_model
        out.reply_message_id = chat.append(
            self.store, conversation_id, "assistant", out.text, parent_id=user_id, author_name=self.persona.name,
            requested_model=self.backend.requested_model, served_model=out.result.served_model,
            status="done" if out.result.finish_reason != "length" else "length", meta=self._meta(out),
        )  # fmt: skip
        mark_used(self.store, [h.id for h in prompt.memories if h.kind == "memory"])
        return self._finish(out)

    def _store_partial(self, conversation_id, user_id, backend, partial, exc, out) -> int:
        return chat.append(
            self.store, conversation_id, "assistant", partial, parent_id=user_id, author_name=self.persona.name,
            requested_model=self.backend.requested_model, served_model=None, status="interrupted",
            meta={**self._meta(out), "error": exc.message, "backend": backend.name},
        )  # fmt: skip

    def _guard_only_reply(self, out: TurnResult, conversation_id: int, user_id: int, check, on_delta) -> None:
        lang = self.persona.language
        block = help_block(check.region, check.crisis.categories, check.crisis.language or lang)
        opening = GUARD_OPENING["zh" if lang == "zh" else "en"].format(name=self.persona.name)
        out.text = f"{opening}\n\n{block}"
        out.guard_action = "no model answered: crisis lines sent by hearth"
        if on_delta:
            on_delta(out.text)
        out.reply_message_id = chat.append(
            self.store, conversation_id, "assistant", out.text, parent_id=user_id, author_name=self.persona.name,
            requested_model=self.backend.requested_model, served_model=GUARD_MODEL, status="guard",
            meta={**self._meta(out), "guard_only": True},
        )  # fmt: skip

    def _finish(self, out: TurnResult) -> TurnResult:
        check = out.guard
        if check is not None:
            policy.settle(check)
        if check is not None and check.acted:
            kind = (
                "crisis"
                if check.crisis.crisis
                else "sycophancy"
                if check.sycophantic
                else ("claim" if check.claims else "asked_if_ai")
            )
            guard_events.record(
                self.store, conversation_id=out.conversation_id, message_id=out.user_message_id,
                reply_id=out.reply_message_id, kind=kind,
                categories=list(check.crisis.categories) + [c.kind for c in check.claims],
                evidence=list(check.crisis.evidence) + [c.phrase for c in check.claims],
                action=out.guard_action or "instruction added to the prompt",
                region=check.region.code if check.region else None,
            )  # fmt: skip
        out.memories_added = extract_from(self.store, [out.user_message_id]).added
        self.last = out
        return out

    def _meta(self, out: TurnResult) -> dict[str, Any]:
        r = out.result
        meta: dict[str, Any] = {
            "backend": out.backend,
            "failures": out.failures,
            "warmth": self.warmth if self.warmth is not None else self.persona.warmth,
            "prompt": [asdict(p) for p in out.prompt.parts] if out.prompt else [],
            "memories": [[h.kind, h.id] for h in out.prompt.memories] if out.prompt else [],
            "at": time.time(),
        }
        if r is not None:
            meta |= {
                "verification": {"status": r.verification.status, "reason": r.verification.reason,
                                 "evidence": r.verification.evidence, "likely_model": r.verification.likely_model},
                "usage": asdict(r.usage), "finish_reason": r.finish_reason, "latency_s": round(r.latency_s, 3),
                "time_to_first_token_s": r.time_to_first_token_s,
            }  # fmt: skip
        return meta
