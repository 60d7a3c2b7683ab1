"""Property-based fuzzing of every reader, through the real import pipeline and a real store.

Each reader gets generated inputs (structurally plausible files of its format with random types,
random unicode, lone surrogates, NUL, cycles, dangling links and duplicate ids) and mutated inputs
(the real fixtures truncated, with bytes flipped, inserted or deleted, a JSON value swapped for one
of another type, or the whole file re-encoded). Every input goes through `import_many` into a fresh
store, and the properties are the ones a person relies on:

* nothing escapes `import_many` (a `HearthError` becomes a failed summary, anything else is a bug);
* every summary is done / already imported / failed / skipped, and a failed one names the file;
* the store is consistent afterwards, and nothing imported before is lost;
* the reader's own `read()`, called directly, raises nothing but a `HearthError`.

The default run is quick and deterministic: `HEARTH_FUZZ_EXAMPLES` (default 150) inputs per test,
300 per reader. `HEARTH_FUZZ_EXAMPLES=5000` makes a long run (in rounds of `HEARTH_FUZZ_ROUND`),
`HEARTH_FUZZ_SEED=n` another set of inputs. `HEARTH_FUZZ_LAST_INPUT=file` pickles each input before
it runs, to replay one that killed the interpreter.
`HEARTH_FUZZ_REPORT=file` appends one JSON line per test: inputs run and import statuses.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import pickle
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from hearth.errors import CorruptInput, HearthError, UnsupportedInput
from hearth.formats import charcard, chatgpt, claude, jsonl, png, sillytavern, worldinfo
from hearth.formats.bundle import open_bundle
from hearth.ingest import import_many
from hearth.store import Store

FIXTURES = Path(__file__).resolve().parents[2] / "shared/fixtures"
EXAMPLES = int(os.environ.get("HEARTH_FUZZ_EXAMPLES", "150"))
SEED = os.environ.get("HEARTH_FUZZ_SEED")
HANG_SECONDS = float(os.environ.get("HEARTH_FUZZ_HANG_SECONDS", "30"))
"""One input taking longer than this to import is reported as a hang."""
LAST_INPUT = os.environ.get("HEARTH_FUZZ_LAST_INPUT")
"""A file to pickle each input to before it runs, to replay one that crashed the interpreter."""
REPORT = os.environ.get("HEARTH_FUZZ_REPORT")
"""A file to append one JSON line per fuzz test to: inputs run, import statuses, known-bug skips."""
TALLY: Counter[str] = Counter()

settings.register_profile(
    "hearth-fuzz",
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=SEED is None,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)
FUZZ = settings.get_profile("hearth-fuzz")


ROUND = int(os.environ.get("HEARTH_FUZZ_ROUND", "500"))
"""Examples per hypothesis run. Hypothesis holds every value it generated until its run ends (about
2 MB an input here), so a long fuzz is split into rounds of this many, each with its own seed."""


def fuzz_run(strategy: st.SearchStrategy, body: Callable[[Any], None], *, share: float = 1.0) -> None:
    """Run `body` on `EXAMPLES * share` inputs drawn from `strategy` (`share` splits a reader's
    budget between its tests). The first round is derandomized unless HEARTH_FUZZ_SEED is set; later
    rounds get fixed seeds of their own, so a long run is as repeatable as the default one."""
    total = max(1, int(EXAMPLES * share))
    TALLY.clear()
    for number, start in enumerate(range(0, total, ROUND)):
        test = given(strategy)(body)
        test = settings(FUZZ, max_examples=min(ROUND, total - start), derandomize=SEED is None and number == 0)(test)
        if SEED is not None or number:
            test = hypothesis_seed(int(SEED or 0) * 1_000_003 + number)(test)
        test()
    if REPORT:
        name = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
        with open(REPORT, "a") as out:
            out.write(json.dumps({"test": name, "examples asked": total, **dict(sorted(TALLY.items()))}) + "\n")


def fixture(*parts: str) -> Path:
    path = FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"fixture {path} is not available")
    return path


def fixtures_under(folder: str, pattern: str) -> list[Path]:
    return sorted((FIXTURES / folder).rglob(pattern)) if (FIXTURES / folder).exists() else []


# ==================================================================== writing hostile JSON


class Pairs(list):
    """A JSON object written from (key, value) pairs, so one key may appear twice."""


class Raw(str):
    """Text written into the JSON as it is (deep nesting, NaN, a torn token)."""


class Blob(bytes):
    """Bytes that print short: hypothesis shows a strategy's arguments, and a fixture is megabytes."""

    def __repr__(self) -> str:
        return f"<{len(self):,} bytes>"


def dump(value: Any, ascii_only: bool = True) -> str:
    """JSON text that may hold what a strict writer refuses: duplicate keys, lone surrogates,
    huge integers, raw fragments. With `ascii_only` a lone surrogate becomes a `\\ud800` escape;
    without it the surrogate stays in the text (and in the bytes, via `surrogatepass`)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, Pairs):
        return "{" + ",".join(f"{dump(str(k), ascii_only)}:{dump(v, ascii_only)}" for k, v in value) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{dump(str(k), ascii_only)}:{dump(v, ascii_only)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dump(v, ascii_only) for v in value) + "]"
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__repr__(value) if abs(value) < 10**4000 else "1" * 4400
    return json.dumps(value, ensure_ascii=ascii_only)


ENCODINGS = ["utf-8"] * 12 + ["utf-8-sig", "utf-16", "utf-16-be", "utf-32", "latin-1", "gb18030", "cp1252"]


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-8":
        return text.encode("utf-8", "surrogatepass")  # a raw lone surrogate is invalid UTF-8: hostile too
    return text.encode(encoding, "replace")


# ==================================================================== value strategies

SPECIAL = (
    "你好小白杭州猫咪長宋😀👩\u200d💻é²٣\U0010ffff"
    '\x00\x01\t\n\r"\\/\u2028\u2029\ufeff\ufffd\u200b'
    "\ud800\udbff\udc00\udfff"
)
chars = st.one_of(st.characters(max_codepoint=0x7F), st.sampled_from(SPECIAL), st.characters())
LONG = st.sampled_from([("1", 5000), ("x", 70_000), ("长", 20_000)]).map(lambda t: t[0] * t[1])
"""Long strings, built lazily so a failing example does not print them in the strategy."""


@st.composite
def rarely(draw, common: st.SearchStrategy, rare: st.SearchStrategy, one_in: int = 60) -> Any:
    """Mostly `common`; one time in `one_in` the rare, file-breaking value (shrinks to common)."""
    return draw(rare) if draw(st.integers(0, one_in - 1)) == one_in - 1 else draw(common)


texts = rarely(
    st.one_of(
        st.text(chars, max_size=20),
        st.text(chars, max_size=20),
        st.sampled_from(
            [
                "",
                " ",
                "null",
                "0",
                "-1",
                "1e999",
                "NaN",
                "²",
                "٣",
                "2024-05-10T12:00:00Z",
                "0001-01-01",
                "9999-12-31T23:59:59-14:00",
                "May 10, 2025 12:51am",
                "2025-05-10@00h52m16s",
                "../../etc/passwd",
                "file-service://file-abc123",
                "embeded://assets/icon/main.png",
                "\ud83d",
                "半个\udc00表情",
            ]
        ),
    ),
    LONG,
    one_in=25,
)
SIZES = st.one_of(st.integers(-1, 2**40), st.sampled_from([2**63 - 1, 2**63, 2**64 - 1]), st.none(), texts)
big_ints = st.one_of(st.sampled_from([2**63, 2**64 + 1, -(2**70), 10**30]), st.just(4400).map(lambda n: Raw("9" * n)))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
    texts,
)
HOSTILE = {
    "NaN": "NaN",
    "Infinity": "Infinity",
    "1e400": "1e400",
    "600 levels deep": "[" * 600 + "]" * 600,
    "5000 levels deep": "[" * 5000 + "]" * 5000,
    "3000 objects deep": '{"a":' * 3000 + "1" + "}" * 3000,
}
hostile_literals = st.sampled_from(sorted(HOSTILE)).map(lambda name: Raw(HOSTILE[name]))
json_values = st.recursive(
    rarely(scalars, st.one_of(big_ints, hostile_literals)),
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(texts, kids, max_size=4)),
    max_leaves=10,
)


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly the plausible value, sometimes anything at all."""
    return st.one_of(strategy, strategy, strategy, json_values)


def obj(required: dict | None = None, **optional: st.SearchStrategy) -> st.SearchStrategy:
    """A JSON object with these keys (the optional ones may be missing), sometimes an extra key."""
    base = st.fixed_dictionaries(required or {}, optional=optional)
    return st.one_of(base, base, st.tuples(base, texts, json_values).map(lambda t: {**t[0], t[1]: t[2]}))


stamps = st.one_of(
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(1e9, 2e9),
    st.sampled_from(
        [
            "2023-04-01T10:00:00.123456Z",
            "2026-03-21T19:10:14.910018Z",
            "2025-05-10",
            "0001-01-01",
            "0000-00-00",
            "9999-12-31T23:59:59",
            "1715300000",
            "1715300000000",
            "May 10, 2025 12:51am",
            "Fob 31, 2025 13:99pm",
            "2025-05-10@00h52m16s",
            "2025-13-40@99h99m99s999ms",
        ]
    ),
    LONG,
    texts,
)


