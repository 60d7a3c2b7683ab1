"""Token estimates for budgets, without any tokenizer download.

A backend's own tokenizer is used where it has one (chat backends report usage); for retrieval
budgets hearth estimates: each CJK character ≈ 1 token (BPE vocabularies split most Han
characters to one or two tokens), every other 4 characters ≈ 1 token (the usual English ratio).
"""

from __future__ import annotations

import re

from hearth.store.tokens import _CJK

_CJK_CHAR = re.compile(f"[{_CJK}]")


def estimate_tokens(text: str) -> int:
    if not text:
        return 0
    cjk = len(_CJK_CHAR.findall(text))
    return max(1, cjk + (len(text) - cjk + 3) // 4)
