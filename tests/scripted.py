"""A backend that answers from a script: the ChatBackend protocol with no network, for tests of
what happens around a reply (the real adapters are tested against real servers in test_backends*)."""

from __future__ import annotations

from collections.abc import Generator, Sequence

from hearth.backends.base import VERIFIED, ChatResult, ChatStream, Delta, Usage, Verification
from hearth.errors import BackendStreamBroken
from hearth.memory.tokens import estimate_tokens


class Scripted:
    """A backend that answers from a script: the protocol, no network (real ones: test_backends*)."""

    def __init__(self, name="local", model="smollm2", reply="Hello there.", served=None, status=VERIFIED,
                 fail=None, fail_after=None, context=4096, finish="stop"):  # fmt: skip
        self.name, self.requested_model = name, model
        self.reply, self.served, self.status = reply, served or model, status
        self.fail, self.fail_after, self.context, self.finish = fail, fail_after, context, finish
        self.calls: list[list[dict]] = []

    @property
    def context_tokens(self) -> int:
        return self.context

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def _gen(self, messages) -> Generator[Delta, None, ChatResult]:
        self.calls.append([dict(m) for m in messages])
        if self.fail and self.fail_after is None:
            raise self.fail
        words = self.reply.split(" ")
        for n, w in enumerate(words):
            if self.fail_after is not None and n == self.fail_after:
                raise BackendStreamBroken("The connection dropped mid-reply.", partial_text=" ".join(words[:n]))
            yield Delta(w if n == 0 else " " + w)
        check = Verification(self.status, "scripted")
        return ChatResult(self.reply, self.name, self.requested_model, self.served, check, Usage(10, len(words)),
                          self.finish, 0.01, 0.001)  # fmt: skip

    def stream(self, messages: Sequence, **kw) -> ChatStream:
        return ChatStream(self._gen(messages))

    def complete(self, messages: Sequence, **kw) -> ChatResult:
        return self.stream(messages).final()
