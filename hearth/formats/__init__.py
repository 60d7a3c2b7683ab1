"""Readers for foreign formats, one module each, and `detect()` to pick the right one.

A reader module exposes `NAME`, `sniff(bundle) -> bool`, `total_bytes(bundle) -> int` and
`read(bundle, progress, warn) -> Iterator[Item]`. Readers never touch the database.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from hearth.errors import UnsupportedInput
from hearth.formats import chatgpt
from hearth.formats.bundle import Bundle, open_bundle

READERS: list[ModuleType] = [chatgpt]


def detect(bundle: Bundle) -> ModuleType:
    """The reader for a bundle, or a clear error saying what hearth expected."""
    for reader in READERS:
        if reader.sniff(bundle):
            return reader
    what = {"zip": "zip file", "dir": "folder", "file": "file"}[bundle.kind]
    raise UnsupportedInput(
        f"{bundle.path} is not a chat export hearth can read (this {what} has no ChatGPT conversations).",
        hint="Import the ChatGPT export zip itself, or the conversations.json inside it.",
    )


__all__ = ["READERS", "Bundle", "detect", "open_bundle", "Path"]
