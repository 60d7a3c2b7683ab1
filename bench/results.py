"""bench/RESULTS.md: each benchmark owns one `## ` section and replaces it in place on every run."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(heading: str, lines: list[str], path: Path = RESULTS) -> None:
    """Replace the section that starts with `heading` (or append it), leaving every other section alone.
    The file is re-read right before writing, since another benchmark may have written meanwhile."""
    section = "\n".join(lines).rstrip("\n") + "\n"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start = text.find(heading)
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + ("\n" + text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
