"""Recognises a hearth archive (`hearth export --format hearth`) so `hearth import` takes it back.

The archive is the store's own dump format, so reading and writing it lives in
`hearth.store.archive`; this module only tells the planner that a zip is one.
"""

from __future__ import annotations

from hearth.formats.bundle import Bundle

NAME = "hearth"
FORMAT = "hearth-archive"


def sniff(bundle: Bundle) -> bool:
    entry = next((e for e in bundle.entries if e.name == "manifest.json"), None)
    return entry is not None and f'"{FORMAT}"'.encode() in entry.head(4096)


def total_bytes(bundle: Bundle) -> int:
    return sum(e.size for e in bundle.entries)
