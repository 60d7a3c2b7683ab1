"""User accounts: several people on one hearth server, each in a store of their own.

The server's main store (the one `--db` / HEARTH_DB names) keeps the account registry; each person's
companions, history and memories live in a separate store — a SQLite file beside the main one, or a
schema of their own in the same PostgreSQL database. Every route and tool opens the store of the
person whose token it was given, so no query can reach another person's rows: isolation holds by
construction instead of by a `WHERE owner = ...` that one forgotten query would break.

A token is shown once when it is made and kept only as its SHA-256 (tokens are 256 random bits, so
a fast hash is enough: there is nothing to brute-force).
"""

from __future__ import annotations

import glob
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from hearth.errors import HearthError, NotFound
from hearth.store import Store
from hearth.store.db import database_url, sqlite_file
from hearth.store.schema import users

NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
USERS_DIR = "users"
SCHEMA_PREFIX = "hearth_user_"
TOKEN_PREFIX = "hu_"
"""Marks a person's token (the owner's server token has none), which helps spot one pasted by mistake."""


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    store: str
    """Where this person's store is, as kept: a path relative to the main store's folder (SQLite) or
    `schema:NAME` (PostgreSQL). `location()` turns it into what `Store` opens."""
    created_at: float
    token_at: float


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise HearthError(
            f"{name!r} cannot be an account name.",
            hint="Use 1–32 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit.",
        )
    return name


def location(main: Store, account: Account) -> str:
    """The store location of an account, derived from the main store's (so moving the folder, or
    changing the PostgreSQL password in HEARTH_DB, moves every account with it)."""
    if account.store.startswith("schema:"):
        url = sa.make_url(database_url(main.location))
        schema = account.store.removeprefix("schema:")
        options = url.query.get("options", "")
        options = options if isinstance(options, str) else " ".join(options)
        options = re.sub(r"-c\s*search_path\s*=\s*\S+", "", options)  # the main store's own, if it pins one
        search_path = f"-csearch_path={schema},public"  # public: where pgvector's type lives
        return url.update_query_dict({"options": f"{options} {search_path}".strip()}).render_as_string(
            hide_password=False
        )
    folder = sqlite_file(main.location)
    if folder is None:
        raise HearthError("Accounts need a main store in a file or in PostgreSQL, not in memory.")
    return str(folder.parent / account.store)


def _row(row: sa.Row) -> Account:
    return Account(row.id, row.name, row.store, row.created_at, row.token_at)


def list_accounts(main: Store) -> list[Account]:
    with main.engine.connect() as conn:
        return [_row(r) for r in conn.execute(sa.select(users).order_by(users.c.name))]


def account_files(main: Store) -> list[tuple[str, Path]]:
    """Each account whose store is a SQLite file, with that file (those that exist): what
    encrypting, rekeying or decrypting the main store does to them too."""
    found = []
    for account in list_accounts(main):
        if not account.store.startswith("schema:"):
            path = Path(location(main, account))
            if path.exists():
                found.append((account.name, path))
    return found


def get_account(main: Store, name: str) -> Account:
    with main.engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.name == name)).first()
    if row is None:
        raise NotFound(f"There is no account named {name!r}.", hint="`hearth users list` shows the accounts.")
    return _row(row)


def account_for_token(main: Store, token: str | None) -> Account | None:
    """The account a token belongs to, or None (also for the owner's server token, which is no account)."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    with main.engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.token_sha256 == token_hash(token))).first()
    return _row(row) if row else None


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _prepare(main: Store, account: Account) -> None:
    """Create the empty store (file or schema) and migrate it, so the first request finds it ready."""
    if account.store.startswith("schema:"):
        schema = account.store.removeprefix("schema:")
        with main.engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            try:  # pgvector belongs in public, shared by every store: created from a person's
                # schema it would land there, and dropping that schema would take it from everyone
                with conn.begin_nested():
                    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
            except sa.exc.DBAPIError:
                pass  # no pgvector on this server: exact search it is
    else:  # the folder of everyone's stores: nobody else on the machine lists or reads it
        Path(location(main, account)).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    Store(location(main, account), passphrase=main.passphrase).close()  # encrypted when the main store is


def _fresh_store(main: Store, name: str, postgres: bool) -> str:
    """A store name no account ever had: an account removed (its data kept) and made again must not
    find the old one's data, and SQLite reuses the ids of deleted rows, so the id cannot tell them apart."""
    while True:
        tag = secrets.token_hex(4)
        if postgres:
            store = f"schema:{SCHEMA_PREFIX}{tag}"
            with main.engine.connect() as conn:
                taken = conn.exec_driver_sql(
                    "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (store[7:],)
                ).first()
        else:
            store = f"{USERS_DIR}/{name}-{tag}.db"
            taken = Path(location(main, Account(0, name, store, 0.0, 0.0))).exists()
        if not taken:
            return store


