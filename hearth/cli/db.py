"""`hearth db …`: check, repair, migrate, back up, restore and encrypt the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from hearth.cli import State, _json, _location, _store, app, out

db_app = typer.Typer(help="Check, migrate, back up, restore and encrypt the store.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("check")
def db_check(
    repair: Annotated[bool, typer.Option("--repair", help="Rebuild search rows and drop orphan vectors.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Is the store as hearth promises? Integrity, search index, vectors, provenance, branches."""
    from hearth.store import maintenance

    store = _store()
    problems = maintenance.check(store)
    fixed = maintenance.repair(store) if repair and any(p.repairable for p in problems) else 0
    after = maintenance.check(store) if fixed else problems
    if as_json:
        _json({"problems": [p.__dict__ for p in problems], "repaired_rows": fixed,
               "remaining": [p.__dict__ for p in after]})  # fmt: skip
    else:
        if not problems:
            out.print(Text("The store is healthy.", style="bold green"))
        for p in problems:
            hint = " (--repair fixes this)" if p.repairable and not repair else ""
            out.print(Text(f"• {p.what}: {p.count}{hint}", style="yellow"))
        if fixed:
            out.print(f"Repaired {fixed} rows; {len(after)} problem(s) remain.")
    if after:
        raise typer.Exit(1)


@db_app.command("migrate")
def db_migrate() -> None:
    """Bring the store (SQLite or PostgreSQL) to this hearth's schema. Opening it with a newer hearth
    does the same; this says what changed. Take a `hearth db backup` first if the data matters."""
    import sqlalchemy as sa

    store = _store()
    where = store.location if "://" not in store.location else sa.make_url(store.location).render_as_string()
    if store.schema_before == store.schema:
        out.print(f"{where} is already at the newest schema ({store.schema}).")
    elif store.schema_before is None:
        out.print(f"Created the hearth schema ({store.schema}) in {where}.")
    else:
        out.print(f"Upgraded {where} from schema {store.schema_before} to {store.schema}.")