@dataclass
class Sample:
    """An input as a person would hand it over: one file, a zip, or a folder."""

    kind: str
    name: str
    members: list[tuple[str, bytes]]
    symlinks: list[tuple[str, str]] = field(default_factory=list)
    zip_symlinks: list[tuple[str, str]] = field(default_factory=list)

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        shown = [(n, d[:400] + (b"..." if len(d) > 400 else b"")) for n, d in self.members]
        return f"Sample({self.kind!r}, {self.name!r}, {shown!r}, symlinks={self.symlinks!r})"


def write_zip(path: Path, members: list[tuple[str, bytes]], links: list[tuple[str, str]] = ()) -> None:
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # duplicate member names are part of the test
        for name, data in members:
            zf.writestr(name, data)
        for name, target in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)


def materialise(sample: Sample, where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    if sample.kind == "file":
        path = where / sample.name
        path.write_bytes(sample.members[0][1])
        return path
    if sample.kind == "zip":
        path = where / sample.name
        write_zip(path, sample.members, sample.zip_symlinks)
        return path
    root = where / sample.name
    root.mkdir()
    outside = where / "outside"
    outside.mkdir(exist_ok=True)
    for name, data in sample.members:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for name, to in sample.symlinks:
        link = root / name
        link.parent.mkdir(parents=True, exist_ok=True)
        if to == "outside":
            (outside / "conversations.json").write_bytes(b'[{"id": "leak", "mapping": {}}]')
            link.symlink_to(outside / "conversations.json")
        elif to == "loop":
            link.symlink_to(root, target_is_directory=True)
        else:
            link.symlink_to(where / "does-not-exist")
    if sample.kind == "file-in-dir":
        return root / sample.members[0][0]
    return root


SAFE_NAME = st.sampled_from(["a", "宋", "Seraphina", "😀", "name with spaces", "-dash", "x" * 100])


@st.composite
def containers(draw, main: list[tuple[str, bytes]], extras: list[tuple[str, bytes]], zip_name: str) -> Sample:
    """Put the files in a plain file (when there is one), a zip or a folder, with hostile extras."""
    kinds = ["zip", "dir"] + (["file", "file", "file"] if len(main) == 1 and not extras else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "file":
        return Sample("file", main[0][0].rsplit("/", 1)[-1], main)
    members = list(main) + list(extras)
    if kind == "zip":
        hostile = draw(
            st.lists(
                st.sampled_from(
                    [
                        ("../../evil.txt", b"owned"),
                        ("/abs/file-abc123-x.png", b"\x89PNG"),
                        ("dir\\..\\..\\win.txt", b"x"),
                        (main[0][0], b"[duplicate member name]"),
                        ("__MACOSX/._conversations.json", b"\x00\x05\x16\x07"),
                    ]
                ),
                max_size=2,
            )
        )
        links = draw(st.lists(st.sampled_from([("link.json", "/etc/passwd"), ("l2", "../../x")]), max_size=1))
        return Sample("zip", zip_name, members + hostile, zip_symlinks=links)
    links = draw(
        st.lists(st.sampled_from([("linked.json", "outside"), ("loop", "loop"), ("gone.json", "gone")]), max_size=2)
    )
    return Sample("dir", "export", members, symlinks=list(dict(links).items()))


# ==================================================================== per-format generators

# ---------------------------------------------------------------- ChatGPT

CG_IDS = st.sampled_from(["a", "b", "c", "d", "client-created-root", "你好", ""])
cg_id = st.one_of(CG_IDS, CG_IDS, CG_IDS, json_values)
CG_TYPES = [
    "text",
    "multimodal_text",
    "code",
    "execution_output",
    "system_error",
    "tether_browsing_display",
    "tether_quote",
    "thoughts",
    "reasoning_recap",
    "user_editable_context",
    "model_editable_context",
    "future_type",
]
cg_part = st.one_of(
    texts,
    texts,
    obj(
        {"content_type": st.just("image_asset_pointer")},
        asset_pointer=maybe(st.sampled_from(["file-service://file-abc123", "sediment://file_00", ""])),
        width=json_values,
        height=json_values,
    ),
    obj(content_type=maybe(texts), text=maybe(texts)),
    json_values,
)
cg_content = obj(
    content_type=maybe(st.sampled_from(CG_TYPES)),
    parts=maybe(st.lists(cg_part, max_size=4)),
    text=maybe(texts),
    result=maybe(texts),
    summary=maybe(texts),
    name=maybe(texts),
    title=maybe(texts),
    url=maybe(texts),
    language=maybe(texts),
    thoughts=maybe(st.lists(maybe(obj(summary=maybe(texts), content=maybe(texts))), max_size=3)),
    content=maybe(texts),
    user_profile=maybe(texts),
    user_instructions=maybe(texts),
    model_set_context=maybe(texts),
)
cg_meta = obj(
    model_slug=maybe(st.sampled_from(["gpt-4o", "gpt-4", "gpt-5-5", "auto", ""])),
    requested_model_slug=maybe(st.sampled_from(["gpt-4o", "gpt-4o-mini"])),
    default_model_slug=maybe(st.sampled_from(["gpt-4o", "auto"])),
    parent_id=cg_id,
    is_visually_hidden_from_conversation=json_values,
    attachments=maybe(
        st.lists(maybe(obj(id=maybe(texts), name=maybe(texts), mime_type=maybe(texts), size=SIZES)), max_size=3)
    ),
)
cg_message = obj(
    id=cg_id,
    author=maybe(obj(role=maybe(st.sampled_from(["user", "assistant", "system", "tool", ""])), name=maybe(texts))),
    content=maybe(cg_content),
    metadata=maybe(cg_meta),
    create_time=stamps,
    status=maybe(texts),
    recipient=maybe(texts),
    end_turn=json_values,
)
cg_node = obj(
    id=cg_id,
    message=st.one_of(st.none(), cg_message, cg_message, json_values),
    parent=st.one_of(cg_id, st.none()),
    children=maybe(st.lists(cg_id, max_size=4)),
)
cg_mapping = st.one_of(
    st.lists(st.tuples(CG_IDS, cg_node), max_size=7).map(Pairs),  # duplicate node ids
    st.dictionaries(st.one_of(CG_IDS, texts), cg_node, max_size=7),
)
CONV_IDS = st.sampled_from(["conv-1", "conv-2", "会话", ""])
cg_conversation = obj(
    {"mapping": maybe(cg_mapping)},
    title=maybe(texts),
    create_time=stamps,
    update_time=stamps,
    current_node=cg_id,
    conversation_id=maybe(CONV_IDS),
    id=maybe(CONV_IDS),
    default_model_slug=maybe(st.sampled_from(["gpt-4o", "auto"])),
)
cg_file = st.one_of(st.lists(maybe(cg_conversation), max_size=4), cg_conversation, cg_conversation)
cg_feedback = st.lists(
    maybe(
        obj(
            id=maybe(texts),
            conversation_id=maybe(CONV_IDS),
            message_id=cg_id,
            rating=maybe(st.sampled_from(["thumbsUp", "thumbsDown", "up", 1, -1, 0, 0.5])),
            content=maybe(st.one_of(texts, obj(text=maybe(texts), tags=maybe(st.lists(texts, max_size=3))))),
            create_time=stamps,
        )
    ),
    max_size=3,
)


@st.composite
def json_file(draw, strategy: st.SearchStrategy) -> str:
    return dump(draw(strategy), ascii_only=draw(st.booleans()) or draw(st.booleans()))


@st.composite
def encoded(draw, strategy: st.SearchStrategy) -> bytes:
    return encode(draw(json_file(strategy)), draw(st.sampled_from(ENCODINGS)))


@st.composite
def chatgpt_samples(draw) -> Sample:
    name = draw(st.sampled_from(["conversations.json", "conversations.json", "conversations-001.json"]))
    main = [(name, draw(encoded(cg_file)))]
    extras: list[tuple[str, bytes]] = []
    if draw(st.booleans()):
        extras += [("message_feedback.json", draw(encoded(maybe(cg_feedback))))]
    if draw(st.booleans()):
        extras += [("user.json", draw(encoded(maybe(obj(id=maybe(texts), email=maybe(texts))))))]
    if draw(st.booleans()):
        names = maybe(st.dictionaries(st.sampled_from(["file-abc123.dat", "x"]), texts, max_size=2))
        extras += [("conversation_asset_file_names.json", draw(encoded(names)))]
    if draw(st.booleans()):
        extras += [("file-abc123-photo.png", draw(st.binary(max_size=64))), ("chat.html", b"<html>")]
    if draw(st.booleans()):  # a second conversations file of the split layout
        extras += [("conversations-002.json", draw(encoded(cg_file)))]
    return draw(containers(main, extras, "chatgpt-export.zip"))


# ---------------------------------------------------------------- Claude

CL_IDS = st.sampled_from(["m1", "m2", "m3", claude.ROOT_SENTINEL, ""])
cl_id = st.one_of(CL_IDS, CL_IDS, CL_IDS, json_values)
cl_block = st.one_of(
    obj(
        {"type": maybe(st.sampled_from(["text", "thinking", "tool_use", "tool_result", "token_budget", "image", "x"]))},
        text=maybe(texts),
        thinking=maybe(texts),
        summaries=maybe(st.lists(maybe(obj(summary=maybe(texts))), max_size=2)),
        cut_off=json_values,
        citations=json_values,
        name=maybe(texts),
        input=json_values,
        id=maybe(texts),
        content=maybe(st.one_of(texts, st.lists(maybe(obj(type=maybe(texts), text=maybe(texts))), max_size=2))),
        tool_use_id=maybe(texts),
        is_error=json_values,
    ),
    json_values,
)
cl_message = obj(
    uuid=cl_id,
    sender=maybe(st.sampled_from(["human", "assistant", "system"])),
    text=maybe(texts),
    content=maybe(st.lists(cl_block, max_size=4)),
    created_at=stamps,
    updated_at=stamps,
    parent_message_uuid=cl_id,
    files=maybe(st.lists(maybe(obj(file_name=maybe(texts), file_uuid=maybe(texts))), max_size=2)),
    attachments=maybe(
        st.lists(
            maybe(
                obj(
                    file_name=maybe(texts),
                    file_type=maybe(st.sampled_from(["text/plain", "txt", ""])),
                    file_size=SIZES,
                    extracted_content=maybe(texts),
                )
            ),
            max_size=2,
        )
    ),
    model=maybe(texts),
)
cl_conversation = obj(
    {"uuid": maybe(CONV_IDS), "chat_messages": maybe(st.lists(maybe(cl_message), max_size=6))},
    name=maybe(texts),
    created_at=stamps,
    updated_at=stamps,
    model=maybe(st.sampled_from(["claude-sonnet-4", ""])),
)
cl_file = st.one_of(st.lists(maybe(cl_conversation), max_size=4), cl_conversation)
cl_projects = st.lists(
    maybe(
        obj(
            uuid=maybe(texts),
            name=maybe(texts),
            prompt_template=maybe(texts),
            created_at=stamps,
            docs=maybe(
                st.lists(maybe(obj(uuid=maybe(texts), filename=maybe(texts), content=maybe(texts))), max_size=2)
            ),
        )
    ),
    max_size=3,
)


@st.composite
def claude_samples(draw) -> Sample:
    main = [("conversations.json", draw(encoded(cl_file)))]
    extras: list[tuple[str, bytes]] = []
    if draw(st.booleans()):
        extras += [("projects.json", draw(encoded(maybe(cl_projects))))]
    if draw(st.booleans()):
        extras += [("users.json", draw(encoded(maybe(st.one_of(obj(uuid=maybe(texts)), st.lists(json_values))))))]
    if draw(st.booleans()):
        extras += [("memories.json", draw(encoded(json_values)))]
    return draw(containers(main, extras, "claude-export.zip"))


# ---------------------------------------------------------------- SillyTavern chats

st_dates = st.one_of(
    stamps,
    st.sampled_from(
        ["May 10, 2025 12:51am", "2025-05-10@00h52m16s", "2025-5-10 @00h 51m 34s 609ms", "Dec 31, 0 1:00pm"]
    ),
)
st_extra = obj(
    api=maybe(st.sampled_from(["openai", "manual", "custom"])),
    model=maybe(texts),
    reasoning=maybe(texts),
    type=maybe(st.sampled_from(sorted(sillytavern._SYSTEM_TYPES) + ["other"])),
    image=maybe(st.sampled_from(["user/images/x.png", "data:image/png;base64,AAA", ""])),
    files=maybe(st.lists(maybe(obj(url=maybe(texts), name=maybe(texts), size=SIZES)), max_size=2)),
    file=maybe(obj(url=maybe(texts), name=maybe(texts))),
    memory=maybe(texts),
)
st_message = obj(
    {"name": maybe(texts), "mes": maybe(st.one_of(texts, obj({"message": maybe(texts)})))},
    is_user=maybe(st.booleans()),
    is_system=maybe(st.booleans()),
    send_date=st_dates,
    gen_started=st_dates,
    gen_finished=st_dates,
    extra=maybe(st_extra),
    swipes=maybe(st.lists(maybe(st.one_of(texts, obj({"message": maybe(texts)}))), max_size=4)),
    swipe_id=maybe(st.integers(-2, 5)),
    swipe_info=maybe(
        st.lists(
            maybe(obj(send_date=st_dates, gen_started=st_dates, gen_finished=st_dates, extra=maybe(st_extra))),
            max_size=4,
        )
    ),
    force_avatar=maybe(st.sampled_from(["img/five.png", "User Avatars/x.png"])),
    is_group=json_values,
)
st_header = obj(
    {"user_name": maybe(st.sampled_from(["User", "unused", ""])), "character_name": maybe(texts)},
    create_date=st_dates,
    chat_metadata=json_values,
)
st_garbage_line = st.one_of(
    st.sampled_from(['{"mes": "torn', "[1, 2]", "null", '"text"', "\x00\x00", "{}"]),
    st.just(3000).map(lambda n: '{"mes":' * n),
)


@st.composite
def st_chat(draw) -> bytes:
    ascii_only = draw(st.booleans()) or draw(st.booleans())
    lines = [dump(draw(st_header), ascii_only)] if draw(st.integers(0, 3)) else []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.integers(0, 12))
        if kind == 0:
            lines.append(draw(st_garbage_line))
        elif kind == 1:
            lines.append(dump(draw(json_values), ascii_only))
        elif kind == 2:
            lines.append("")
        else:
            lines.append(dump(draw(st_message), ascii_only))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines) + draw(st.sampled_from(["", "\n"]))
    return encode(text, draw(st.sampled_from(ENCODINGS)))


