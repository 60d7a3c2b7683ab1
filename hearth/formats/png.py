"""Just enough PNG to read and write character cards: chunks, text chunks, and a placeholder image.

Character cards hide their JSON in PNG text chunks (`tEXt`, sometimes `zTXt` or `iTXt`), and those
chunks often sit *after* the image data, so finding them means walking the chunk list. This module
does that with `struct` and `zlib` only: no image library, because hearth never needs to decode a
picture, only to carry it byte for byte and to add or remove text beside it.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_TYPES = (b"tEXt", b"zTXt", b"iTXt")
_MAX_KEYWORD = 79
"""The PNG spec limits keywords to 79 bytes; reading 80 is enough to find the NUL after one."""
_MAX_CHUNK = 1 << 31
_INFLATE_RATIO = 200
_INFLATE_FLOOR = 64 << 20
"""A compressed text chunk that inflates more than 200× and past 64 MiB is a decompression bomb
(the rule the zip reader uses); card JSON compresses 5-20×."""


class PngError(ValueError):
    """The bytes are not a PNG, or a chunk is cut short or cannot be decoded."""


class Chunk(NamedTuple):
    type: bytes
    data: bytes


@dataclass(frozen=True, slots=True)
class TextChunk:
    """A decoded text chunk: which kind it was, its keyword and its text."""

    chunk_type: str
    keyword: str
    text: str
    error: str | None = None
    """Why the text could not be decoded (then `text` is empty); the chunk is still reported."""


def is_png(head: bytes) -> bool:
    return head[:8] == SIGNATURE


def iter_chunks(data: bytes) -> Iterator[Chunk]:
    """Every chunk of a PNG in file order, up to and including IEND.

    CRCs are not checked: many card editors write them sloppily and the image still opens
    everywhere, so refusing such a card would only lose a person's companion.
    """
    if not is_png(data):
        raise PngError("it does not start with the PNG signature")
    pos, end = 8, len(data)
    while pos < end:
        if pos + 8 > end:
            raise PngError(f"a chunk header is cut short at byte {pos:,}")
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        if pos + 12 + length > end:
            raise PngError(f"the {ctype.decode('latin-1')!r} chunk at byte {pos:,} is cut short (truncated file?)")
        yield Chunk(ctype, data[pos + 8 : pos + 8 + length])
        pos += 12 + length
        if ctype == b"IEND":
            return


def _skip(stream: BinaryIO, n: int) -> bool:
    """Move `n` bytes on; seek where possible so a large IDAT is never read."""
    if getattr(stream, "seekable", lambda: False)():
        stream.seek(n, 1)
        return True
    while n > 0:
        got = stream.read(min(n, 1 << 20))
        if not got:
            return False
        n -= len(got)
    return True


def text_keywords(stream: BinaryIO) -> list[str]:
    """Keywords of the text chunks, reading only chunk headers and the first bytes of text chunks.

    Used to sniff a file cheaply: the image data is skipped, not read. Stops at IEND, at the end
    of the stream, or at a header that makes no sense.
    """
    if not is_png(stream.read(8)):
        return []
    keywords: list[str] = []
    while True:
        header = stream.read(8)
        if len(header) < 8:
            return keywords
        length, ctype = struct.unpack(">I4s", header)
        if length >= _MAX_CHUNK or ctype == b"IEND":
            return keywords
        rest = length + 4
        if ctype in TEXT_TYPES:
            head = stream.read(min(length, _MAX_KEYWORD + 1))
            rest -= len(head)
            keyword, sep, _ = head.partition(b"\x00")
            if sep:
                keywords.append(keyword.decode("latin-1"))
        if not _skip(stream, rest):
            return keywords


def _inflate(data: bytes) -> bytes:
    """zlib data of a text chunk, refusing a bomb before it fills memory."""
    limit = max(_INFLATE_FLOOR, _INFLATE_RATIO * len(data))
    inflater = zlib.decompressobj()
    text = inflater.decompress(data, limit)
    if inflater.unconsumed_tail:
        raise zlib.error(f"it inflates to more than {limit >> 20:,} MiB, a decompression bomb")
    if not inflater.eof:
        raise zlib.error("incomplete or truncated stream")
    return text


def read_text(chunk: Chunk) -> TextChunk:
    """Decode a tEXt, zTXt or iTXt chunk (keyword and text; iTXt language tags are not kept)."""
    ctype = chunk.type.decode("latin-1")
    keyword_bytes, sep, rest = chunk.data.partition(b"\x00")
    if not sep:
        raise PngError(f"a {ctype} chunk has no keyword separator")
    keyword = keyword_bytes.decode("latin-1")
    try:
        if chunk.type == b"tEXt":
            return TextChunk(ctype, keyword, rest.decode("latin-1"))
        if chunk.type == b"zTXt":
            return TextChunk(ctype, keyword, _inflate(rest[1:]).decode("latin-1"))
        if chunk.type == b"iTXt":
            compressed, body = rest[0], rest[2:]
            _language, _, body = body.partition(b"\x00")
            _translated, _, body = body.partition(b"\x00")
            if compressed:
                body = _inflate(body)
            return TextChunk(ctype, keyword, body.decode("utf-8"))
    except (zlib.error, IndexError, UnicodeDecodeError) as exc:
        raise PngError(f"the {ctype} chunk {keyword!r} cannot be decoded ({exc})") from exc
    raise PngError(f"{ctype} is not a text chunk")


def read_texts(data: bytes) -> tuple[list[TextChunk], PngError | None]:
    """Every text chunk in file order, and the damage that stopped the walk, if any.

    A text chunk that cannot be decoded comes back with its `error`, and a file cut short still
    gives the text chunks before the cut: a card's text often survives damage to the image.
    """
    texts: list[TextChunk] = []
    try:
        for chunk in iter_chunks(data):
            if chunk.type in TEXT_TYPES:
                try:
                    texts.append(read_text(chunk))
                except PngError as exc:
                    keyword = chunk.data.partition(b"\x00")[0][:_MAX_KEYWORD].decode("latin-1")
                    texts.append(TextChunk(chunk.type.decode("latin-1"), keyword, "", str(exc)))
    except PngError as exc:
        return texts, exc
    return texts, None


def replace_texts(data: bytes, remove: Iterable[str], add: Iterable[Chunk]) -> bytes:
    """The PNG with every text chunk whose keyword is in `remove` (any case) dropped, and the
    chunks in `add` inserted just before IEND; everything else is kept byte for byte."""
    drop = {k.lower().encode("latin-1") for k in remove}
    kept = [
        c
        for c in iter_chunks(data)
        if c.type != b"IEND" and not (c.type in TEXT_TYPES and c.data.partition(b"\x00")[0].lower() in drop)
    ]
    return write_png([*kept, *add, Chunk(b"IEND", b"")])


def text_chunk(keyword: str, text: str) -> Chunk:
    """A tEXt chunk, or an iTXt chunk when the text is not Latin-1 (tEXt cannot hold it)."""
    key = keyword.encode("latin-1")
    if not 1 <= len(key) <= _MAX_KEYWORD or b"\x00" in key:
        raise PngError(f"{keyword!r} is not a valid PNG text keyword")
    try:
        return Chunk(b"tEXt", key + b"\x00" + text.encode("latin-1"))
    except UnicodeEncodeError:
        return Chunk(b"iTXt", key + b"\x00\x00\x00\x00\x00" + text.encode("utf-8"))


def write_png(chunks: Iterable[Chunk]) -> bytes:
    """Serialise chunks with their lengths and correct CRCs."""
    out = [SIGNATURE]
    for ctype, data in chunks:
        out.append(struct.pack(">I", len(data)))
        out.append(ctype)
        out.append(data)
        out.append(struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF))
    return b"".join(out)


def _soft(value: int) -> int:
    """Mix a colour channel halfway with white, so the placeholder stays pale whatever the hash."""
    return 128 + value // 2


def placeholder_png(name: str, width: int = 400, height: int = 600) -> bytes:
    """A pale vertical gradient whose colours come from the name's hash.

    A card exported without a picture still needs an image to live in; deriving the colours from
    the name makes every companion's placeholder different yet stable from one export to the next.
    """
    if width < 1 or height < 1:
        raise ValueError("width and height must be positive")
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    top = [_soft(b) for b in digest[0:3]]
    bottom = [_soft(b) for b in digest[3:6]]
    rows = []
    for y in range(height):
        t = y / (height - 1) if height > 1 else 0.0
        pixel = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        rows.append(b"\x00" + pixel * width)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return write_png([Chunk(b"IHDR", ihdr), Chunk(b"IDAT", zlib.compress(b"".join(rows), 9)), Chunk(b"IEND", b"")])
