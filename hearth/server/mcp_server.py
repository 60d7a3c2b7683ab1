"""hearth's memory as an MCP server, so the agents a person already uses (Claude Desktop, IDE
assistants, any MCP client) read and write the same memory instead of keeping one per app.

`hearth mcp` speaks it over stdio; `hearth serve` mounts the streamable-HTTP transport at `/mcp`,
behind the same access token as every other route. Tools only translate: every write goes
through the same store functions as `hearth memory …`, and records which client made it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp_types import Resource as MCPResource

from hearth.errors import HearthError, NotFound
from hearth.records import MEMORY_KINDS
from hearth.store import Store

INSTRUCTIONS = (
    "hearth keeps the long-term memory of the person's AI companion: facts about them, shared events, "
    "preferences, boundaries. Search it before answering questions about the person or your shared past "
    "(Chinese and English both work). Add a memory when the person tells you something lasting about "
    "themselves; update or forget one when they correct you. Everything you write is shown to the person "
    "with your client's name on it."
)
SEARCH_BUDGET = 800
LISTED_MEMORIES = 500
"""How many memories `resources/list` names one by one; all are readable by id, and in bulk."""


@contextlib.contextmanager
def _as_tool_error() -> Iterator[None]:
    """A mistake the client can fix (a wrong id, an empty text) comes back as the tool's error text,
    hint included, instead of the SDK's generic 'Error executing tool'."""
    try:
        yield
    except HearthError as e:
        raise ToolError(e.with_hint()) from e


def client_name(ctx: Context | None) -> str:
    """The connecting client's own name (from the MCP handshake), for provenance."""
    try:
        params = ctx.session.client_params if ctx is not None else None
        info = params.client_info if params is not None else None
        name = (info.name or "").strip() if info is not None else ""
    except Exception:  # outside a request, or a transport that carries no handshake
        name = ""
    return name[:80] or "an MCP client"


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts is not None else None


def memory_json(m: Any) -> dict[str, Any]:
    """A memory as an MCP client sees it: what it says, how sure and important, where it came from."""
    return {
        "id": m.id, "text": m.text, "kind": m.kind, "importance": round(m.importance, 3), "pinned": m.pinned,
        "source": m.source, "companion_id": m.companion_id, "created": _iso(m.created_at),
        "updated": _iso(m.updated_at), "event": _iso(m.event_at), "superseded_by": m.superseded_by,
        "source_message_ids": m.source_message_ids, "keys": m.keys,
    }  # fmt: skip


class _Embedder:
    """The bundled embedder, loaded once on the first search (a few hundred ms), shared by all calls."""

    def __init__(self, factory: Callable[[], Any] | None) -> None:
        self._factory = factory
        self._value: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._factory is None:
            return None
        with self._lock:
            if self._value is None:
                self._value = self._factory()
            return self._value


_request_store: ContextVar[Store | None] = ContextVar("hearth_mcp_store", default=None)