wi_st_entry = obj(
    {"content": maybe(texts), "key": maybe(st.one_of(st.lists(maybe(texts), max_size=3), texts))},
    uid=maybe(st.integers(-5, 2**70)),
    keysecondary=maybe(st.lists(texts, max_size=2)),
    comment=maybe(texts),
    constant=json_values,
    selective=json_values,
    order=maybe(st.one_of(st.integers(), st.floats(), texts)),
    position=json_values,
    disable=json_values,
    caseSensitive=json_values,
)
wi_card_entry = obj(
    {"content": maybe(texts), "keys": maybe(st.one_of(st.lists(maybe(texts), max_size=3), texts))},
    id=json_values,
    secondary_keys=maybe(st.lists(texts, max_size=2)),
    name=maybe(texts),
    comment=maybe(texts),
    enabled=json_values,
    insertion_order=maybe(st.one_of(st.integers(), st.floats(), texts)),
    priority=json_values,
    position=json_values,
    use_regex=json_values,
    case_sensitive=json_values,
    extensions=maybe(st.dictionaries(texts, json_values, max_size=2)),
)
WI_KEYS = st.one_of(st.sampled_from(["0", "1", "2", "10", "abc", "²", ""]), LONG)
wi_book = obj(
    {
        "entries": st.one_of(
            st.dictionaries(st.one_of(WI_KEYS, texts), maybe(st.one_of(wi_st_entry, wi_card_entry)), max_size=4),
            st.lists(maybe(st.one_of(wi_card_entry, wi_st_entry)), max_size=4),
            json_values,
        )
    },
    name=maybe(texts),
    description=maybe(texts),
    originalData=maybe(obj(name=maybe(texts), entries=json_values, description=maybe(texts))),
)


@st.composite
def sillytavern_samples(draw) -> Sample:
    chat_name = draw(SAFE_NAME) + ".jsonl"
    layout = draw(st.sampled_from(["file", "file", "group-file", "folder"]))
    group = (
        "groups/g1.json",
        draw(encoded(maybe(obj(name=maybe(texts), chats=maybe(st.lists(texts)), chat_id=maybe(texts))))),
    )
    if layout == "file":
        return Sample("file", chat_name, [(chat_name, draw(st_chat()))])
    if layout == "group-file":
        return Sample("file-in-dir", "data", [(f"group chats/{chat_name}", draw(st_chat())), group])
    members = [(f"chats/{draw(SAFE_NAME)}/{chat_name}", draw(st_chat()))]
    if draw(st.booleans()):
        members.append((f"group chats/g-{chat_name}", draw(st_chat())))
        members.append(group)
    if draw(st.booleans()):
        members.append(("worlds/w.json", draw(encoded(wi_book))))
    if draw(st.booleans()):
        members.append((f"backups/{chat_name}", draw(st_chat())))
    return draw(containers(members, [], "sillytavern-data.zip"))


# ---------------------------------------------------------------- world info


@st.composite
def worldinfo_samples(draw) -> Sample:
    name = draw(SAFE_NAME) + ".json"
    books = [(name, draw(encoded(wi_book)))]
    if draw(st.integers(0, 3)) == 0:
        books.append(("worlds/second.json", draw(encoded(wi_book))))
        return draw(containers(books, [("notes.txt", b"x")], "worlds.zip"))
    return Sample("file", name, books)


