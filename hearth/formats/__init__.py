"""Readers for foreign formats, one module each, and the planning that picks them.

A reader module exposes `NAME`, `sniff(bundle) -> bool`, `total_bytes(bundle) -> int` and
`read(bundle, progress, warn) -> Iterator[Item]`. Readers never touch the database.

`plan(path)` turns what a person handed us into (reader, bundle) pairs: a file or zip is one
bundle; a folder may hold a whole export (a folder with a `conversations.json`) next to loose
chats, cards and lorebooks, each read by its own reader, and files no reader knows are listed as
skipped rather than failing the rest.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import ModuleType

from hearth.errors import HearthError, UnsupportedInput
from hearth.formats.bundle import Bundle, Entry, open_bundle

_READER_MODULES = ["hearth_archive", "chatgpt", "claude", "sillytavern", "worldinfo", "charcard", "jsonl"]


def _load_readers() -> list[ModuleType]:
    readers = []
    for name in _READER_MODULES:
        try:
            readers.append(importlib.import_module(f"hearth.formats.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"hearth.formats.{name}":
                raise
    return readers


READERS: list[ModuleType] = _load_readers()
"""In order of precedence: whole-export readers first, the loosest sniffers last."""

EXPORT_ANCHORS = ("conversations.json", "manifest.json")
"""A folder holding one of these is a provider export, read as a whole."""


_EXPLAINERS = {".png": "charcard", ".charx": "charcard"}
"""A file whose extension says what it should be gets that reader's own, more precise error."""


def _explain(bundle: Bundle) -> None:
    name = _EXPLAINERS.get(bundle.path.suffix.lower()) if bundle.kind != "dir" else None
    reader = next((r for r in READERS if r.NAME == name), None)
    if reader is not None:
        for _ in reader.read(bundle):
            break


def detect(bundle: Bundle) -> ModuleType:
    """The reader for a bundle, or a clear error saying what hearth expected."""
    for reader in READERS:
        if reader.sniff(bundle):
            return reader
    _explain(bundle)
    what = {"zip": "zip file", "dir": "folder", "file": "file"}[bundle.kind]
    raise UnsupportedInput(
        f"{bundle.path} is not a chat export or character card hearth can read (unrecognised {what}).",
        hint="hearth reads ChatGPT and Claude exports (zip, folder or conversations.json), SillyTavern chats "
        "(.jsonl) and world info, character cards (PNG, JSON, CHARX) and OpenAI-style JSONL chat logs.",
    )


@dataclass
class Planned:
    reader: ModuleType
    bundle: Bundle
    label: str


@dataclass
class Skipped:
    label: str
    reason: str


def _is_export_anchor(name: str) -> bool:
    base = PurePosixPath(name).name.lower()
    return base in EXPORT_ANCHORS or (base.startswith("conversations-") and base.endswith(".json"))


def _sub_bundle(root: Path, prefix: str, entries: list[Entry]) -> Bundle:
    cut = len(prefix) + 1 if prefix else 0
    return Bundle(
        root / prefix if prefix else root,
        "dir",
        [Entry(name=e.name[cut:], size=e.size, _open=e._open) for e in entries],
    )


def _plan_folder(folder: Bundle) -> tuple[list[Planned], list[Skipped]]:
    planned: list[Planned] = []
    skipped: list[Skipped] = []
    export_dirs = sorted(
        {str(PurePosixPath(e.name).parent) for e in folder.entries if _is_export_anchor(e.name)},
        key=lambda d: (d.count("/"), d),
    )
    claimed: set[str] = set()
    for d in export_dirs:
        prefix = "" if d == "." else d
        if any(prefix == c or prefix.startswith(c + "/") or c == "" for c in claimed):
            continue
        inside = [e for e in folder.entries if not prefix or e.name.startswith(prefix + "/")]
        sub = _sub_bundle(folder.path, prefix, inside)
        reader = next((r for r in READERS if r.sniff(sub)), None)
        if reader is not None:
            claimed.add(prefix)
            planned.append(Planned(reader, sub, prefix or folder.path.name))
    for e in folder.entries:
        if any(c == "" or e.name.startswith(c + "/") for c in claimed):
            continue
        if PurePosixPath(e.name).name.startswith("."):
            continue
        try:
            single = open_bundle(folder.path / e.name)
            reader = detect(single)
        except HearthError as exc:
            skipped.append(Skipped(e.name, exc.message))
            continue
        planned.append(Planned(reader, single, e.name))
    return planned, skipped


def plan(path: Path) -> tuple[list[Planned], list[Skipped]]:
    """What to read in `path`, and with which reader."""
    bundle = open_bundle(Path(path))
    if bundle.kind != "dir":
        try:
            return [Planned(detect(bundle), bundle, Path(path).name)], []
        except HearthError:
            bundle.close()
            raise
    planned, skipped = _plan_folder(bundle)
    if not planned:
        raise UnsupportedInput(
            f"{bundle.path} holds no chat export, chat log or character card hearth can read "
            f"({len(bundle.entries)} files looked at).",
            hint="Point hearth at the export zip or the folder you unzipped it into.",
        )
    return planned, skipped


__all__ = ["READERS", "Bundle", "Planned", "Skipped", "detect", "open_bundle", "plan"]