@db_app.command("backup")
def db_backup(
    dest: Annotated[Path, typer.Argument(help="The backup file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """A consistent copy of the store, safe to take while hearth is running."""
    from hearth.store import maintenance, users

    store = _store()
    done = maintenance.backup(store, dest, force)
    out.print(f"Backed up to {dest} ({done['bytes'] / 1e6:.1f} MB in {done['seconds']} s).")
    accounts = users.list_accounts(store)
    if accounts:
        names = ", ".join(a.name for a in accounts)
        out.print(Text(f"This store has {len(accounts)} account(s) whose stores are kept apart: back each up with "
                       f"`hearth --user NAME db backup FILE` ({names}).", style="yellow"))  # fmt: skip


@db_app.command("restore")
def db_restore(
    source: Annotated[Path, typer.Argument(help="A backup written by `hearth db backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the store with a backup; the current store is kept beside it, never deleted."""
    from hearth.store import maintenance

    target = _location()
    if not yes and not typer.confirm(f"Replace {target} with {source}? (the current one is kept aside)"):
        raise typer.Exit(1)
    aside = maintenance.restore(source, target)
    out.print(f"Restored {target} from {source}." + (f" The previous store is at {aside}." if aside else ""))


def _store_file() -> Path:
    from hearth.errors import HearthError
    from hearth.store.db import sqlite_file

    path = sqlite_file(_location())
    if path is None:
        raise HearthError("Encryption at rest is for the SQLite file store.",
                          hint="On PostgreSQL, encrypt the server's disk or use its own encryption.")  # fmt: skip
    if not path.exists():
        raise HearthError(f"There is no hearth database at {path} yet.", hint="Import something first.")
    return path


def _new_passphrase() -> str:
    import os

    from hearth.store.encryption import ENV, check_passphrase

    passphrase = os.environ.get(ENV) or typer.prompt("New passphrase", hide_input=True, confirmation_prompt=True)
    check_passphrase(passphrase)
    return passphrase


def _current_passphrase(path: Path) -> str:
    from hearth.store.encryption import passphrase_for

    return passphrase_for(path) or typer.prompt("Passphrase", hide_input=True)


def _accounts_too(main: Path, old: str | None, new: str | None, done: str) -> None:
    """The accounts' stores follow the main store (`hearth db encrypt/rekey/decrypt` without
    --user): each one the old passphrase opens (or plain, when encrypting) is re-keyed the same
    way. One given its own passphrase (`hearth --user NAME db rekey`) is left as it is, and named."""
    from hearth.store import Store, encryption, users

    if State.user is not None:
        return
    with Store(str(main), new) as store:
        files = users.account_files(store)
    moved, kept = [], []
    for name, path in files:
        if encryption.is_encrypted(path) == (old is None) or not encryption.opens(path, old):
            kept.append(name)
            continue
        encryption.rekey_copy(path, old, new)
        if new is not None:
            _drop_plain_leftovers(path)
        moved.append(name)
    if moved:
        out.print(f"{done} the stores of {len(moved)} account(s) too: {', '.join(moved)}.")
    if kept:
        out.print(Text(f"Left as they were (another passphrase, or already so): {', '.join(kept)}; "
                       "`hearth --user NAME db ...` changes one.", style="yellow"))  # fmt: skip


def _drop_plain_leftovers(path: Path) -> None:
    """Vector index sidecars are plain files: remove them (they are rebuilt in memory); name older
    plain copies (backups, stores set aside by restore) so the person can decide about them."""
    from hearth.store.encryption import SQLITE_MAGIC

    for sidecar in path.parent.glob(path.name + ".*.ann*"):
        sidecar.unlink(missing_ok=True)
    plain = []
    for other in path.parent.glob(path.name + "*"):
        if other != path and other.is_file() and other.open("rb").read(16) == SQLITE_MAGIC:
            plain.append(other)
    if plain:
        out.print(Text("Older copies beside it are not encrypted; delete them if you do not need them: "
                       + ", ".join(str(p) for p in plain), style="yellow"))  # fmt: skip


@db_app.command("encrypt")
def db_encrypt(
    keyring: Annotated[bool, typer.Option("--keyring", help="Also save the passphrase in the OS keyring.")] = False,
) -> None:
    """Encrypt the store at rest (SQLCipher). Asks for a new passphrase (or reads HEARTH_PASSPHRASE).

    Afterwards hearth opens it with HEARTH_PASSPHRASE or the passphrase saved in the OS keyring.
    Without the passphrase nobody, you included, can read it: keep it somewhere safe.
    Stop `hearth serve` and other hearth commands first."""
    from hearth.errors import HearthError
    from hearth.store import Store, encryption

    path = _store_file()
    if encryption.is_encrypted(path):
        raise HearthError(f"{path} is already encrypted.", hint="`hearth db rekey` changes the passphrase.")
    Store(str(path)).close()  # a hearth database, at this hearth's schema
    passphrase = _new_passphrase()
    counts = encryption.rekey_copy(path, None, passphrase)
    if keyring:
        encryption.save_to_keyring(path, passphrase)
    held = f"{counts.get('messages', 0):,} messages, {counts.get('memories', 0):,} memories"
    out.print(Text(f"Encrypted {path} ({held}).", style="bold green"))
    out.print("hearth opens it with the passphrase from " + ("the OS keyring." if keyring else
              f"{encryption.ENV} (or save it with `hearth db unlock --keyring`)."))  # fmt: skip
    _drop_plain_leftovers(path)
    _accounts_too(path, None, passphrase, "Encrypted")


@db_app.command("decrypt")
def db_decrypt(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Turn an encrypted store back into a plain SQLite file anyone with access to the disk can read."""
    from hearth.errors import HearthError
    from hearth.store import encryption

    path = _store_file()
    if not encryption.is_encrypted(path):
        raise HearthError(f"{path} is not encrypted.")
    passphrase = _current_passphrase(path)
    if not encryption.opens(path, passphrase):
        raise encryption.locked_error(path, wrong=True)
    if not yes and not typer.confirm(f"Store {path} without encryption?"):
        raise typer.Exit(1)
    counts = encryption.rekey_copy(path, passphrase, None)
    encryption.forget_keyring(path)
    out.print(f"Decrypted {path} ({counts.get('messages', 0):,} messages); it is a plain SQLite file again.")
    _accounts_too(path, passphrase, None, "Decrypted")


@db_app.command("rekey")
def db_rekey(
    keyring: Annotated[bool, typer.Option("--keyring", help="Save the new passphrase in the OS keyring.")] = False,
) -> None:
    """Change the passphrase of an encrypted store (the old one from HEARTH_PASSPHRASE, the keyring, or asked)."""
    import os

    from hearth.errors import HearthError
    from hearth.store import encryption

    path = _store_file()
    if not encryption.is_encrypted(path):
        raise HearthError(f"{path} is not encrypted.", hint="`hearth db encrypt` encrypts it.")
    old = encryption.passphrase_for(path) or typer.prompt("Current passphrase", hide_input=True)
    if not encryption.opens(path, old):
        raise encryption.locked_error(path, wrong=True)
    new = os.environ.get("HEARTH_NEW_PASSPHRASE") or typer.prompt("New passphrase", hide_input=True,
                                                                   confirmation_prompt=True)  # fmt: skip
    encryption.check_passphrase(new)
    encryption.rekey_copy(path, old, new)
    if keyring or encryption.keyring_passphrase(path) is not None:
        encryption.save_to_keyring(path, new)
    out.print(f"The passphrase of {path} is changed.")
    _accounts_too(path, old, new, "Changed the passphrase of")


@db_app.command("unlock")
def db_unlock(
    keyring: Annotated[bool, typer.Option("--keyring", help="Save the passphrase in the OS keyring.")] = False,
    forget: Annotated[bool, typer.Option("--forget", help="Remove the passphrase from the OS keyring.")] = False,
) -> None:
    """Check a passphrase opens the store; with --keyring, save it so hearth needs no HEARTH_PASSPHRASE."""
    from hearth.errors import HearthError
    from hearth.store import encryption

    path = _store_file()
    if forget:
        encryption.forget_keyring(path)
        out.print("The passphrase is no longer in the OS keyring.")
        return
    if not encryption.is_encrypted(path):
        raise HearthError(f"{path} is not encrypted.")
    passphrase = _current_passphrase(path)
    if not encryption.opens(path, passphrase):
        raise encryption.locked_error(path, wrong=True)
    if keyring:
        encryption.save_to_keyring(path, passphrase)
        out.print("The passphrase opens the store and is saved in the OS keyring.")
    else:
        out.print("The passphrase opens the store.")


@db_app.command("copy")
def db_copy(
    source: Annotated[str, typer.Argument(help="The store to copy: a SQLite file or a postgresql:// URL.")],
    target: Annotated[str, typer.Argument(help="An empty store to copy into (a new file, or an empty database).")],
) -> None:
    """Move a whole store between SQLite and PostgreSQL, losslessly (checked byte for byte), with
    its accounts: each keeps its token, and its own store is copied and checked the same way.

    Example: hearth db copy ~/.local/share/hearth/hearth.db postgresql://hearth@db/hearth
    The source is left as it is. Vectors are recomputed in the new store (`hearth memory embed`)."""
    import tempfile

    from hearth.store import Store, maintenance, users

    with Store(source) as src, Store(target) as dst, tempfile.TemporaryDirectory(prefix="hearth-copy-") as work:
        with out.status(f"copying {source} → {target} …"):
            counts = maintenance.copy_store(src, dst, Path(work))
        out.print(Text(f"Copied into {target} and checked: ", style="bold green")
                  + Text(", ".join(f"{n:,} {t}" for t, n in counts.items() if n) or "an empty store"))  # fmt: skip
        if users.list_accounts(src):
            with out.status("copying the accounts' stores …"):
                accounts = users.copy_accounts(src, dst, Path(work))
            for name, theirs in accounts:
                out.print(f"  account {name} (same token) and their store: "
                          + (", ".join(f"{n:,} {t}" for t, n in theirs.items() if n) or "empty"))  # fmt: skip