# ---------------------------------------------------------------- character cards

V2, V3 = charcard.V2, charcard.V3
cc_entry = obj(
    keys=maybe(st.one_of(st.lists(texts, max_size=3), texts)),
    content=maybe(texts),
    extensions=maybe(st.dictionaries(texts, json_values, max_size=2)),
    enabled=json_values,
    insertion_order=maybe(st.one_of(st.integers(), st.sampled_from(["²", "٣", "12", "-3", " 7"]), LONG, texts)),
    case_sensitive=json_values,
    use_regex=json_values,
    id=maybe(st.one_of(st.integers(), st.sampled_from(["²"]), LONG, texts)),
    entry_id=json_values,
    priority=maybe(st.one_of(st.integers(), st.sampled_from(["²", "5"]))),
    name=maybe(texts),
    comment=maybe(texts),
    selective=json_values,
    secondary_keys=maybe(st.lists(texts, max_size=2)),
    constant=json_values,
    position=maybe(st.one_of(st.sampled_from(["before_char", "after_char", "²"]), st.integers())),
)
cc_book = obj(
    name=maybe(texts),
    description=maybe(texts),
    scan_depth=json_values,
    extensions=json_values,
    entries=maybe(st.one_of(st.lists(maybe(cc_entry), max_size=3), st.dictionaries(texts, cc_entry, max_size=2))),
)
cc_asset = obj(
    type=maybe(st.sampled_from(["icon", "background", "emotion"])),
    uri=maybe(
        st.sampled_from(["embeded://assets/icon/main.png", "ccdefault:", "https://x/y.png", "embeded://../../evil"])
    ),
    name=maybe(st.sampled_from(["main", "x", ""])),
    ext=maybe(st.sampled_from(["png", "webp", ""])),
)
cc_data = obj(
    {"name": maybe(texts)},
    description=maybe(texts),
    personality=maybe(texts),
    scenario=maybe(texts),
    first_mes=maybe(texts),
    mes_example=maybe(texts),
    creator_notes=maybe(st.one_of(texts, st.just(charcard.BACKFILL_NOTE + "\n\nnotes"))),
    system_prompt=maybe(texts),
    system_prompts=maybe(texts),
    post_history_instructions=maybe(texts),
    alternate_greetings=maybe(st.one_of(st.lists(texts, max_size=3), texts)),
    group_only_greetings=maybe(st.lists(texts, max_size=2)),
    tags=maybe(st.one_of(st.lists(texts, max_size=3), texts)),
    creator=maybe(texts),
    character_version=maybe(texts),
    extensions=maybe(
        obj(
            talkativeness=json_values,
            fav=json_values,
            world=maybe(texts),
            depth_prompt=json_values,
            chara_card_v3=maybe(st.dictionaries(texts, json_values, max_size=3)),
        )
    ),
    character_book=maybe(cc_book),
    assets=maybe(st.lists(maybe(cc_asset), max_size=3)),
    nickname=maybe(texts),
    creation_date=json_values,
)
cc_v1 = obj(
    {"name": maybe(texts), "first_mes": maybe(texts), "description": maybe(texts)},
    personality=maybe(texts),
    scenario=maybe(texts),
    mes_example=maybe(texts),
    creatorcomment=maybe(texts),
    talkativeness=json_values,
    fav=json_values,
    world=json_values,
    depth_prompt_prompt=maybe(texts),
    depth_prompt_depth=json_values,
    depth_prompt_role=maybe(texts),
    extensions=json_values,
    spec=maybe(st.sampled_from([None, "chara_card_v1"])),
    character_book=maybe(cc_book),
)
cc_card = st.one_of(
    obj(
        {"spec": maybe(st.sampled_from([V2, V3, V3, "chara_card_v1", "x"])), "data": maybe(cc_data)},
        spec_version=maybe(st.sampled_from(["2.0", "3.0", "3.1", "²", "٣.0", "3.0.0", "", "1e400"])),
        name=maybe(texts),
        description=maybe(texts),
    ),
    cc_v1,
)

PNG_KEYWORDS = st.sampled_from(
    ["chara", "chara", "ccv3", "ccv3", "CHARA", "Ccv3", "Comment", "parameters", "", "k" * 90]
)


@st.composite
def chunk_body(draw) -> bytes:
    """What a card chunk carries: base64 of JSON (sometimes mangled), the JSON itself, or junk."""
    payload = encode(
        draw(json_file(cc_card)), draw(st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "utf-16", "latin-1"]))
    )
    kind = draw(st.integers(0, 9))
    if kind <= 3:
        return base64.b64encode(payload)
    if kind == 4:  # wrapped, unpadded, or url-safe base64
        text = base64.b64encode(payload)
        return draw(
            st.sampled_from(
                [
                    text.rstrip(b"="),
                    b"\n".join(text[i : i + 76] for i in range(0, len(text), 76)),
                    base64.urlsafe_b64encode(payload),
                ]
            )
        )
    if kind == 5:
        return payload
    if kind == 6:  # base64 garbage
        return draw(st.sampled_from([b"!!!not base64!!!", b"eyJuYW1lIjog", b"====", b"", b"e30", "😀".encode()]))
    if kind == 7:
        return base64.b64encode(draw(st.binary(max_size=40)))
    if kind == 8:
        return draw(st.binary(max_size=40))
    return base64.b64encode(payload)[: draw(st.integers(0, max(0, len(payload))))]


@st.composite
def text_chunk(draw) -> png.Chunk:
    keyword = draw(PNG_KEYWORDS).encode("latin-1")
    body = draw(chunk_body())
    ctype = draw(st.sampled_from([b"tEXt", b"tEXt", b"zTXt", b"iTXt", b"iTXt"]))
    sep = draw(st.sampled_from([b"\x00", b"\x00", b"\x00", b""]))
    if ctype == b"tEXt":
        return png.Chunk(ctype, keyword + sep + body)
    if ctype == b"zTXt":
        packed = zlib.compress(body) if draw(st.integers(0, 4)) else body  # sometimes not compressed at all
        return png.Chunk(ctype, keyword + sep + draw(st.sampled_from([b"\x00", b"\x07"])) + packed)
    compressed = draw(st.sampled_from([b"\x00", b"\x01"]))
    if compressed == b"\x01" and draw(st.integers(0, 4)):
        body = zlib.compress(body)
    lang = draw(st.sampled_from([b"", b"en", b"zh-cn"]))
    return png.Chunk(ctype, keyword + sep + compressed + b"\x00" + lang + b"\x00" + b"\x00" + body)


@st.composite
def png_card(draw) -> bytes:
    ihdr = png.Chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    idat = png.Chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
    texts_ = draw(st.lists(text_chunk(), max_size=4))
    chunks = [ihdr, *draw(st.permutations([idat, *texts_])), png.Chunk(b"IEND", b"")]
    data = png.write_png(chunks)
    damage = draw(st.integers(0, 6))
    if damage == 0:  # truncated
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == 1:  # a chunk claims an absurd length
        data = data[:33] + struct.pack(">I", draw(st.sampled_from([2**31 - 1, 2**32 - 1, 10**6]))) + data[37:]
    elif damage == 2:  # garbage after IEND, or a wrong CRC
        data = data + draw(st.binary(max_size=20)) if draw(st.booleans()) else data[:-1] + b"\x00"
    return data


@st.composite
def charcard_samples(draw) -> Sample:
    kind = draw(st.sampled_from(["json", "png", "png", "charx"]))
    stem = draw(SAFE_NAME)
    if kind == "json":
        return Sample("file", f"{stem}.json", [(f"{stem}.json", draw(encoded(cc_card)))])
    if kind == "png":
        return Sample("file", f"{stem}.png", [(f"{stem}.png", draw(png_card()))])
    members = [
        (draw(st.sampled_from(["card.json", "card.json", "sub/card.json"])), draw(encoded(cc_card))),
        ("assets/icon/main.png", draw(st.sampled_from([b"\x89PNG\r\n\x1a\n", b"", b"not png"]))),
    ]
    if draw(st.booleans()):
        members.append(("../../evil", b"x"))
    return Sample("zip", f"{stem}.{draw(st.sampled_from(['charx', 'zip']))}", members)


# ---------------------------------------------------------------- OpenAI-style JSONL

oa_part = st.one_of(
    texts,
    obj(
        {"type": maybe(st.sampled_from(["text", "input_text", "output_text", "image_url", "input_audio", "refusal"]))},
        text=maybe(texts),
        image_url=maybe(st.one_of(texts, obj(url=maybe(texts)))),
    ),
    json_values,
)
oa_call = obj(id=maybe(texts), type=maybe(texts), function=maybe(obj(name=maybe(texts), arguments=maybe(texts))))
oa_message = obj(
    {"role": maybe(st.sampled_from(["system", "user", "assistant", "tool", "function"]))},
    content=maybe(st.one_of(texts, st.none(), st.lists(oa_part, max_size=3))),
    name=maybe(texts),
    tool_calls=maybe(st.lists(maybe(oa_call), max_size=2)),
    function_call=maybe(obj(name=maybe(texts), arguments=maybe(texts))),
    model=maybe(texts),
)
oa_conversation = obj(
    {"messages": maybe(st.lists(maybe(oa_message), max_size=5))}, title=maybe(texts), weight=json_values
)