def add_account(main: Store, name: str) -> tuple[Account, str]:
    """A new account with an empty store of its own; returns it and its token (shown only now)."""
    check_name(name)
    token, now = _new_token(), time.time()
    postgres = main.engine.dialect.name == "postgresql"
    with main.engine.begin() as conn:
        if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first():
            raise HearthError(f"There is already an account named {name!r}.",
                              hint=f"`hearth users token {name}` gives it a new token.")  # fmt: skip
        new_id = conn.execute(
            users.insert().values(name=name, token_sha256=token_hash(token), store="", created_at=now, token_at=now)
        ).inserted_primary_key[0]
        store = _fresh_store(main, name, postgres)
        conn.execute(users.update().where(users.c.id == new_id).values(store=store))
    account = Account(new_id, name, store, now, now)
    try:
        _prepare(main, account)
    except Exception:
        with main.engine.begin() as conn:
            conn.execute(users.delete().where(users.c.id == new_id))
        raise
    return account, token


def new_token(main: Store, name: str) -> str:
    """Replace an account's token: the old one stops working at once (signed-in browsers too)."""
    account = get_account(main, name)
    token = _new_token()
    with main.engine.begin() as conn:
        conn.execute(users.update().where(users.c.id == account.id)
                     .values(token_sha256=token_hash(token), token_at=time.time()))  # fmt: skip
    return token


def remove_account(main: Store, name: str, *, delete_data: bool = False) -> str:
    """Remove an account (its token stops working). Its store is kept unless `delete_data`; returns
    where it is (or was)."""
    account = get_account(main, name)
    where = location(main, account)
    with main.engine.begin() as conn:
        conn.execute(users.delete().where(users.c.id == account.id))
        if delete_data and account.store.startswith("schema:"):
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{account.store.removeprefix("schema:")}" CASCADE')
    if delete_data and not account.store.startswith("schema:"):
        path = Path(where)
        for suffix in ("", "-wal", "-shm", "-journal"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        for sidecar in path.parent.glob(glob.escape(path.name) + ".*.ann*"):  # the vector index files
            sidecar.unlink(missing_ok=True)
    return where if not account.store.startswith("schema:") else account.store.removeprefix("schema:")


def copy_accounts(source: Store, target: Store, workdir: Path) -> list[tuple[str, dict[str, int]]]:
    """Carry every account, and its store, from one main store into another (`hearth db copy`):
    same names, same tokens (only their hashes move), each person's store copied and checked the
    way the main one is. Returns (name, row counts) per account."""
    from hearth.store.maintenance import copy_store

    copied = []
    postgres = target.engine.dialect.name == "postgresql"
    for account in list_accounts(source):
        with source.engine.connect() as conn:
            digest = conn.execute(sa.select(users.c.token_sha256).where(users.c.id == account.id)).scalar_one()
        with target.engine.begin() as conn:
            if conn.execute(sa.select(users.c.id).where(users.c.name == account.name)).first():
                raise HearthError(f"{target.location} already has an account named {account.name!r}.",
                                  hint="Copy into a new, empty database (or a new SQLite file).")  # fmt: skip
            new_id = conn.execute(users.insert().values(
                name=account.name, token_sha256=digest, store="", created_at=account.created_at,
                token_at=account.token_at,
            )).inserted_primary_key[0]  # fmt: skip
            store = _fresh_store(target, account.name, postgres)
            conn.execute(users.update().where(users.c.id == new_id).values(store=store))
        moved = Account(new_id, account.name, store, account.created_at, account.token_at)
        _prepare(target, moved)
        folder = workdir / f"account-{new_id}"
        folder.mkdir(parents=True, exist_ok=True)
        with Store(location(source, account)) as theirs, Store(location(target, moved)) as into:
            copied.append((account.name, copy_store(theirs, into, folder)))
    return copied