class HearthMCP(MCPServer):
    """MCPServer whose resource list names the memories that exist now, not only those at start,
    and whose tools work on the store of the person who sent the request.

    Over HTTP, `hearth serve`'s auth middleware has put that person's hub on the request
    (`request.state.hub`); every handler runs with its store, so one person's MCP client can never
    reach another's memories. Over stdio there is no request: the store given here is the one."""

    def __init__(self, store: Store, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._default_store = store

    @property
    def store(self) -> Store:
        return _request_store.get() or self._default_store

    @staticmethod
    def _store_of(ctx: Any) -> Store | None:
        request = getattr(ctx, "request", None)
        if request is None:
            return None  # stdio
        hub = getattr(request.state, "hub", None)
        if hub is None:
            raise PermissionError("An MCP request over HTTP arrived without a signed-in person.")
        return hub.store

    async def _scoped(self, ctx: Any, handler: Callable[[], Awaitable[Any]]) -> Any:
        token = _request_store.set(self._store_of(ctx))
        try:
            return await handler()
        finally:
            _request_store.reset(token)

    async def _handle_call_tool(self, ctx: Any, params: Any) -> Any:
        return await self._scoped(ctx, lambda: super(HearthMCP, self)._handle_call_tool(ctx, params))

    async def _handle_list_resources(self, ctx: Any, params: Any) -> Any:
        return await self._scoped(ctx, lambda: super(HearthMCP, self)._handle_list_resources(ctx, params))

    async def _handle_read_resource(self, ctx: Any, params: Any) -> Any:
        return await self._scoped(ctx, lambda: super(HearthMCP, self)._handle_read_resource(ctx, params))

    async def list_resources(self) -> list[MCPResource]:
        from hearth.store.memories import list_memories

        listed = await super().list_resources()
        for m in list_memories(self.store, limit=LISTED_MEMORIES):
            flat = " ".join(m.text.split())
            listed.append(
                MCPResource(
                    uri=f"hearth://memories/{m.id}",
                    name=f"memory-{m.id}",
                    title=flat[:60],
                    description=f"{m.kind} · from {m.source}",
                    mime_type="application/json",
                )  # fmt: skip
            )
        return listed


def _resolve_companion(store: Store, name: str | None) -> int | None:
    from hearth.store.loaders import companion_id

    return companion_id(store, name) if name else None


def build_mcp(store: Store, *, embedder: Callable[[], Any] | None = None) -> HearthMCP:
    """The MCP server over `store`. `embedder` builds the search embedder on first use (None: lexical only)."""
    from hearth import __version__

    # WARNING: the SDK sets up the root logger at this level, and at its default (INFO) every HTTP request
    # any library makes would be printed on the person's terminal.
    server = HearthMCP(store, name="hearth", title="hearth memory", version=__version__, instructions=INSTRUCTIONS,
                       log_level="WARNING")  # fmt: skip
    vectors = _Embedder(embedder)

    @server.tool()
    def search_memory(query: str, budget_tokens: int = SEARCH_BUDGET, companion: str | None = None,
                      include_messages: bool = True) -> dict[str, Any]:  # fmt: skip
        """Recall what hearth knows that bears on `query` (a question or words, Chinese or English):
        memories and, unless include_messages is false, past messages, best first, within budget_tokens."""
        from hearth.memory.retrieve import embed_pending, retrieve

        with _as_tool_error():
            if not query.strip():
                raise HearthError("The query is empty.", hint="Ask a question or give a few words.")
            cid = _resolve_companion(server.store, companion)
            emb = vectors.get()
            if emb is not None:
                embed_pending(server.store, emb, kinds=("memory",))
            sources = ("memory", "message") if include_messages else ("memory",)
            hits = retrieve(server.store, query, budget_tokens=max(50, min(budget_tokens, 8000)), companion_id=cid,
                            embedder=emb, sources=sources)  # fmt: skip
        return {
            "query": query,
            "tokens": sum(h.tokens for h in hits),
            "results": [
                {
                    "kind": h.kind,
                    "id": h.id,
                    "text": h.text,
                    "role": h.role,
                    "conversation_id": h.conversation_id,
                    "created": _iso(h.created_at),
                    "source_message_ids": h.source_message_ids,
                    "score": round(h.score, 5),
                }  # fmt: skip
                for h in hits
            ],
        }

    @server.tool()
    def add_memory(text: str, kind: str = "fact", importance: float = 0.7, companion: str | None = None,
                   pinned: bool = False, ctx: Context | None = None) -> dict[str, Any]:  # fmt: skip
        """Remember something lasting about the person (kind: fact, preference, event, milestone,
        boundary, person, lorebook or note; importance 0 to 1). Returns the stored memory."""
        from hearth.store.memories import add_memory as store_add
        from hearth.store.memories import get_memory

        with _as_tool_error():
            text = text.strip()
            if not text:
                raise HearthError("The memory text is empty.", hint="Say what to remember.")
            if kind not in MEMORY_KINDS:
                raise HearthError(f"Unknown memory kind {kind!r}.", hint=f"Use one of: {', '.join(MEMORY_KINDS)}.")
            mid = store_add(server.store, text, kind=kind, importance=max(0.0, min(1.0, importance)),
                            companion_id=_resolve_companion(server.store, companion), pinned=pinned,
                            source=f"added by MCP client {client_name(ctx)}")  # fmt: skip
            return memory_json(get_memory(server.store, mid))

    @server.tool()
    def update_memory(memory_id: int, text: str | None = None, kind: str | None = None,
                      importance: float | None = None, pinned: bool | None = None) -> dict[str, Any]:  # fmt: skip
        """Correct a memory: new wording, kind, importance or pinning; search uses the new form at once."""
        from hearth.store.memories import update_memory as store_update

        with _as_tool_error():
            if text is not None and not text.strip():
                raise HearthError("The new text is empty.", hint="Use forget_memory to delete a memory.")
            if kind is not None and kind not in MEMORY_KINDS:
                raise HearthError(f"Unknown memory kind {kind!r}.", hint=f"Use one of: {', '.join(MEMORY_KINDS)}.")
            m = store_update(server.store, memory_id, text=text.strip() if text is not None else None, kind=kind,
                             importance=importance, pinned=pinned)  # fmt: skip
            return memory_json(m)

    @server.tool()
    def forget_memory(memory_id: int) -> dict[str, Any]:
        """Delete a memory from hearth and from every search index, for good."""
        from hearth.store.memories import forget_memory as store_forget

        with _as_tool_error():
            store_forget(server.store, memory_id)
        return {"forgotten": memory_id}

    @server.tool()
    def get_persona(companion: str | None = None) -> dict[str, Any]:
        """The companion's persona card: name, voice, relationship, facts, boundaries, greeting, examples."""
        from hearth.persona.card import render
        from hearth.persona.derive import base_persona
        from hearth.store.loaders import default_companion_id

        with _as_tool_error():
            cid = _resolve_companion(server.store, companion) or default_companion_id(server.store)
            persona = base_persona(server.store, cid)
        return {"companion_id": cid, "persona": persona.model_dump(mode="json"), "text": render(persona)}

    @server.tool()
    def get_letter(tokens: int = 2000, lang: str | None = None, target: str = "generic",
                   companion: str | None = None) -> dict[str, Any]:  # fmt: skip
        """The memory letter: persona plus the most important memories within `tokens`, ready to paste
        into any chat (lang: zh or en; target: chatgpt, claude or generic)."""
        from hearth.memory.letter import build_letter
        from hearth.store.loaders import default_companion_id

        with _as_tool_error():
            cid = _resolve_companion(server.store, companion) or default_companion_id(server.store)
            letter = build_letter(server.store, cid, tokens, lang=lang, target=target)
        return {"text": letter.text, "tokens": letter.tokens, "budget": letter.budget, "lang": letter.language,
                "memories": len([i for i in letter.items if i.memory_id is not None]),
                "left_out": letter.left_out, "moments": letter.moments}  # fmt: skip

    @server.resource("hearth://memories", name="memories", title="Everything hearth remembers",
                     mime_type="application/json")  # fmt: skip
    def all_memories() -> list[dict[str, Any]]:
        """Every current memory (superseded ones left out), pinned first, then by importance."""
        from hearth.store.memories import list_memories

        return [memory_json(m) for m in list_memories(server.store, limit=None)]

    @server.resource("hearth://memories/{memory_id}", name="memory", title="One memory",
                     mime_type="application/json")  # fmt: skip
    def one_memory(memory_id: str) -> dict[str, Any]:
        """One memory with the messages it came from."""
        from hearth.store.memories import get_memory, provenance

        if not memory_id.isdigit():
            raise ResourceNotFoundError(f"There is no memory {memory_id!r}.")
        try:
            m = get_memory(server.store, int(memory_id))
        except NotFound as e:
            raise ResourceNotFoundError(e.with_hint()) from e
        return {**memory_json(m), "sources": [{**p, "created": _iso(p.get("created_at"))}
                                              for p in provenance(server.store, m.id)]}  # fmt: skip

    return server