@st.composite
def jsonl_samples(draw) -> Sample:
    suffix = draw(st.sampled_from([".jsonl", ".jsonl", ".ndjson", ".json"]))
    name = draw(SAFE_NAME) + suffix
    ascii_only = draw(st.booleans()) or draw(st.booleans())
    if suffix == ".json":
        shape = st.one_of(oa_conversation, st.lists(oa_conversation, max_size=3), st.lists(oa_message, max_size=4))
        text = dump(draw(shape), ascii_only)
    else:
        lines = []
        for _ in range(draw(st.integers(0, 5))):
            kind = draw(st.integers(0, 10))
            line = draw(st_garbage_line) if kind == 0 else "" if kind == 1 else dump(draw(oa_conversation), ascii_only)
            lines.append(line)
        text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    return Sample("file", name, [(name, encode(text, draw(st.sampled_from(ENCODINGS))))])


# ==================================================================== mutations of real files


@st.composite
def swap_json_value(draw, data: bytes) -> bytes:
    """Parse JSON, walk to a random value and replace it with one of another type."""
    try:
        root = orjson.loads(data)
    except orjson.JSONDecodeError:
        return data
    holder: Any = None
    key: Any = None
    node = root
    while isinstance(node, (dict, list)) and node and draw(st.integers(0, 5)):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = keys[draw(st.integers(0, len(keys) - 1))]
        holder, node = node, node[key]
    replacement = draw(json_values)
    if holder is None:
        root = replacement
    else:
        holder[key] = replacement
    return encode(dump(root, ascii_only=draw(st.booleans())), "utf-8")


@st.composite
def mutate(draw, data: bytes, kind: str) -> bytes:
    """One to three byte-level or structural mutations of a real file."""
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "duplicate", "swap", "swap", "encode"]))
        n = len(data)
        at = draw(st.integers(0, n))
        if op == "truncate":
            data = data[:at]
        elif op == "flip" and n:
            at = min(at, n - 1)
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        elif op == "insert":
            junk = draw(
                st.one_of(
                    st.binary(min_size=1, max_size=8),
                    st.sampled_from(
                        [b'"', b"{", b"]", b",", b"\x00", b"\xff", b"\\u", b"\xed\xa0\x80", b"\n", b"\\ud800"]
                    ),
                )
            )
            data = data[:at] + junk + data[at:]
        elif op == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 64)) :]
        elif op == "duplicate":
            end = min(n, at + draw(st.integers(1, 4096)))
            data = data[:end] + data[at:end] + data[end:]
        elif op == "swap" and kind == "json":
            data = draw(swap_json_value(Blob(data)))
        elif op == "swap" and kind == "jsonl":
            lines = data.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines[i] = draw(swap_json_value(Blob(lines[i]))).replace(b"\n", b" ")
            data = b"\n".join(lines)
        elif op == "swap" and kind == "png":
            data = draw(swap_png_card(Blob(data)))
        elif op == "encode" and kind != "png":
            text = data.decode("utf-8", "replace")
            data = encode(
                text, draw(st.sampled_from(["utf-8-sig", "utf-16", "utf-16-le", "utf-32", "latin-1", "gb18030"]))
            )
    return data


@st.composite
def swap_png_card(draw, data: bytes) -> bytes:
    """Swap a value inside the JSON of a card chunk and write the chunk back (base64, as found)."""
    try:
        chunks = list(png.iter_chunks(data))
    except png.PngError:
        return data
    found = [i for i, c in enumerate(chunks) if c.type == b"tEXt" and c.data.split(b"\x00")[0] in (b"chara", b"ccv3")]
    if not found:
        return data
    i = draw(st.sampled_from(found))
    keyword, _, body = chunks[i].data.partition(b"\x00")
    try:
        payload = base64.b64decode(body)
    except ValueError:
        return data
    chunks[i] = png.Chunk(b"tEXt", keyword + b"\x00" + base64.b64encode(draw(swap_json_value(Blob(payload)))))
    return png.write_png(chunks)


def kind_of(path: Path) -> str:
    return {".png": "png", ".jsonl": "jsonl"}.get(path.suffix.lower(), "json")


def fixture_samples(paths: list[Path]) -> st.SearchStrategy:
    """A real fixture, mutated, written under its own name (the name decides the reader)."""

    @st.composite
    def build(draw) -> tuple[Path, Sample]:
        path = draw(st.sampled_from(paths))
        data = draw(mutate(Blob(path.read_bytes()), kind_of(path)))
        return path, Sample("file", path.name, [(path.name, data)])

    return build()


# ==================================================================== running one input


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail an input that takes too long (a hang), where the platform has SIGALRM."""
    if not hasattr(signal, "SIGALRM") or seconds <= 0:
        yield
        return

    def alarm(signum, frame):
        raise Hang(f"import still running after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


TABLES = (
    "conversations",
    "messages",
    "companions",
    "lorebooks",
    "memories",
    "documents",
    "feedback",
    "accounts",
    "attachments",
    "blobs",
)


def counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one() for t in TABLES}


def assert_consistent(store: Store) -> None:
    """The store after any import, failed or not: sound file, sound links, indexes in step."""
    with store.engine.connect() as conn:
        q = conn.exec_driver_sql
        assert q("PRAGMA integrity_check").all() == [("ok",)]
        assert q("PRAGMA foreign_key_check").all() == []
        bad_parents = q(
            "SELECT m.id, m.parent_id FROM messages m LEFT JOIN messages p ON p.id = m.parent_id "
            "WHERE m.parent_id IS NOT NULL AND (p.id IS NULL OR p.conversation_id != m.conversation_id)"
        ).all()
        assert bad_parents == [], f"messages whose parent is missing or in another conversation: {bad_parents}"
        parent = dict(q("SELECT id, parent_id FROM messages").all())
        done: set[int] = set()
        for start in parent:
            path: list[int] = []
            node: int | None = start
            while node is not None and node not in done:
                if node in path:
                    raise AssertionError(f"messages form a parent cycle: {path[path.index(node) :]}")
                path.append(node)
                node = parent.get(node)
            done.update(path)
        texts_ = q("SELECT count(*) FROM messages WHERE text != ''").scalar_one()
        assert q("SELECT count(*) FROM message_fts").scalar_one() == texts_, "message_fts out of step with messages"
        lore = q("SELECT count(*) FROM memories WHERE text != '' OR keys != '[]'").scalar_one()
        assert q("SELECT count(*) FROM memory_fts").scalar_one() == lore, "memory_fts out of step with memories"
        stray = q(
            "SELECT a.id FROM attachments a JOIN messages m ON m.id = a.message_id "
            "WHERE a.conversation_id != m.conversation_id"
        ).all()
        assert stray == [], f"attachments pointing into another conversation: {stray}"
        running = q("SELECT path, status FROM imports WHERE status = 'running'").all()
        assert running == [], f"imports left running: {running}"


class Templates:
    """Migrated store files, copied for each example (a fresh store in ~5 ms instead of ~40)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made: dict[str, Path] = {}

    def get(self, seed: list[Path] = ()) -> Path:
        """A store file with the given real files imported (the 'already there' for 'nothing lost')."""
        key = "|".join(str(p) for p in seed) or "empty"
        if key not in self.made:
            path = self.root / f"template-{len(self.made)}.db"
            with Store(str(path)) as store:
                for summary in import_many(store, list(seed)):
                    assert summary.status == "done", summary
            self.made[key] = path
        return self.made[key]


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> Templates:
    return Templates(tmp_path_factory.mktemp("fuzz-templates"))


STATUSES = {"done", "already imported", "failed", "skipped"}


def check_imports(samples: list[Sample], reader: ModuleType, template: Path, root: Path) -> None:
    """Import each sample in turn into one fresh store and check every property after each."""
    if LAST_INPUT:  # a crash that kills the interpreter (a segfault) leaves its input here
        Path(LAST_INPUT).write_bytes(pickle.dumps(samples))
    work = Path(tempfile.mkdtemp(dir=root))
    db = work / "hearth.db"
    shutil.copyfile(template, db)
    store = Store(str(db))
    try:
        TALLY["examples run"] += 1
        for n, sample in enumerate(samples):
            TALLY["inputs"] += 1
            path = materialise(sample, work / f"in{n}")
            before = counts(store)
            with time_limit(HANG_SECONDS):
                summaries = import_many(store, [path])
            assert summaries, "import_many returned no summary"
            for s in summaries:
                note(f"summary: {s.status} {s.format} {s.error!r}")
                assert s.status in STATUSES, s
                if s.status in ("failed", "skipped"):
                    assert s.error and s.error.strip(), f"a {s.status} import without a reason: {s}"
                    assert str(path) in s.error, f"the error does not name the file: {s.error!r}"
                TALLY[f"import {s.status}"] += 1
                event(f"{reader.NAME}: {s.status}" + (f": {_gist(s.error, work)}" if s.error else ""))
            assert_consistent(store)
            after = counts(store)
            lost = {t: (before[t], after[t]) for t in TABLES if after[t] < before[t]}
            assert not lost, f"rows lost by importing {path.name}: {lost}"
            # the same input again adds nothing, whether it went in, failed or was skipped
            with time_limit(HANG_SECONDS):
                again = import_many(store, [path])
            assert [a.status for a in again] == [
                "already imported" if s.status == "done" else s.status for s in summaries
            ], (summaries, again)
            assert counts(store) == after, "importing the same input twice added rows"
            assert_consistent(store)
            read_directly(reader, path)
    finally:
        store.close()
        shutil.rmtree(work, ignore_errors=True)


