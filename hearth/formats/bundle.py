"""One view over what a person hands us: a single file, a zip, or a folder.

Readers see named entries and open them as byte streams; nothing is extracted to disk, so a zip
member's name can never escape anywhere. Every stream counts the bytes read through it, which is
what the progress bar shows and where a JSON error is reported.
"""

from __future__ import annotations

import io
import lzma
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from hearth.errors import CorruptInput, EncryptedInput, InputNotFound, UnsupportedInput

Progress = Callable[[int], None]
"""Called with the number of bytes just read."""

JSON_BUFFER = 4 << 20
"""Read size for ijson. Its C backend joins a long string chunk by chunk, so a 100 MB message
costs minutes with the default 64 KB buffer and under a second with this one."""

JSON_FIRST_READ = 64 << 10
"""…but it also builds every item a chunk completes before handing out the first, so 4 MB chunks
of ordinary conversations hold ~25 MB of parsed objects at once. `stream_json_items` reads this
much while items keep completing and doubles each read (up to JSON_BUFFER) while one does not."""


def json_int(digits: str) -> int | float:
    """`parse_int` for the stdlib `json` fallbacks: a number as orjson reads it (an int within
    64 bits, else a float), so no int reaches the store that it cannot write, and Python's
    4300-digit limit on `int()` is never hit."""
    if len(digits) <= 20:
        value = int(digits)
        if -(2**63) <= value < 2**64:
            return value
    return float(digits)


MAX_RATIO = 200
"""A member that inflates more than this much (and past MAX_RATIO_FLOOR bytes) is a zip bomb;
real exports compress JSON 5-20×."""
MAX_RATIO_FLOOR = 64 << 20
MAX_UNZIPPED = int(os.environ.get("HEARTH_MAX_UNZIPPED_BYTES", str(200 << 30)))
"""Refuse a zip that claims to unpack to more than this (200 GiB by default)."""


class CountingReader(io.RawIOBase):
    """A read-only stream that reports every byte that passes through it."""

    def __init__(self, raw: BinaryIO, progress: Progress | None = None) -> None:
        self._raw = raw
        self._progress = progress
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.position += n
        if self._progress and n:
            self._progress(n)
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.position += len(data)
        if self._progress and data:
            self._progress(len(data))
        return data

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclass(frozen=True)
class Entry:
    """A file inside the bundle."""

    name: str
    """Posix path relative to the bundle root (the member name for a zip)."""
    size: int
    _open: Callable[[], BinaryIO]

    @property
    def basename(self) -> str:
        return PurePosixPath(self.name).name

    def open(self, progress: Progress | None = None) -> CountingReader:
        return CountingReader(self._open(), progress)

    def read_bytes(self, progress: Progress | None = None) -> bytes:
        with self.open(progress) as stream:
            return stream.read()

    def head(self, n: int = 65536) -> bytes:
        with self._open() as stream:
            return stream.read(n)


class Bundle:
    """The entries of a file, zip or folder, with a label for messages."""

    def __init__(self, path: Path, kind: str, entries: list[Entry], closer: Callable[[], None] | None = None):
        self.path = path
        self.kind = kind
        self.entries = entries
        self._closer = closer

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closer:
            self._closer()
            self._closer = None

    def find(self, predicate: Callable[[Entry], bool]) -> list[Entry]:
        return [e for e in self.entries if predicate(e)]

    def label(self, entry: Entry) -> str:
        """How to name an entry in a message a person reads."""
        if self.kind == "file":
            return str(self.path)
        return f"{self.path} ({entry.name})"


_ZIP_DAMAGE = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, NotImplementedError, RuntimeError, OSError)
"""What reading a damaged zip member raises: bad header or CRC, torn deflate data, an unsupported
compression method, a password, or a read error."""


class _ZipMember(io.RawIOBase):
    """A zip member's stream whose damage surfaces as a CorruptInput naming the zip and member."""

    def __init__(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: Path) -> None:
        self._where = f"{where} ({info.filename})"
        try:
            self._raw = zf.open(info)
        except _ZIP_DAMAGE as exc:
            raise self._damaged(exc) from exc

    def _damaged(self, exc: BaseException) -> CorruptInput:
        return CorruptInput(
            f"{self._where} cannot be unpacked: the zip file is damaged ({exc}).",
            hint="Download the export again, or unzip it with another tool and import the folder.",
        )

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            return self._raw.read(size)
        except _ZIP_DAMAGE as exc:
            raise self._damaged(exc) from exc

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def _file_entry(path: Path, name: str) -> Entry:
    return Entry(name=name, size=path.stat().st_size, _open=lambda: open(path, "rb"))


def _walk_folder(root: Path) -> Iterator[Entry]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for fname in sorted(filenames):
            full = Path(dirpath) / fname
            if full.is_symlink() or not full.is_file():
                continue
            yield _file_entry(full, full.relative_to(root).as_posix())


