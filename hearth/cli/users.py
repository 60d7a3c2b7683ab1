"""`hearth users …`: the people who share this hearth server, each with a token and a store of their own."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from hearth.cli import _json, _main_store, _when, app, out

users_app = typer.Typer(
    help="Accounts for a shared server: each person signs in with their own token and sees only their own "
    "companions, history and memories. Run these on the server.",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")

NameArg = Annotated[str, typer.Argument(help="The account name (lowercase letters, digits, '.', '_', '-').")]


def _show_token(name: str, token: str) -> None:
    out.print(f"Token for {name} (shown only now; give it to them privately):")
    out.print(Text(token, style="bold"))
    out.print(Text("They sign in at /login with it, or use it as the API key / MCP Bearer token.", style="dim"))


@users_app.command("add")
def users_add(name: NameArg) -> None:
    """Make an account with an empty store of its own, and print its token."""
    from hearth.store import users

    with _main_store() as main:
        account, token = users.add_account(main, name)
        where = users.location(main, account) if not account.store.startswith("schema:") else account.store[7:]
        encrypted = main.encrypted
    out.print(f"Added {name}; their store is {where}.")
    if encrypted:
        out.print(Text("The main store is encrypted, but account stores are not (yet): keep this folder on an "
                       "encrypted disk.", style="yellow"))  # fmt: skip
    _show_token(name, token)


@users_app.command("list")
def users_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The accounts on this server (never their tokens: only hashes are kept)."""
    from hearth.store import users

    with _main_store() as main:
        accounts = users.list_accounts(main)
    if as_json:
        _json([{"name": a.name, "store": a.store, "created_at": a.created_at, "token_at": a.token_at}
               for a in accounts])  # fmt: skip
        return
    if not accounts:
        out.print("No accounts yet: the server's own token opens the main store. `hearth users add NAME` makes one.")
        return
    table = Table("name", "store", "created", "token made")
    for a in accounts:
        table.add_row(a.name, a.store, _when(a.created_at), _when(a.token_at))
    out.print(table)


@users_app.command("token")
def users_token(name: NameArg) -> None:
    """Give an account a new token; the old one (and every browser signed in with it) stops working."""
    from hearth.store import users

    with _main_store() as main:
        token = users.new_token(main, name)
    _show_token(name, token)


@users_app.command("remove")
def users_remove(
    name: NameArg,
    delete_data: Annotated[
        bool, typer.Option("--delete-data", help="Also delete their store. Without it the store is kept.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting data.")] = False,
) -> None:
    """Remove an account: its token stops working at once. Its store is kept unless --delete-data."""
    from hearth.store import users

    with _main_store() as main:
        users.get_account(main, name)
        if delete_data and not yes and not typer.confirm(f"Delete everything {name} has in hearth?", err=True):
            raise typer.Exit(1)
        where = users.remove_account(main, name, delete_data=delete_data)
    if delete_data:
        out.print(f"Removed {name} and deleted their store ({where}).")
    else:
        out.print(f"Removed {name}. Their store is kept at {where} (open it with `hearth --db`, or delete it).")