def _gist(error: str, work: Path) -> str:
    """An error message without paths and numbers, for hypothesis's event statistics."""
    return re.sub(r"\d[\d,]*", "N", error.replace(str(work), "")).split("(")[0][:70]


def read_directly(reader: ModuleType, path: Path) -> None:
    """The reader itself, on the bundle, whether or not it would have been picked: a HearthError
    or nothing. Anything else escaping is a bug in the reader."""
    warnings_: list[str] = []
    with time_limit(HANG_SECONDS):
        try:
            bundle = open_bundle(path)
        except HearthError:
            return
        with bundle:
            if bundle.kind == "dir" and reader is not sillytavern:
                return  # folders are split by the planner; only SillyTavern reads a data folder whole
            try:
                reader.sniff(bundle)
                for _ in reader.read(bundle, None, warnings_.append):
                    pass
            except HearthError as exc:
                assert exc.message.strip()


# ==================================================================== generated inputs, per reader


def test_generated_chatgpt(tmp_path, templates):
    def imports(samples):
        check_imports(samples, chatgpt, templates.get(), tmp_path)

    fuzz_run(st.lists(chatgpt_samples(), min_size=1, max_size=2), imports)


def test_generated_claude(tmp_path, templates):
    def imports(samples):
        check_imports(samples, claude, templates.get(), tmp_path)

    fuzz_run(st.lists(claude_samples(), min_size=1, max_size=2), imports)


def test_generated_sillytavern(tmp_path, templates):
    def imports(samples):
        check_imports(samples, sillytavern, templates.get(), tmp_path)

    fuzz_run(st.lists(sillytavern_samples(), min_size=1, max_size=2), imports)


def test_generated_worldinfo(tmp_path, templates):
    def imports(samples):
        check_imports(samples, worldinfo, templates.get(), tmp_path)

    fuzz_run(st.lists(worldinfo_samples(), min_size=1, max_size=2), imports)


def test_generated_charcard(tmp_path, templates):
    def imports(samples):
        check_imports(samples, charcard, templates.get(), tmp_path)

    fuzz_run(st.lists(charcard_samples(), min_size=1, max_size=2), imports)


def test_generated_openai_jsonl(tmp_path, templates):
    def imports(samples):
        check_imports(samples, jsonl, templates.get(), tmp_path)

    fuzz_run(st.lists(jsonl_samples(), min_size=1, max_size=2), imports)


# ==================================================================== mutated real files, per reader


def _need(paths: list[Path]) -> list[Path]:
    if not paths:
        pytest.skip(f"fixtures under {FIXTURES} are not available")
    return paths


def chatgpt_fixtures() -> list[Path]:
    return [p for p in fixtures_under("chatgpt", "conversations*.json")]


def test_mutated_chatgpt(tmp_path, templates):
    paths = _need(chatgpt_fixtures())

    def imports(drawn):
        original, sample = drawn
        check_imports([sample], chatgpt, templates.get([original]), tmp_path)

    fuzz_run(fixture_samples(paths), imports, share=0.5)


def test_mutated_claude(tmp_path, templates):
    paths = _need(fixtures_under("claude", "conversations.json"))

    def imports(drawn):
        original, sample = drawn
        check_imports([sample], claude, templates.get([original]), tmp_path)

    fuzz_run(fixture_samples(paths), imports)


def test_mutated_sillytavern(tmp_path, templates):
    paths = _need(fixtures_under("sillytavern", "*.jsonl"))

    def imports(drawn):
        original, sample = drawn
        check_imports([sample], sillytavern, templates.get([original]), tmp_path)

    fuzz_run(fixture_samples(paths), imports)


def test_mutated_worldinfo(tmp_path, templates):
    paths = _need(fixtures_under("sillytavern", "*worldinfo.json"))

    def imports(drawn):
        original, sample = drawn
        check_imports([sample], worldinfo, templates.get([original]), tmp_path)

    fuzz_run(fixture_samples(paths), imports)


def test_mutated_charcard_json(tmp_path, templates):
    paths = _need(fixtures_under("character-cards", "*.json"))

    def imports(drawn):
        original, sample = drawn
        check_imports([sample], charcard, templates.get([original]), tmp_path)

    fuzz_run(fixture_samples(paths), imports, share=0.5)


def test_mutated_charcard_png(tmp_path, templates):
    paths = _need(fixtures_under("character-cards", "*.png"))

    def imports(drawn):
        original, sample = drawn
        check_imports([sample], charcard, templates.get([original]), tmp_path)

    fuzz_run(fixture_samples(paths), imports, share=0.5)


@pytest.fixture(scope="session")
def openai_seeds(tmp_path_factory) -> list[Path]:
    """Real text in the OpenAI shape, written by hearth's own exporter from the Claude fixture."""
    source = FIXTURES / "claude/gsunny45_2026-04/conversations.json"
    if not source.exists():
        return []
    with open_bundle(source) as bundle:
        convs = [c for c in claude.read(bundle) if hasattr(c, "messages")]
    lines = b"".join(jsonl.write_openai_jsonl(convs))
    folder = tmp_path_factory.mktemp("openai-seeds")
    objects = [orjson.loads(line) for line in lines.splitlines()]
    seeds = {
        "chats.jsonl": lines,
        "chats.json": orjson.dumps(objects[:4], option=orjson.OPT_INDENT_2),
        "bare.json": orjson.dumps(objects[0]["messages"]) if objects else b"[]",
    }
    for name, data in seeds.items():
        (folder / name).write_bytes(data)
    return sorted(folder.iterdir())


def test_mutated_openai_jsonl(tmp_path, templates, openai_seeds):
    paths = _need(openai_seeds)

    def imports(drawn):
        original, sample = drawn
        check_imports([sample], jsonl, templates.get([original]), tmp_path)

    fuzz_run(fixture_samples(paths), imports)


@st.composite
def damaged_zips(draw, members: list[tuple[str, bytes]]) -> Sample:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED]))) as zf:
        for name, data in members:
            zf.writestr(name, data)
    damaged = draw(mutate(Blob(buffer.getvalue()), "zip"))
    name = draw(st.sampled_from(["export.zip", "export.charx", "export.bin"]))
    return Sample("file", name, [(name, damaged)])


def test_mutated_zip_containers(tmp_path, templates):
    """Damage to the zip itself: torn central directory, bad CRCs, flipped compressed bytes."""
    folder = FIXTURES / "chatgpt/j1jaewon_2026-06_split"
    chosen = _need([p for p in sorted(folder.glob("*.json")) if folder.exists()])
    members = [(p.name, Blob(p.read_bytes())) for p in chosen] + [
        ("file-abc123-photo.png", Blob(b"\x89PNG" + bytes(200)))
    ]

    def imports(sample):
        check_imports([sample], chatgpt, templates.get(), tmp_path)

    fuzz_run(damaged_zips(members), imports, share=0.5)


# ==================================================================== a failed import keeps what it read


def _stored_titles(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.source_id, count(m.id) FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id "
            "GROUP BY c.id"
        ).all()
    return dict(rows)


