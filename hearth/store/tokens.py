"""Tokens for the lexical index, the same for SQLite FTS5 and PostgreSQL.

FTS5's `trigram` tokenizer never matches a query shorter than three characters, yet most Chinese
words are two (小白, 杭州). So hearth tokenises CJK text itself, the way Lucene's CJKAnalyzer does:
each run of CJK characters becomes its overlapping bigrams (in `body`, in order, so a phrase query
of bigrams finds an exact substring) and its single characters (in `uni`, for one-character
queries). Everything else passes through for the engine's own `unicode61` / `simple` word rules.
"""

from __future__ import annotations

import re
import unicodedata
from operator import add

_CJK = (
    "\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31a0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
_RUN = re.compile(f"[{_CJK}]+")
_WORD = re.compile(r"\w+")


def normalise(text: str) -> str:
    """Fold full-width forms and case so `Ｐｙｔｈｏｎ` finds `python`."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return list(map(add, run, run[1:]))


MAX_INDEXED_CHARS = 1_000_000
"""Only the first million characters of one message are indexed: a pasted 100 MB log stays
stored whole and searchable by its beginning, without one row costing minutes of indexing."""


def index_columns(text: str) -> tuple[str, str]:
    """Return the (`body`, `uni`) column values to index for `text`.

    `body` holds the non-CJK text followed by the bigrams of each CJK run in order; bigrams of
    two runs never join into a false phrase, because the bigram bridging them is never emitted.
    """
    text = text[:MAX_INDEXED_CHARS]
    if text.isascii():
        return text, ""
    text = normalise(text)
    runs = _RUN.findall(text)
    if not runs:
        return text, ""
    bigrams = " ".join([" ".join(map(add, run, run[1:])) for run in runs if len(run) > 1])
    return _RUN.sub(" ", text) + " " + bigrams, " ".join("".join(runs))


def query_terms(query: str) -> list[tuple[str, list[str]]]:
    """Split a search string into phrases, each as (column, tokens).

    Words and CJK runs separated by spaces are ANDed; a CJK run matches as an exact substring
    (a phrase of its bigrams), a lone CJK character through the unigram column.
    """
    query = normalise(query)
    terms: list[tuple[str, list[str]]] = []
    pos = 0
    for m in _RUN.finditer(query):
        for w in _WORD.findall(query[pos : m.start()]):
            terms.append(("body", [w]))
        run = m.group()
        terms.append(("uni", [run]) if len(run) == 1 else ("body", _bigrams(run)))
        pos = m.end()
    for w in _WORD.findall(query[pos:]):
        terms.append(("body", [w]))
    return terms


def fts5_any(query: str) -> str | None:
    """A loose MATCH for retrieval: any word or any CJK bigram/character of the query, so bm25
    ranks by overlap ("你的猫叫什么名字" finds "猫叫小白" through 猫叫)."""
    tokens: list[str] = []
    for column, parts in query_terms(query):
        if column == "uni":
            tokens.append(f'uni : "{parts[0]}"')
        else:
            tokens += [f'body : "{t.replace(chr(34), chr(34) * 2)}"' for t in parts]
    return " OR ".join(dict.fromkeys(tokens)) or None


def fts5_match(query: str) -> str | None:
    """Build an FTS5 MATCH expression, or None when the query has nothing searchable."""
    terms = query_terms(query)
    if not terms:
        return None
    phrases = []
    for column, tokens in terms:
        phrase = " ".join(tokens).replace('"', '""')
        # A lone word also matches as a prefix, so "rock" finds "rocks".
        star = "*" if len(tokens) == 1 and not _RUN.match(tokens[0]) else ""
        phrases.append(f'{column} : "{phrase}"{star}')
    return " AND ".join(phrases)
