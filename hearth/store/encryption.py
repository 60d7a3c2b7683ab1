"""Encryption at rest for the single-user SQLite store, with SQLCipher (the driver hearth already
uses for every SQLite connection).

The passphrase never lives in the database or the config file: it comes from `HEARTH_PASSPHRASE`,
else from the OS keyring (service `hearth`, the database's full path as the user name), else the
person is asked. An encrypted file is recognised by its first bytes (a plain SQLite file begins with
"SQLite format 3"), so opening one without a passphrase gives one clear sentence, not "file is not
a database". Encrypting and decrypting write a verified copy first and only then replace the
original, so a failure at any point leaves the store as it was.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlcipher3 import dbapi2 as sqlite_driver

from hearth.errors import HearthError, StoreError

ENV = "HEARTH_PASSPHRASE"
KEYRING_SERVICE = "hearth"
SQLITE_MAGIC = b"SQLite format 3\x00"
MIN_PASSPHRASE = 8
TABLES_TO_COUNT = ("conversations", "messages", "memories", "feedback", "companions")


def is_encrypted(path: Path) -> bool:
    """True for a file that looks like SQLCipher's: not plain SQLite, and whole pages long (SQLCipher
    writes pages of a power of two ≥ 512 bytes), so a stray text file is not mistaken for one."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
            size = os.fstat(f.fileno()).st_size
    except OSError:  # missing, a folder, a path through a file: not an encrypted store
        return False
    return len(head) == 16 and head != SQLITE_MAGIC and size >= 1024 and size % 512 == 0


def quote(passphrase: str) -> str:
    """The passphrase as an SQL string literal (PRAGMA key takes no bound parameters)."""
    return "'" + passphrase.replace("'", "''") + "'"


def _keyring():
    try:
        import keyring
    except ImportError:
        return None
    return keyring


def keyring_passphrase(path: Path) -> str | None:
    kr = _keyring()
    if kr is None:
        return None
    try:
        return kr.get_password(KEYRING_SERVICE, str(Path(path).resolve()))
    except Exception:  # no usable keyring backend on this machine: the environment variable still works
        return None


def save_to_keyring(path: Path, passphrase: str) -> None:
    kr = _keyring()
    if kr is None:
        raise HearthError("The OS keyring is not available.", hint=f"pip install 'hearth[keyring]', or use {ENV}.")
    try:
        kr.set_password(KEYRING_SERVICE, str(Path(path).resolve()), passphrase)
    except Exception as exc:
        raise HearthError(f"The OS keyring refused the passphrase: {exc}.", hint=f"Set {ENV} instead.") from exc


def forget_keyring(path: Path) -> None:
    kr = _keyring()
    if kr is None:
        return
    try:
        kr.delete_password(KEYRING_SERVICE, str(Path(path).resolve()))
    except Exception:  # nothing saved there, or no backend: nothing to forget
        return


def passphrase_for(path: Path) -> str | None:
    """The passphrase for this store: the environment first, then the OS keyring."""
    return os.environ.get(ENV) or keyring_passphrase(path)


def passphrase_or(path: Path | None, fallback: str | None) -> str | None:
    """What to open a store file with when `fallback` may do: an encrypted file's own passphrase
    (environment, keyring) first, else `fallback` (an account's store is encrypted with the main
    store's). A plain or missing file gets `fallback` untouched, and no keyring lookup."""
    if path is None or not is_encrypted(path):
        return fallback
    return passphrase_for(path) or fallback


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise HearthError(
            f"The passphrase is too short ({len(passphrase)} characters).",
            hint=f"Use at least {MIN_PASSPHRASE}; a few unrelated words are easy to remember.",
        )


def locked_error(path: Path, wrong: bool) -> StoreError:
    if wrong:
        return StoreError(f"The passphrase does not open the encrypted hearth database at {path}.",
                          hint=f"Check {ENV} (or the passphrase saved in the OS keyring); if the file is not a "
                               "hearth database, pass another location with --db or HEARTH_DB.")  # fmt: skip
    return StoreError(
        f"The hearth database at {path} is encrypted.",
        hint=f"Set {ENV} to its passphrase, or save it in the OS keyring with `hearth db unlock --keyring`.",
    )


def connect(path: Path, passphrase: str | None) -> sqlite_driver.Connection:
    """A raw driver connection, keyed when a passphrase is given, that logs nothing to stderr."""
    conn = sqlite_driver.connect(str(path))
    conn.isolation_level = None
    conn.execute("PRAGMA cipher_log_level = NONE")
    if passphrase:
        conn.execute(f"PRAGMA key = {quote(passphrase)}")
    return conn


def _counts(conn: sqlite_driver.Connection) -> dict[str, int]:
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES_TO_COUNT if t in present}


def opens(path: Path, passphrase: str | None) -> bool:
    try:
        conn = connect(path, passphrase)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return True
        finally:
            conn.close()
    except sqlite_driver.DatabaseError:
        return False


def rekey_copy(path: Path, old: str | None, new: str | None) -> dict[str, int]:
    """Write the store re-encrypted with `new` ('' or None: plain) beside it, check it (integrity and
    the same row counts), then put it in place of the original. Returns the row counts."""
    import sqlite_vec

    path = Path(path)
    tmp = path.with_name(path.name + ".rekey")
    tmp.unlink(missing_ok=True)
    conn = connect(path, old)
    try:
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            before = _counts(conn)
        except sqlite_driver.DatabaseError:
            raise locked_error(path, wrong=bool(old)) from None
        conn.enable_load_extension(True)  # the vector tables' module must be known to copy their schema
        sqlite_vec.load(conn)
        conn.execute(f"ATTACH DATABASE ? AS rekeyed KEY {quote(new or '')}", (str(tmp),))
        conn.execute("SELECT sqlcipher_export('rekeyed')")
        conn.execute("DETACH DATABASE rekeyed")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        conn.close()
    check = connect(tmp, new)
    try:
        verdict = check.execute("PRAGMA integrity_check").fetchone()[0]
        after = _counts(check)
    except sqlite_driver.DatabaseError as exc:
        verdict, after = str(exc), {}
    finally:
        check.close()
    if verdict != "ok" or after != before:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"The re-encrypted copy did not check out ({verdict}); {path} is unchanged.")
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    tmp.replace(path)
    return before