@pytest.mark.parametrize(
    "relative",
    ["chatgpt/bobbytango_2023-09/conversations.json", "claude/gsunny45_2026-04/conversations.json"],
)
def test_truncated_fixture_keeps_conversations_read_before_the_break(relative, tmp_path, monkeypatch):
    import hearth.ingest

    monkeypatch.setattr(hearth.ingest, "BATCH_MESSAGES", 50)  # several batches before the break
    original = fixture(*relative.split("/"))
    data = original.read_bytes()
    cut = tmp_path / "cut" / original.name
    cut.parent.mkdir()
    cut.write_bytes(data[: len(data) * 2 // 3])

    with Store(str(tmp_path / "full.db")) as full:
        assert import_many(full, [original])[0].status == "done"
        complete = _stored_titles(full)

    with Store(str(tmp_path / "hearth.db")) as store:
        [summary] = import_many(store, [cut])
        assert summary.status == "failed"
        assert str(cut) in summary.error and "byte" in summary.error
        assert_consistent(store)
        kept = _stored_titles(store)
        assert 0 < len(kept) < len(complete)
        for source_id, n in kept.items():  # every kept conversation is whole
            assert complete[source_id] == n
        # the whole file afterwards adds the rest, and the failed import is on record
        assert import_many(store, [original])[0].status == "done"
        assert _stored_titles(store) == complete
        with store.engine.connect() as conn:
            statuses = sorted(r[0] for r in conn.exec_driver_sql("SELECT status FROM imports").all())
        assert statuses == ["done", "failed"]
        assert_consistent(store)


def test_broken_file_after_a_good_one_loses_nothing(tmp_path):
    good = fixture("sillytavern", "glxiang369_song-county_2025-05-10.jsonl")
    with Store(str(tmp_path / "hearth.db")) as store:
        assert import_many(store, [good])[0].status == "done"
        before = counts(store)
        broken = tmp_path / good.name
        lines = good.read_bytes().split(b"\n")
        broken.write_bytes(b"\n".join(lines[:5] + [lines[5][:40]] + lines[6:]))
        [summary] = import_many(store, [broken])
        assert summary.status == "failed" and "line 6" in summary.error and str(broken) in summary.error
        assert counts(store) == before
        assert_consistent(store)


def test_openai_jsonl_keeps_lines_before_a_bad_one(tmp_path):
    path = tmp_path / "chats.jsonl"
    good = [orjson.dumps({"messages": [{"role": "user", "content": f"第{i}句"}]}) for i in range(3)]
    path.write_bytes(b"\n".join([*good, b'{"messages": [{"role": "user", "content": "torn'] + good))
    with Store(str(tmp_path / "hearth.db")) as store:
        [summary] = import_many(store, [path])
        assert summary.status == "failed" and "line 4" in summary.error and str(path) in summary.error
        assert counts(store)["conversations"] == 3
        assert_consistent(store)


# ==================================================================== hostile containers


def test_zip_bomb_is_one_clear_error(tmp_path):
    bomb = tmp_path / "claude-export.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("conversations.json", "w", force_zip64=True) as f:
            f.write(b'[{"uuid": "x", "chat_messages": []}')
            chunk = b" " * (1 << 20)
            for _ in range(70):
                f.write(chunk)
            f.write(b"]")
    with Store(str(tmp_path / "hearth.db")) as store:
        [summary] = import_many(store, [bomb])
        assert summary.status == "failed" and "zip bomb" in summary.error and str(bomb) in summary.error
        assert_consistent(store)


def test_symlinks_in_a_folder_are_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "conversations.json").write_bytes(b'[{"id": "leak", "mapping": {}}]')
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "conversations.json").symlink_to(outside / "conversations.json")
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "gone.json").symlink_to(tmp_path / "nowhere")
    with Store(str(tmp_path / "hearth.db")) as store:
        [summary] = import_many(store, [folder])
        assert summary.status == "failed" and str(folder) in summary.error
        assert counts(store)["conversations"] == 0


def test_png_without_a_card_chunk(tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(png.placeholder_png("x", 2, 2))
    with Store(str(tmp_path / "hearth.db")) as store:
        [summary] = import_many(store, [path])
    assert summary.status == "failed" and str(path) in summary.error
    with open_bundle(path) as bundle, pytest.raises(UnsupportedInput, match="without a character card"):
        list(charcard.read(bundle))


def test_card_chunk_of_base64_garbage(tmp_path):
    path = tmp_path / "card.png"
    ihdr = png.Chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    path.write_bytes(png.write_png([ihdr, png.Chunk(b"tEXt", b"chara\x00!!not base64!!"), png.Chunk(b"IEND", b"")]))
    with Store(str(tmp_path / "hearth.db")) as store:
        [summary] = import_many(store, [path])
    assert summary.status == "failed" and "base64" in summary.error and str(path) in summary.error


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "latin-1", "gb18030"])
def test_wrong_encodings_get_one_clear_error_or_import(encoding, tmp_path):
    chat = [{"user_name": "我", "character_name": "小白"}, {"name": "小白", "is_user": False, "mes": "你好，世界 é"}]
    path = tmp_path / "chat.jsonl"
    path.write_bytes("\n".join(json.dumps(o, ensure_ascii=False) for o in chat).encode(encoding, "replace"))
    with Store(str(tmp_path / "hearth.db")) as store:
        [summary] = import_many(store, [path])
        assert summary.status in ("done", "failed")
        if summary.status == "failed":
            assert str(path) in summary.error
        assert_consistent(store)


# ==================================================================== regressions found by the fuzzing


def _import_file(tmp_path: Path, name: str, data: bytes) -> tuple[Path, list]:
    """Import one file into a fresh store; the store must be consistent whatever happened."""
    path = tmp_path / "in" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    with Store(str(tmp_path / "hearth.db")) as store:
        summaries = import_many(store, [path])
        assert_consistent(store)
        stored = counts(store)
    for s in summaries:
        assert s.status in STATUSES
        if s.status == "failed":
            assert str(path) in s.error
    return path, [(s.status, s.error, stored) for s in summaries]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


HUGE_INTEGER = b"9" * 4400  # past Python's 4300-digit limit on int()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("world.json", b'{"entries": {"0": {"uid": ' + HUGE_INTEGER + b', "key": ["k"], "content": "x"}}}'),
        ("chat.json", b'[{"role": "user", "content": "x", "n": ' + HUGE_INTEGER + b"}]"),
    ],
)
def test_regression_huge_integer_does_not_kill_the_interpreter(name, data, tmp_path):
    """ijson's C backend, asked for Python ints, segfaulted on an integer past 4300 digits while
    worldinfo and jsonl sniffed a file (found by the fuzzing; run in a subprocess, since a
    regression kills the interpreter)."""
    path = tmp_path / name
    path.write_bytes(data)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from hearth.ingest import import_many\n"
        "from hearth.store import Store\n"
        "[s] = import_many(Store(sys.argv[2]), [Path(sys.argv[1])])\n"
        "print(s.status, s.error)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(path), str(tmp_path / "hearth.db")], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith(("done", "failed"))


def test_regression_invalid_utf8_in_a_json_head(tmp_path):
    """jsonl's sniffer let ijson's UnicodeDecodeError escape on any `.json` with invalid UTF-8."""
    data = b'{"\xed\xa0\x80": null}'
    path, [(status, error, _)] = _import_file(tmp_path, "card.json", data)
    assert status == "failed"
    with open_bundle(path) as bundle:
        assert jsonl.sniff(bundle) is False


def test_regression_openai_conversation_nested_too_deeply(tmp_path):
    """Hashing a conversation nested past orjson's 254 levels fell over; past the stack, it is
    one clear error naming the file."""
    deep = b"[" * 300 + b"]" * 300
    path = tmp_path / "chats.jsonl"
    path.write_bytes(b'{"messages": [{"role": "user", "content": "x"}], "extra": ' + deep + b"}")
    with open_bundle(path) as bundle:
        [conversation] = list(jsonl.read(bundle))
    assert len(conversation.messages) == 1
    deeper = b"[" * 5000 + b"]" * 5000
    path = tmp_path / "chats.json"
    path.write_bytes(b'[{"messages": [{"role": "user", "content": "x"}], "extra": ' + deeper + b"}]")
    with open_bundle(path) as bundle, pytest.raises(CorruptInput, match="nested too deeply") as caught:
        list(jsonl.read(bundle))
    assert str(path) in caught.value.message


ST_HEADER = b'{"user_name": "User", "character_name": "Seraphina"}\n'


@pytest.mark.parametrize(
    ("line", "expect"),
    [
        # orjson stops at 1024 levels; the stdlib fallback then overflowed the stack
        (b'{"name": "a", "mes": "x", "extra": ' + b"[" * 3000 + b"]" * 3000 + b"}", "failed"),
        # int() of a 5000-digit date string raised ValueError
        (b'{"name": "a", "mes": "x", "send_date": "' + b"1" * 5000 + b'"}', "done"),
        # an unhashable `extra.type` was looked up in a set
        (b'{"name": "a", "mes": "x", "extra": {"type": []}}', "done"),
        # the stdlib fallback (for a lone surrogate) made an int the store cannot write
        (b'{"name": "a", "mes": "\\ud800", "is_system": 18446744073709551617}', "done"),
        # an attachment size past SQLite's integer range
        (b'{"name": "a", "mes": "x", "extra": {"files": [{"url": "u.png", "size": 18446744073709551615}]}}', "done"),
    ],
)
def test_regression_sillytavern_hostile_lines(line, expect, tmp_path):
    _, [(status, error, stored)] = _import_file(tmp_path, "chat.jsonl", ST_HEADER + line)
    assert status == expect, error
    if expect == "failed":
        assert "line 2" in error
    else:
        assert stored["messages"] == 1


def test_regression_worldinfo_uid_key_of_5000_digits(tmp_path):
    entry = b'{"key": ["k"], "content": "x"}'
    data = b'{"entries": {"0": ' + entry + b', "' + b"1" * 5000 + b'": ' + entry + b"}}"
    _, [(status, error, stored)] = _import_file(tmp_path, "world.json", data)
    assert status == "done", error
    assert stored["memories"] == 2


