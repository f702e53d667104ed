"""Where io's text formats read from and write to, and how their bytes are checked as text.

**Inputs.** Every text reader of :mod:`repartition.io` takes a path (``str``,
``os.PathLike``) or a file-like object open for reading, binary (``io.BytesIO``,
``open(path, "rb")``) or text (``io.StringIO``, ``open(path, encoding=...)``).
:func:`source` reads a buffer once, from where it stands, and names it for the errors: a
path as given, a buffer by its ``name`` (an open file's path) or by its type
(``"<BytesIO>"``). A file on disk is read in chunks, so a large export is never held
twice.

**Encodings.** Before any parsing, :func:`scan` checks the bytes: a UTF-16 or UTF-32 file
(a byte-order mark ``FF FE`` or ``FE FF``, or NUL bytes every other byte: what Excel saves
as "Unicode text"), a NUL or another control byte (anything below 0x20 but tab, line feed
and carriage return, and 0x7F), a byte that is not valid UTF-8 in a UTF-8 file, or one
that is no character of Windows-1252 in such a file, is an
:class:`~repartition.errors.EncodingError` naming the file, the line (1-based, counting
``\\n``) and the byte offset (0-based, from the start of the file). Files that may be
Windows-1252 (the DSO's exports, ``legacy=True``) are UTF-8 when the first non-ASCII
bytes of the file are valid UTF-8, and Windows-1252 when they are not; after that
decision, a byte the encoding does not allow is an error, never replaced. A text buffer's
characters are taken as they are (it was decoded by its opener).

**Outputs.** Writers take a path (written atomically, :mod:`repartition._atomic`) or a
writable buffer: binary buffers receive UTF-8 bytes, text buffers (``io.StringIO``, a
file opened in text mode) ``str``. A buffer receives the content only after every value
has been checked, so a refused write leaves it untouched.
"""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NoReturn

from repartition import errors

__all__ = [
    "Input",
    "Readable",
    "Writable",
    "is_buffer",
    "read_text",
    "scan",
    "source",
    "write_blocks",
]

Readable = str | os.PathLike[str] | IO[bytes] | IO[str]
"""A path, or a file-like object open for reading (binary or text)."""
Writable = str | os.PathLike[str] | IO[bytes] | IO[str]
"""A path, or a file-like object open for writing (binary or text)."""

_CHUNK = 1 << 24  # bytes scanned at a time
_CONTROL = bytes([*(b for b in range(32) if b not in (9, 10, 13)), 0x7F])
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL)
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"  # no character of Windows-1252
_SAVE = "Save it as UTF-8 text (in Excel: 'CSV UTF-8'), or export it again."


@dataclass
class Input:
    """One input: a file on disk (read in chunks) or a buffer's content (read once).

    ``label`` names it in messages and ``path`` in the errors' ``path``: the
    :class:`~pathlib.Path` of a file, a buffer's ``name`` or ``"<BytesIO>"``.
    ``encoding`` is set by :func:`scan`.
    """

    label: str
    path: Path | str
    file: Path | None = None
    data: bytes | None = None
    text: bool = False  # the buffer held characters: their encoding is not the file's
    encoding: str = "utf-8"

    def __str__(self) -> str:
        return self.label

    def chunks(self, size: int = _CHUNK) -> Iterator[bytes]:
        """The bytes, ``size`` at a time."""
        if self.data is not None:
            for start in range(0, max(len(self.data), 1), size):
                yield self.data[start : start + size]
            return
        assert self.file is not None
        with open(self.file, "rb") as handle:
            while chunk := handle.read(size):
                yield chunk

    def head(self, size: int = 1 << 20) -> bytes:
        """The first ``size`` bytes."""
        if self.data is not None:
            return self.data[:size]
        assert self.file is not None
        with open(self.file, "rb") as handle:
            return handle.read(size)

    def read_bytes(self) -> bytes:
        """All the bytes."""
        if self.data is not None:
            return self.data
        assert self.file is not None
        return self.file.read_bytes()

    def text_stream(self) -> IO[str]:
        """The content as text in :attr:`encoding`, line endings untranslated."""
        if self.data is not None:
            return io.TextIOWrapper(io.BytesIO(self.data), self.encoding, "replace", newline="")
        assert self.file is not None
        return open(self.file, encoding=self.encoding, errors="replace", newline="")


def is_buffer(obj: object) -> bool:
    """Whether ``obj`` is a file-like object rather than a path."""
    return not isinstance(obj, (str, os.PathLike)) and (
        hasattr(obj, "read") or hasattr(obj, "write")
    )


def buffer_name(obj: object) -> str:
    """A buffer's ``name`` when it has one (an open file's path), else ``"<BytesIO>"``."""
    name = getattr(obj, "name", None)
    if isinstance(name, (str, os.PathLike)) and str(name):
        return str(name)
    return f"<{type(obj).__name__}>"