def _check_bomb(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED:
        raise CorruptInput(
            f"{path} claims to unpack to {total / 2**30:,.1f} GiB, "
            f"more than hearth accepts ({MAX_UNZIPPED / 2**30:,.0f} GiB).",
            hint="If this really is your export, set HEARTH_MAX_UNZIPPED_BYTES higher.",
        )
    for i in infos:
        if i.file_size > MAX_RATIO_FLOOR and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise CorruptInput(
                f"{path} looks like a zip bomb: {i.filename} inflates {i.file_size // max(i.compress_size, 1):,}× "
                f"to {i.file_size / 2**20:,.0f} MiB.",
                hint="hearth refuses it to protect your disk and memory; real exports compress far less.",
            )


ARCHIVE_PASSPHRASE = "HEARTH_ARCHIVE_PASSPHRASE"


def _open_encrypted(path: Path) -> zipfile.ZipFile:
    """A password-protected zip (AES, as `hearth export --encrypt` writes, or classic ZipCrypto),
    opened with the passphrase from HEARTH_ARCHIVE_PASSPHRASE and checked on its smallest member."""
    import pyzipper

    zf = pyzipper.AESZipFile(path)
    files = [i for i in zf.infolist() if not i.is_dir()]
    locked = next((i.filename for i in files if i.flag_bits & 0x1), "")
    passphrase = os.environ.get(ARCHIVE_PASSPHRASE)
    if not passphrase:
        zf.close()
        raise EncryptedInput(f"{path} is password-protected ({locked} is encrypted).",
                             hint=f"Set {ARCHIVE_PASSPHRASE} to its passphrase.")  # fmt: skip
    zf.setpassword(passphrase.encode())
    if files:
        try:
            with zf.open(min(files, key=lambda i: i.file_size)) as probe:
                probe.read(1)
        except RuntimeError as exc:  # pyzipper's "Bad password for file"
            zf.close()
            raise EncryptedInput(f"The passphrase does not open {path}.",
                                 hint=f"Check {ARCHIVE_PASSPHRASE}.") from exc  # fmt: skip
    return zf


def is_encrypted_zip(path: Path) -> bool:
    """Whether importing `path` needs a passphrase (any member encrypted)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return any(i.flag_bits & 0x1 for i in zf.infolist())
    except (zipfile.BadZipFile, OSError):
        return False


def open_bundle(path: Path) -> Bundle:
    """Open a file, zip or folder; raise a clear error when it is none of those."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputNotFound(f"{path} does not exist.", hint="Check the path; quote it if it has spaces.")
    if path.is_dir():
        return Bundle(path, "dir", list(_walk_folder(path)))
    if not os.access(path, os.R_OK):
        raise InputNotFound(f"{path} cannot be read (permission denied).", hint="Check the file's permissions.")
    if zipfile.is_zipfile(path):
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise CorruptInput(f"{path} is a damaged zip file: {exc}.", hint="Download the export again.") from exc
        infos = [info for info in zf.infolist() if not info.is_dir()]
        try:
            _check_bomb(path, infos)
            if any(info.flag_bits & 0x1 for info in infos):
                zf.close()
                zf = _open_encrypted(path)
                infos = [info for info in zf.infolist() if not info.is_dir()]
        except (CorruptInput, EncryptedInput):
            zf.close()
            raise
        entries = [
            Entry(name=info.filename, size=info.file_size, _open=(lambda i=info: _ZipMember(zf, i, path)))
            for info in infos
        ]
        return Bundle(path, "zip", entries, zf.close)
    if path.suffix.lower() == ".zip":
        raise CorruptInput(
            f"{path} ends in .zip but is not a readable zip file (truncated download?).",
            hint="Download the export again, or unzip it and import the folder.",
        )
    if not path.is_file():
        raise UnsupportedInput(f"{path} is not a regular file.")
    return Bundle(path, "file", [_file_entry(path, path.name)])


def json_error(bundle: Bundle, entry: Entry, offset: int, exc: Exception) -> CorruptInput:
    """The one error for a broken JSON member, naming the file and the byte offset."""
    return CorruptInput(
        f"{bundle.label(entry)} is not valid JSON near byte {offset:,} ({exc}).",
        hint="The export is truncated or damaged; download it again. What was read before this point is kept.",
        offset=offset,
    )


class _GrowingReads:
    """What ijson reads from: JSON_FIRST_READ bytes a call while items keep completing, twice the
    last read while none has since (a long item), never more than JSON_BUFFER. ijson takes a short
    read as it takes any: it asks for JSON_BUFFER and parses what comes."""

    def __init__(self, stream: CountingReader) -> None:
        self._stream = stream
        self.size = JSON_FIRST_READ
        self.waiting = False
        """True from a read until the next item is handed out."""

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson's probe for bytes or text
            return self._stream.read(0)
        if self.waiting:
            self.size = min(self.size * 2, JSON_BUFFER)
        self.waiting = True
        return self._stream.read(self.size)

    def item_done(self) -> None:
        self.waiting = False
        self.size = JSON_FIRST_READ


def stream_json_items(bundle: Bundle, entry: Entry, progress: Progress | None) -> Iterator[object]:
    """The elements of a top-level JSON array (or the one top-level object), one at a time."""
    import ijson

    stream = entry.open(progress)
    try:
        prefix = "" if entry.head(4096).lstrip()[:1] == b"{" else "item"
        reads = _GrowingReads(stream)
        try:
            for item in ijson.items(reads, prefix, use_float=True, buf_size=JSON_BUFFER):
                reads.item_done()
                yield item
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            raise json_error(bundle, entry, stream.position, exc) from exc
    finally:
        stream.close()


def load_json(bundle: Bundle, entry: Entry, progress: Progress | None) -> object:
    """A small JSON member read whole (user.json, projects.json …)."""
    import orjson

    data = entry.read_bytes(progress)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise json_error(bundle, entry, exc.pos, exc) from exc