@pytest.mark.parametrize(
    "node",
    [
        {"id": "a", "children": True},
        {"id": "a", "children": ["b", []]},
        {"id": "a", "message": "just text"},
        {"id": "a", "message": {"metadata": [1]}},
        {"id": "a", "message": {"content": {"content_type": "thoughts", "thoughts": 5}}},
        {"id": "a", "message": {"metadata": {"attachments": 5}}},
        {"id": "a", "message": {"content": {"parts": [{"content_type": "image_asset_pointer", "asset_pointer": 5}]}}},
    ],
)
def test_regression_chatgpt_wrong_types_in_a_node(node, tmp_path):
    data = orjson.dumps([{"id": "c1", "mapping": {"a": node, "b": {"id": "b", "parent": "a"}}}])
    _, [(status, error, stored)] = _import_file(tmp_path, "conversations.json", data)
    assert status == "done", error
    assert stored["messages"] == 2


@pytest.mark.parametrize("feedback", [b"5", b'[{"rating": "thumbsUp", "message_id": "a", "content": {"tags": 5}}]'])
def test_regression_chatgpt_feedback_of_the_wrong_shape(feedback, tmp_path):
    conversations = orjson.dumps([{"id": "c1", "mapping": {"a": {"id": "a"}}}])
    members = {"conversations.json": conversations, "message_feedback.json": feedback}
    _, [(status, error, stored)] = _import_file(tmp_path, "export.zip", _zip(members))
    assert status == "done", error


@pytest.mark.parametrize(
    "message",
    [
        {"content": [{"type": []}]},
        {"content": [{"type": "text", "text": 5}]},
        {"content": [{"type": "thinking", "summaries": 5}]},
        {"files": 5},
        {"attachments": True},
    ],
)
def test_regression_claude_wrong_types_in_a_message(message, tmp_path):
    data = orjson.dumps([{"uuid": "c1", "chat_messages": [{"uuid": "m1", "sender": "human", **message}]}])
    _, [(status, error, stored)] = _import_file(tmp_path, "conversations.json", data)
    assert status == "done", error
    assert stored["messages"] == 1


def test_regression_claude_project_docs_of_the_wrong_type(tmp_path):
    members = {
        "conversations.json": orjson.dumps([{"uuid": "c1", "chat_messages": []}]),
        "projects.json": orjson.dumps([{"uuid": "p1", "name": "P", "prompt_template": "be kind", "docs": 5}]),
    }
    _, [(status, error, stored)] = _import_file(tmp_path, "export.zip", _zip(members))
    assert status == "done", error
    assert stored["documents"] == 1


def _patch_zip(data: bytes, how: str) -> bytes:
    """Damage the first member: its CRC, its deflate bytes, its method, or an encryption flag."""
    raw = bytearray(data)
    central = raw.find(b"PK\x01\x02")
    if how == "crc":
        raw[central + 16] ^= 0xFF
    elif how == "deflate":
        name_len, extra_len = struct.unpack("<HH", raw[26:30])
        start = 30 + name_len + extra_len
        raw[start + 20 : start + 40] = bytes(20)
    elif how == "method":
        raw[central + 10 : central + 12] = struct.pack("<H", 99)
    elif how == "encrypted":
        raw[central + 8] |= 1
    return bytes(raw)


@pytest.mark.parametrize("how", ["crc", "deflate", "method", "encrypted"])
def test_regression_damaged_zip_member_is_one_clear_error(how, tmp_path):
    """A damaged member raised zipfile's or zlib's own exception from inside a reader."""
    text = orjson.dumps([{"id": f"c{i}", "mapping": {"a": {"id": "a"}}, "title": "长" * 50} for i in range(40)])
    data = _patch_zip(_zip({"conversations.json": text}), how)
    path, [(status, error, _)] = _import_file(tmp_path, "export.zip", data)
    assert status == "failed"
    if how == "encrypted":  # a flagged member is read as a password-protected zip (hearth export --encrypt)
        assert "conversations.json is encrypted" in error
    else:
        assert "conversations.json" in error and ("damaged" in error or "not a chat export" in error)
    read_directly(chatgpt, path)


def test_regression_png_decompression_bomb(tmp_path):
    """A zTXt card chunk that inflates to 100 MiB of nothing was inflated whole, in memory."""
    packer = zlib.compressobj(9)
    bomb = b"".join(packer.compress(bytes(1 << 20)) for _ in range(100)) + packer.flush()
    ihdr = png.Chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    data = png.write_png([ihdr, png.Chunk(b"zTXt", b"chara\x00\x00" + bomb), png.Chunk(b"IEND", b"")])
    _, [(status, error, _)] = _import_file(tmp_path, "card.png", data)
    assert status == "failed" and "decompression bomb" in error


@pytest.mark.parametrize("depth", [600, 3000])
def test_regression_card_nested_too_deeply(depth, tmp_path):
    """Copying a card nested hundreds of levels deep overflowed the stack; in a chunk, the stdlib
    fallback parser did."""
    card = b'{"spec": "chara_card_v2", "data": {"name": "x", "extensions": {"d": ' + b"[" * depth + b"]" * depth
    card += b"}}}"
    ihdr = png.Chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    data = png.write_png([ihdr, png.Chunk(b"tEXt", b"chara\x00" + base64.b64encode(card)), png.Chunk(b"IEND", b"")])
    path, [(status, error, _)] = _import_file(tmp_path, "card.png", data)
    assert status == "failed" and ("nested too deeply" in error or "valid JSON" in error)
    with open_bundle(path) as bundle, pytest.raises(CorruptInput):
        list(charcard.read(bundle))


def test_regression_card_chunk_with_huge_integer_and_lone_surrogate(tmp_path):
    """The stdlib fallback (taken for the lone surrogate) kept a 65-bit int the store cannot write."""
    card = b'{"spec": "chara_card_v2", "data": {"name": "x", "description": "\\ud800", "n": 18446744073709551617}}'
    ihdr = png.Chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    data = png.write_png([ihdr, png.Chunk(b"tEXt", b"chara\x00" + base64.b64encode(card)), png.Chunk(b"IEND", b"")])
    _, [(status, error, stored)] = _import_file(tmp_path, "card.png", data)
    assert status == "done", error
    assert stored["companions"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sillytavern", "openai-jsonl", "claude"])
def test_100_mb_single_message(kind, tmp_path):
    """One message of about 100 MB (a pasted log) imports whole; the ChatGPT reader has its own test."""
    text = "长" * (34 << 20)
    if kind == "sillytavern":
        name, data = "chat.jsonl", ST_HEADER + orjson.dumps({"name": "c", "mes": text})
    elif kind == "openai-jsonl":
        name, data = "chat.jsonl", orjson.dumps({"messages": [{"role": "user", "content": text}]})
    else:
        message = {"uuid": "m", "sender": "human", "content": [{"type": "text", "text": text}]}
        name, data = "conversations.json", orjson.dumps([{"uuid": "c", "chat_messages": [message]}])
    del text
    assert len(data) > 100_000_000
    _, [(status, error, stored)] = _import_file(tmp_path, name, data)
    assert status == "done", error
    assert stored["messages"] == 1


# ============================================================ store bugs the fuzzing found (fixed in hearth/store)


def _card_png(card: bytes) -> bytes:
    ihdr = png.Chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    return png.write_png([ihdr, png.Chunk(b"tEXt", b"chara\x00" + base64.b64encode(card)), png.Chunk(b"IEND", b"")])


def test_store_card_name_with_a_lone_surrogate(tmp_path):
    data = _card_png(b'{"spec": "chara_card_v2", "data": {"name": "x\\ud800y", "first_mes": "hi"}}')
    _, [(status, error, stored)] = _import_file(tmp_path, "card.png", data)
    assert status == "done", error


def test_store_raw_nested_300_levels(tmp_path):
    line = b'{"name": "c", "mes": "x", "extra": {"d": ' + b"[" * 300 + b"]" * 300 + b"}}"
    _, [(status, error, stored)] = _import_file(tmp_path, "chat.jsonl", ST_HEADER + line)
    assert status == "done", error


def test_store_merge_with_an_empty_node_id(tmp_path):
    """A ChatGPT node may be called "" (a mapping key like any other). Merging a newer export of its
    conversation looked every root's parent up as `ids.get(None or "")`: the "" node itself."""
    with Store(str(tmp_path / "hearth.db")) as store:
        for n, mapping in enumerate([{"": {}}, {"": {"x": 1}}]):
            path = tmp_path / str(n) / "conversations.json"
            path.parent.mkdir()
            path.write_bytes(orjson.dumps({"mapping": mapping}))
            assert import_many(store, [path])[0].status == "done"
        assert_consistent(store)


def test_store_raw_nested_past_the_recursion_limit(tmp_path):
    """ijson builds a raw object of any depth; storing one 5,000 levels deep overflowed the stack
    in the fallback serialiser (found by fuzzing the Claude reader)."""
    deep = b"[" * 5000 + b"]" * 5000
    conv = (
        b'[{"uuid": "c1", "name": "t", "created_at": "2024-01-01T00:00:00Z", "extra": ' + deep + b', "chat_messages":'
        b' [{"uuid": "m1", "sender": "human", "text": "hi", "created_at": "2024-01-01T00:00:00Z"}]}]'
    )
    _, [(status, error, stored)] = _import_file(tmp_path, "conversations.json", conv)
    assert status == "done", error