def source(obj: object, what: str = "file") -> Input:
    """An :class:`Input` for a path or a readable buffer (read now, from where it stands).

    Raises :class:`~repartition.errors.ParameterTypeError` for anything else, and
    :class:`~repartition.errors.EncodingError` for a text buffer whose opener could not
    decode the file, or whose characters are not text (lone surrogates).
    """
    if isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        return Input(str(path), path, file=path)
    if not hasattr(obj, "read"):
        raise errors.ParameterTypeError(
            f"The {what} must be a path (str or os.PathLike) or a file-like object open for "
            f"reading (io.BytesIO, io.StringIO, open(...)), not {type(obj).__name__}."
        )
    label = buffer_name(obj)
    try:
        content = obj.read()
    except UnicodeDecodeError as error:
        raise errors.EncodingError(
            f"{label}: the buffer cannot be read as text ({error.reason} at byte "
            f"{error.start} of what it decoded). Open the file in binary mode "
            "(open(path, 'rb')), so that repartition checks its encoding and names the line.",
            path=label,
            encoding=error.encoding,
        ) from None
    if isinstance(content, str):
        try:
            data = content.encode("utf-8")
        except UnicodeEncodeError as error:
            line = content.count("\n", 0, error.start) + 1
            raise errors.EncodingError(
                f"{label}, line {line}: character {error.start} is not text (a lone "
                f"surrogate {content[error.start]!r}, from bytes decoded with "
                "errors='surrogateescape'?). Open the file in binary mode instead.",
                path=label,
                line=line,
            ) from None
        return Input(label, label, data=data, text=True)
    if isinstance(content, (bytes, bytearray, memoryview)):
        return Input(label, label, data=bytes(content))
    raise errors.ParameterTypeError(
        f"The {what} {label} returned {type(content).__name__} from read(), not bytes or str."
    )


def scan(input: Input, *, legacy: bool = False) -> str:
    """Check that ``input`` is text, and choose its encoding (set on ``input`` too).

    Returns ``"utf-8"`` (a UTF-8 byte-order mark is allowed) or, with ``legacy``,
    ``"cp1252"`` when the first non-ASCII bytes of the file are not valid UTF-8. Raises
    :class:`~repartition.errors.EncodingError` (see the module docstring).
    """
    mode: str | None = "utf-8" if input.text or not legacy else None
    seen_utf8 = False  # a valid non-ASCII UTF-8 sequence was read
    offset = lines = 0  # bytes and line feeds before the current chunk
    carry = b""  # the start of a UTF-8 sequence cut by the end of a chunk
    for number, chunk in enumerate(input.chunks()):
        if number == 0:
            _check_byte_order_mark(input, chunk)
        if chunk.translate(None, _NOT_CONTROL):
            _control(input, chunk, offset, lines)
        if mode == "cp1252":
            _check_cp1252(input, chunk, offset, lines)
        elif carry or not chunk.isascii():
            data, base = carry + chunk, offset - len(carry)  # a carry holds no line feed
            carry = b""
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as error:
                seen_utf8 = seen_utf8 or not data[: error.start].isascii()
                if error.end == len(data) and error.reason == "unexpected end of data":
                    carry = data[error.start :]
                elif mode is None and not seen_utf8:
                    mode = "cp1252"
                    _check_cp1252(input, data, base, lines)
                else:
                    _not_utf8(input, data, base + error.start, base, lines, seen_utf8)
            else:
                seen_utf8 = seen_utf8 or not data.isascii()
        offset += len(chunk)
        lines += chunk.count(b"\n")
    if carry:  # the file ends inside a UTF-8 sequence
        if mode is None and not seen_utf8:
            mode = "cp1252"
            _check_cp1252(input, carry, offset - len(carry), lines)
        else:
            _not_utf8(input, carry, offset - len(carry), offset - len(carry), lines, seen_utf8)
    input.encoding = mode or "utf-8"
    return input.encoding


def read_text(input: Input) -> str:
    """The whole text of a UTF-8 input (a byte-order mark is dropped), checked by :func:`scan`."""
    scan(input)
    return input.read_bytes().decode("utf-8-sig")


def _where(input: Input, at: int, lines: int, chunk: bytes, offset: int) -> tuple[int, str]:
    """The line of byte ``at`` and the text around it, for a message (``chunk`` starts at
    byte ``offset`` and follows ``lines`` line feeds)."""
    inside = max(0, at - offset)
    line = lines + chunk.count(b"\n", 0, inside) + 1
    start = chunk.rfind(b"\n", 0, inside) + 1
    stop = chunk.find(b"\n", inside)
    stop = len(chunk) if stop < 0 else stop
    start = max(start, inside - 30)
    around = chunk[start : min(stop, inside + 10)].decode("utf-8", "replace")
    return line, around.strip("\r")


