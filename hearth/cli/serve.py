"""`hearth serve`: the web UI and the OpenAI-compatible proxy on one port."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.text import Text

from hearth.cli import State, _store, app, out
from hearth.errors import HearthError


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (other than loopback needs --token).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8765,
    token: Annotated[
        Optional[str], typer.Option("--token", help="Access token (default: HEARTH_TOKEN, else one saved for you).")
    ] = None,
    backend: Annotated[
        Optional[str], typer.Option("--backend", "-b", help="Backend companions speak through (default: embedded).")
    ] = None,
    fallback: Annotated[
        Optional[list[str]], typer.Option("--fallback", help="Backend to try if the first fails (marked when used).")
    ] = None,
    background_embed: Annotated[
        bool,
        typer.Option(
            "--embed/--no-embed",
            help="Embed history and memories in the background, so replies recall "
            "by meaning as well as by words (one core, paused while a reply is written).",
        ),
    ] = True,
) -> None:
    """Serve the web UI and an OpenAI-compatible API: point any app that takes a base URL at
    http://HOST:PORT/v1 with the access token as its API key, and pick a `hearth/<companion>` model."""
    import uvicorn

    from hearth.backends import registry
    from hearth.server.app import create_app
    from hearth.server.auth import Auth, resolve_token, token_path
    from hearth.server.hub import Hub
    from hearth.store import users

    if State.user is not None:
        raise HearthError(
            "`hearth serve` serves the main store and every account in it; drop --user.",
            hint="Each person signs in with their own token (`hearth users add NAME` makes one).",
        )
    secret, generated = resolve_token(token, host)
    store = _store()
    hub = Hub(store, registry.get_backend, backend=backend, fallbacks=fallback or [],
              configured=registry.configured_models, embed_in_background=background_embed)  # fmt: skip
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    out.print(Text(f"hearth is serving {store.location}", style="bold"))
    out.print(f"  Web UI:   http://{shown}:{port}/login?token={secret}")
    out.print(f"  API:      base URL http://{shown}:{port}/v1, API key = the access token")
    out.print(f"  MCP:      http://{shown}:{port}/mcp (streamable HTTP), Bearer = the access token")
    people = len(users.list_accounts(store))
    if people:
        out.print(
            f"  Accounts: {people} more {'person signs' if people == 1 else 'people sign'} in with their own "
            "token, each to their own store (`hearth users list`)"
        )
    if generated:
        out.print(Text(f"  A new access token was saved to {token_path()} (only you can read it).", style="dim"))
    out.print(Text("  Ctrl-C stops the server.", style="dim"))
    from hearth.memory.embed import default_embedder

    app_ = create_app(hub, Auth(secret, store), host=host, embedder=default_embedder)
    try:
        uvicorn.run(app_, host=host, port=port, log_level="warning")
    finally:
        hub.close()
