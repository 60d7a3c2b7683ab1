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
from collections.abc import Callable
from dataclasses import dataclass
from operator import add

_CJK = (
    "\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31a0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
_RUN = re.compile(f"[{_CJK}]+")
_RUN_SPLIT = re.compile(f"([{_CJK}]+)")
_WORD = re.compile(r"\w+")


class _Doubled(dict):
    """str.translate table that writes a character `c` as `c c`: a run's inner characters so
    doubled, between its first and last, are its bigrams ("abcd" → "a" + "b bc c" + "d"). Filled
    as characters first appear (real text uses a few thousand); kept to 20,000 characters."""

    def __missing__(self, code: int) -> str:
        c = chr(code)
        doubled = f"{c} {c}"
        if len(self) < 20_000:
            self[code] = doubled
        return doubled


_DOUBLED = _Doubled()


def _compatibility_forms() -> dict[str, str]:
    """Characters whose NFKC form can be put in their place before normalising a text, without
    changing what NFKC makes of the whole: full-width and half-width forms, the ideographic space
    and the ellipsis, each decomposing straight to characters of combining class 0 that need no
    further decomposing (NFKD = NFKC), so the text's full decomposition is the same either way."""
    out = {}
    for c in map(chr, [*range(0xFF01, 0xFFEF), 0x3000, 0x2026]):
        n = unicodedata.normalize("NFKC", c)
        if n != c and unicodedata.normalize("NFKD", c) == n and not any(unicodedata.combining(x) for x in n):
            out[c] = n
    return out


_FORMS = _compatibility_forms()
_FORM = re.compile("[" + "".join(map(re.escape, _FORMS)) + "]")


def _form(m: re.Match[str]) -> str:
    return _FORMS[m.group()]


def normalise(text: str) -> str:
    """Fold full-width forms and case so `Ｐｙｔｈｏｎ` finds `python`."""
    if not unicodedata.is_normalized("NFKC", text):
        # Nearly every Chinese sentence holds full-width punctuation (，！？：), and that is usually
        # all NFKC would change: swapping just those characters first is 3× cheaper than
        # normalising the whole text, and gives the same result (see _compatibility_forms).
        text = _FORM.sub(_form, text)
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
    pieces = _RUN_SPLIT.split(text)  # other text, run, other text, run, …, other text
    if len(pieces) == 1:
        return text, ""
    runs = pieces[1::2]
    # The same bigrams as `_bigrams` joined, built in C: one translate per run, no string per bigram.
    bigrams = " ".join([run[0] + run[1:-1].translate(_DOUBLED) + run[-1] for run in runs if len(run) > 1])
    return " ".join(pieces[::2]) + " " + bigrams, " ".join("".join(runs))


@dataclass(frozen=True)
class Syntax:
    """How one engine writes a search expression over hearth's tokens: SQLite FTS5's MATCH, or
    PostgreSQL's tsquery over one tsvector where `body` tokens weigh A and `uni` tokens B."""

    name: str
    or_: str
    and_: str
    not_: str

    def phrase(self, column: str, words: list[str], prefix: bool = False) -> str:
        if self.name == "fts5":
            return f'{column} : "{" ".join(words).replace(chr(34), chr(34) * 2)}"' + ("*" if prefix else "")
        weight = "A" if column == "body" else "B"
        lexemes = [f"'{w.replace(chr(92), chr(92) * 2).replace(chr(39), chr(39) * 2)}':{'*' if prefix else ''}{weight}"
                   for w in words]  # fmt: skip
        return lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")"


FTS5 = Syntax("fts5", " OR ", " AND ", " NOT ")
TSQUERY = Syntax("tsquery", " | ", " & ", " & !")


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


def match_any(
    query: str,
    count: Callable[[str, list[tuple[int, int]]], int] | None = None,
    total: int = 0,
    budget: int = 10_000,
    common: float = 0.2,
    drive: int = 3_000,
    syntax: Syntax = FTS5,
) -> str | list[str] | None:
    """A loose MATCH for retrieval: any word or any CJK bigram/character of the query, so bm25
    ranks by overlap ("你的猫叫什么名字" finds "猫叫小白" through 猫叫).

    Without `count`: one MATCH string (or None). With `count(match, [(first, last) rowids, …])` and
    `total` (the highest rowid): a list of MATCH strings to run in order until enough rows are
    found, all scored by bm25 over the same phrases so their scores compare. FTS5 scores every
    matching row and reads every phrase's whole row list for its idf, so common words cost time in
    proportion to the table (~0.25 s at a million memories). So each token's rows are counted
    (exactly up to 20,000 rows, else in four spread samples of 5,000 rowids), and when they add up
    to more than `budget`:
    - tokens in more than `common` of the rows are left out (bm25 gives them little weight);
    - the rarest tokens, up to `drive` rows, must match and the others only rank:
      `(rare) AND (others)`, then `(rare) NOT (others)`. The best row of the full query nearly
      always holds the rarest token (bench/RESULTS.md measures how often the first result changes);
      rows holding none of the rare tokens are not returned, so fewer than asked may come back.
    A query made only of words in more than `common` of a large table gets no plan (no signal).
    """
    tokens: list[str] = []
    for column, parts in query_terms(query):
        if column == "uni":
            tokens.append(syntax.phrase("uni", [parts[0]]))
        else:
            tokens += [syntax.phrase("body", [t]) for t in parts]
    tokens = list(dict.fromkeys(tokens))
    either = syntax.or_
    if count is None:
        return either.join(tokens) or None
    if total * len(tokens) <= budget:
        return [either.join(tokens)] if tokens else []
    window, step = 5_000, total / 4
    samples = [(lo, lo + window - 1) for lo in (int(step * (i + 0.5)) - window // 2 for i in range(4))]
    freq: dict[str, float] = {}
    for t in tokens:
        if total <= 4 * window:
            freq[t] = count(t, [(0, total)])
        else:
            freq[t] = count(t, samples) * total / (4 * window)
            if not freq[t]:
                freq[t] = count(t, [(0, total)])  # absent from the samples: rare, so counting it all is cheap
    live = [t for t in tokens if freq[t] > 0]
    if sum(freq[t] for t in live) <= budget:
        return [either.join(live)] if live else []
    kept = sorted((t for t in live if freq[t] <= common * total), key=freq.__getitem__)
    if not kept:
        return []  # only words most documents hold: no lexical signal worth a full scan
    rare: list[str] = []
    for t in kept:
        if rare and sum(freq[r] for r in rare) + freq[t] > drive:
            break
        rare.append(t)
    others = kept[len(rare) :]
    if not others or sum(freq[t] for t in kept) <= budget:
        return [either.join(kept)]
    must, ranked_only = f"({either.join(rare)})", f"({either.join(others)})"
    return [must + syntax.and_ + ranked_only, must + syntax.not_ + ranked_only]


def match_all(query: str, syntax: Syntax = FTS5) -> str | None:
    """A search expression needing every word and CJK run of the query, or None when the query has
    nothing searchable. A lone word also matches as a prefix, so "rock" finds "rocks"."""
    terms = query_terms(query)
    if not terms:
        return None
    phrases = [
        syntax.phrase(column, tokens, prefix=len(tokens) == 1 and not _RUN.match(tokens[0])) for column, tokens in terms
    ]
    return syntax.and_.join(phrases)


def message_columns(text: str, author: str | None) -> tuple[str, str]:
    """The index columns of a message: who said it, then what was said, so "what did Caroline say
    about her research" finds Caroline's own turns. The name is indexed, never added to the text."""
    body, uni = index_columns(text)
    if not author or not author.strip():
        return body, uni
    a_body, a_uni = index_columns(author)
    return f"{a_body} {body}", f"{a_uni} {uni}".strip()
