"""`hearth mcp`: the memory as an MCP server on stdio, for agents that launch their tools themselves."""

from __future__ import annotations

from typing import Annotated

import typer

from hearth.cli import _store, app


@app.command("mcp")
def mcp(
    lexical: Annotated[
        bool, typer.Option("--lexical", help="Search by words only (no embedding model loaded).")
    ] = False,
) -> None:
    """Serve hearth's memory over MCP on stdin/stdout (tools: search_memory, add_memory, update_memory,
    forget_memory, get_persona, get_letter; every memory as a resource).

    Add it to an MCP client (Claude Desktop, an IDE assistant) as the command `hearth mcp`
    (`hearth --db PATH mcp` for another store). Over HTTP it is part of `hearth serve`: http://HOST:PORT/mcp
    with the access token as a Bearer header. Whatever a client adds is marked with its name.
    """
    from hearth.memory.embed import default_embedder
    from hearth.server.mcp_server import build_mcp

    server = build_mcp(_store(), embedder=None if lexical else default_embedder)
    server.run("stdio")