def _fail(input: Input, text: str, at: int, line: int, encoding: str | None) -> NoReturn:
    raise errors.EncodingError(
        f"{input.label}, line {line}: {text}",
        path=input.path,
        line=line,
        offset=at,
        encoding=encoding,
    )


def _check_byte_order_mark(input: Input, head: bytes) -> None:
    for mark, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if head.startswith(mark):
            _fail(
                input,
                f"this file is {name}: it starts (offset 0) with the byte-order mark "
                f"{mark.hex(' ').upper()}, as Excel's 'Unicode text' does, and is not UTF-8 "
                "text. "
                f"{_SAVE}",
                0,
                1,
                name.lower(),
            )


def _control(input: Input, chunk: bytes, offset: int, lines: int) -> NoReturn:
    found = set(chunk.translate(None, _NOT_CONTROL))
    inside = min(chunk.find(bytes([byte])) for byte in found)
    byte = chunk[inside]
    at = offset + inside
    line, around = _where(input, at, lines, chunk, offset)
    if byte == 0:
        window = chunk[inside - inside % 2 : inside - inside % 2 + 4096]
        odd, even = window[1::2].count(0), window[0::2].count(0)
        if max(odd, even) > len(window) // 4:  # NUL every other byte: UTF-16 without a mark
            _fail(
                input,
                f"this file is UTF-16 (a NUL byte every other byte, from offset {at}), not "
                f"UTF-8 text. {_SAVE}",
                at,
                line,
                "utf-16",
            )
        text = f"the byte at offset {at} is NUL (0x00): a text file holds none, so the file"
        text += " is damaged or not text."
    else:
        text = f"the byte at offset {at} is the control character 0x{byte:02X}, which no"
        text += f" text file of this format holds (near {around!r}): the file is damaged."
    _fail(input, f"{text} Export it again.", at, line, None)


def _check_cp1252(input: Input, chunk: bytes, offset: int, lines: int) -> None:
    positions = [p for p in (chunk.find(bytes([b])) for b in _CP1252_UNDEFINED) if p >= 0]
    if positions:
        at = offset + min(positions)
        line, around = _where(input, at, lines, chunk, offset)
        _fail(
            input,
            f"the byte at offset {at} (0x{chunk[at - offset]:02X}, near {around!r}) is no "
            "character of Windows-1252, the encoding this file is read in (its first "
            f"non-ASCII bytes are not UTF-8): the file is damaged. {_SAVE}",
            at,
            line,
            "cp1252",
        )


def _not_utf8(
    input: Input, chunk: bytes, at: int, offset: int, lines: int, seen_utf8: bool
) -> NoReturn:
    """An invalid UTF-8 byte at ``at`` (``chunk`` starts at byte ``offset``)."""
    line, around = _where(input, at, lines, chunk, offset)
    shown = f" (0x{chunk[at - offset]:02X}, near {around!r})"
    if seen_utf8:
        why = "the file is UTF-8 (its first non-ASCII characters are), so it is damaged"
    else:
        why = "it looks like Windows-1252 or Latin-1, but this format is UTF-8"
    _fail(
        input,
        f"the byte at offset {at}{shown} is not valid UTF-8: {why}. {_SAVE}",
        at,
        line,
        "utf-8",
    )


# ------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------


def check_writable(destination: object, what: str = "destination") -> None:
    """ParameterTypeError unless ``destination`` is a path or a buffer open for writing."""
    if isinstance(destination, (str, os.PathLike)):
        return
    writable = getattr(destination, "writable", None)
    try:
        refused = callable(writable) and not writable()
    except ValueError:  # a closed file
        refused = True
    if not hasattr(destination, "write") or refused:
        raise errors.ParameterTypeError(
            f"The {what} must be a path or a file-like object open for writing "
            "(not closed) "
            f"(io.BytesIO, io.StringIO, open(..., 'wb')), not {type(destination).__name__}."
        )


def is_text_buffer(buffer: object) -> bool:
    """Whether a writable buffer takes ``str`` (``io.StringIO``, a text-mode file)."""
    return isinstance(buffer, io.TextIOBase) or (
        not isinstance(buffer, (io.RawIOBase, io.BufferedIOBase)) and hasattr(buffer, "encoding")
    )


def write_blocks(buffer: Any, blocks: Iterable[bytes]) -> None:
    """Write UTF-8 ``blocks`` to a writable buffer, as ``str`` for a text buffer."""
    text = is_text_buffer(buffer)
    for block in blocks:
        buffer.write(block.decode("utf-8") if text else block)
