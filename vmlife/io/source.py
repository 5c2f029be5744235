"""The one input layer: bytes in from anywhere, text and bounded JSON/CSV out, or an InputError.

Every vmlife reader gets its input here, so every reader accepts the same things and refuses
the same things with the same kind of message.

What a *source* may be: a path (``"-"`` for standard input), an open text or binary stream, or
``bytes``. Readers that also take parsed JSON handle that before calling in here.

**Encodings.** A byte-order mark decides: UTF-8 (``EF BB BF``: what ``Out-File -Encoding utf8``
writes), UTF-16 LE/BE (``FF FE`` / ``FE FF``: what Windows PowerShell 5.1 writes for ``>``) and
UTF-32 LE/BE. Without a mark the text is UTF-8, unless its first bytes are ASCII interleaved
with NULs, which is read as UTF-16 without a mark (vmlife's choice: JSON, CSV and JSON Lines
start with an ASCII character, so the pattern is unambiguous). Whole-file readers decode
strictly: a byte that is not valid in the detected encoding is an :class:`InputError` naming the
encoding, the line and the byte offset. Streaming readers (Activity Logs, snapshots) decode the
stream once with the detected encoding and replace undecodable bytes with U+FFFD, so one bad
byte costs at most the record holding it, not the whole log.

**Bounds** (each refusal is an :class:`InputError`, never ``RecursionError``,
``ValueError: Exceeds the limit`` or ``OverflowError``):

* JSON nesting deeper than :data:`MAX_DEPTH` levels;
* a JSON integer of more than :data:`MAX_NUMBER_CHARS` characters, a JSON number with a
  fraction or exponent of more than :data:`MAX_NUMBER_CHARS` characters, or one whose value is
  not finite as a float (``1e400``);
* ``NaN``, ``Infinity`` and ``-Infinity``, which are not JSON (RFC 8259, section 6) although
  Python's ``json`` module writes and reads them;
* a CSV field longer than :data:`MAX_CSV_FIELD` characters (the ``csv`` module's default limit,
  which vmlife does not change because it is process-wide).

**Where.** Errors name the source (the path, ``<stdin>``, ``<stream>`` or ``<data>``), the
record (1-based: ``line N`` for text positions, ``record N`` for the N-th data row of a CSV file
or the N-th item of a JSON list) and the field when there is one.

Example:
    >>> from vmlife.io.source import read_json
    >>> read_json(b'\\xef\\xbb\\xbf{"a": [1, 2.5]}', name="x.json").value
    {'a': [1, 2.5]}
    >>> read_json('{"a": NaN}'.encode(), name="x.json").value
    Traceback (most recent call last):
    ...
    vmlife.errors.InputError: x.json, line 1: not valid JSON: NaN is not a JSON number
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, cast

from ..errors import InputError

__all__ = [
    "MAX_CSV_FIELD",
    "MAX_DEPTH",
    "MAX_NUMBER_CHARS",
    "ByteSource",
    "Json",
    "Text",
    "close_text",
    "csv_records",
    "decode",
    "loads",
    "loads_many",
    "name_of",
    "open_text",
    "read_bytes",
    "read_json",
    "read_text",
    "sniff",
]

#: What :func:`read_bytes` and :func:`open_text` take.
ByteSource = str | os.PathLike[str] | IO[str] | IO[bytes] | bytes | bytearray

#: Deepest JSON nesting read (an instance view nests about 6 levels; a List All page 8).
MAX_DEPTH = 200
#: Longest JSON number read, in characters (a float has 17 significant digits).
MAX_NUMBER_CHARS = 100
#: Longest CSV field read, in characters (the ``csv`` module's default limit).
MAX_CSV_FIELD = 131_072

# Longest byte-order marks first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True, slots=True)
class Text:
    """Decoded text and where it came from.

    Attributes:
        text: the text, without its byte-order mark.
        name: the source's name for messages.
        encoding: the encoding it was decoded from (``"utf-8"``, ``"utf-16-le"``, ...).
    """

    text: str
    name: str
    encoding: str


@dataclass(frozen=True, slots=True)
class Json:
    """A parsed JSON document and where it came from (see :class:`Text`)."""

    value: Any
    name: str
    encoding: str


def name_of(source: object, name: str | None = None) -> str:
    """The name messages use for a source: ``name`` if given, the path, ``<stdin>`` for ``-``,
    a stream's ``name``, else ``<stream>`` (``<data>`` for bytes)."""
    if name is not None:
        return name
    if isinstance(source, str | os.PathLike):
        text = os.fspath(source)
        return "<stdin>" if text == "-" else str(text)
    if isinstance(source, bytes | bytearray):
        return "<data>"
    fname = getattr(source, "name", None)
    return fname if isinstance(fname, str) else "<stream>"


def sniff(head: bytes) -> tuple[str, int]:
    """The encoding of bytes starting with ``head`` and the length of its byte-order mark."""
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return enc, len(bom)
    if len(head) >= 4:
        if head[0] and not head[1] and head[2] and not head[3]:
            return "utf-16-le", 0
        if not head[0] and head[1] and not head[2] and head[3]:
            return "utf-16-be", 0
    return "utf-8", 0


def decode(data: bytes, *, name: str = "<data>") -> Text:
    """Decode bytes strictly in the encoding their byte-order mark (or lack of one) gives.

    Raises:
        InputError: a byte sequence invalid in that encoding (names the encoding, the line and
            the byte offset).
    """
    enc, skip = sniff(bytes(data[:4]))
    try:
        text = codecs.decode(bytes(data[skip:]), enc)
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        good = bytes(data[skip : offset - (offset - skip) % _unit(enc)])
        line = codecs.decode(good, enc, errors="replace").count("\n") + 1
        shown = ("with a byte-order mark" if skip else "without a byte-order mark")
        raise InputError(
            f"not valid {enc.upper()} text ({shown}): {exc.reason} at byte {offset} "
            f"(0x{data[offset]:02x}); save the file as UTF-8 or UTF-16 with a byte-order mark",
            source=name,
            record=f"line {line}",
        ) from None
    return Text(text, name, enc)


def _unit(enc: str) -> int:
    return 4 if "32" in enc else 2 if "16" in enc else 1


def read_bytes(source: ByteSource, *, name: str | None = None) -> tuple[bytes | str, str]:
    """All of a source: bytes (or text, for a text stream) and its name.

    Raises:
        InputError: the path cannot be read (names the OS error).
    """
    src = name_of(source, name)
    if isinstance(source, bytes | bytearray):
        return bytes(source), src
    if isinstance(source, str | os.PathLike):
        if os.fspath(source) == "-":
            stream: Any = sys.stdin
            buf = getattr(stream, "buffer", None)
            return (buf.read() if buf is not None else stream.read()), src
        try:
            with open(source, "rb") as fh:
                return fh.read(), src
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", source=src) from exc
    try:
        data = source.read()
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", source=src) from exc
    except UnicodeDecodeError as exc:  # a text stream the caller opened with an encoding
        raise InputError(f"not valid text in the stream's encoding: {exc.reason}",
                         source=src) from None
    return data, src


def read_text(source: ByteSource, *, name: str | None = None) -> Text:
    """The whole text of a source, decoded as :func:`decode` does (text streams as they are).

    Raises:
        InputError: the source cannot be read or decoded.
    """
    data, src = read_bytes(source, name=name)
    if isinstance(data, str):
        return Text(data[1:] if data.startswith("\ufeff") else data, src, "text")
    return decode(data, name=src)


def open_text(
    source: ByteSource, *, name: str | None = None
) -> tuple[IO[str], str, str, bool]:
    """A text stream over a source, decoded once with the encoding its byte-order mark gives.

    Undecodable bytes become U+FFFD (see the module docstring). The caller closes the stream
    when ``owned`` is true (a file vmlife opened); a stream the caller gave stays open (its
    wrapper is detached by :func:`close_text`).

    Returns:
        ``(stream, name, encoding, owned)``.

    Raises:
        InputError: the path cannot be read.
    """
    src = name_of(source, name)
    if isinstance(source, bytes | bytearray):
        return (*_wrap(io.BytesIO(bytes(source)), src), True)
    if isinstance(source, str | os.PathLike):
        if os.fspath(source) == "-":
            buf = getattr(sys.stdin, "buffer", None)
            if buf is None:
                return sys.stdin, src, "text", False
            stream, _, enc = _wrap(buf, src)
            return stream, src, enc, False
        try:
            raw = open(source, "rb")
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", source=src) from exc
        return (*_wrap(raw, src), True)
    if isinstance(source.read(0), bytes):
        stream, _, enc = _wrap(cast(IO[bytes], source), src)
        return stream, src, enc, False
    return cast(IO[str], source), src, "text", False


def close_text(stream: IO[str], owned: bool) -> None:
    """Close what :func:`open_text` opened, leaving a caller's own stream open."""
    if owned:
        stream.close()
    elif isinstance(stream, _Stream):
        try:
            inner = stream.detach()
        except ValueError:  # already detached
            return
        if stream.own_buffer and isinstance(inner, io.BufferedReader):
            inner.detach()


class _Stream(io.TextIOWrapper):
    """A text wrapper that knows whether it added a buffer of its own under the caller's."""

    own_buffer = False


def _wrap(raw: IO[bytes], src: str) -> tuple[IO[str], str, str]:
    peek = getattr(raw, "peek", None)
    own = False
    if callable(peek):
        head = bytes(peek(4)[:4])
    elif raw.seekable():
        pos = raw.tell()
        head = bytes(raw.read(4))
        raw.seek(pos)
    else:
        raw = io.BufferedReader(cast(Any, raw))
        head = bytes(raw.peek(4)[:4])
        own = True
    enc, skip = sniff(head)
    if skip:
        raw.read(skip)
    stream = _Stream(cast(Any, raw), encoding=enc, errors="replace", newline=None)
    stream.own_buffer = own
    return stream, src, enc


# ---------------------------------------------------------------------- JSON
class _Refused(ValueError):
    """A value the bounded JSON decoder refuses (never leaves this module)."""


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"an integer of {len(text)} digits (at most {MAX_NUMBER_CHARS} are read)")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"a number of {len(text)} characters (at most {MAX_NUMBER_CHARS} are read)")
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:20]} is out of range")
    return value


def _parse_constant(text: str) -> Any:
    raise _Refused(f"{text} is not a JSON number")


_DECODER = json.JSONDecoder(
    parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
)
_DEPTH = str.maketrans({"[": "(", "{": "(", "]": ")", "}": ")"})


def _too_deep(text: str) -> bool:
    """Whether brackets nest deeper than :data:`MAX_DEPTH` (brackets in strings count too,
    so this only ever says no when the JSON is surely shallow enough)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = top = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            if depth > top:
                top = depth
                if top > MAX_DEPTH:
                    return True
        elif ch in "]}":
            depth -= 1
        elif ch == '"':
            return _too_deep_slow(text)
    return False


def _too_deep_slow(text: str) -> bool:
    depth = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def loads(text: str, *, name: str = "<data>", record: Any = None, field: str | None = None) -> Any:
    """Parse JSON text within the bounds of the module docstring.

    Args:
        text: the JSON text.
        name: the source's name for messages.
        record: where the text is (e.g. ``"record 3"``); by default the line of the error.
        field: the field that held the text, when it was a string inside another record.

    Raises:
        InputError: not JSON, or beyond a bound.
    """
    if _too_deep(text):
        raise InputError(f"not read: JSON nested deeper than {MAX_DEPTH} levels", source=name,
                         record=record, field=field)
    try:
        value, end = _DECODER.raw_decode(text, _skip_ws(text, 0))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (column {exc.colno})", source=name,
                         record=record or f"line {exc.lineno}", field=field) from None
    except _Refused as exc:
        raise InputError(f"not valid JSON: {exc}", source=name,
                         record=record or _line_of(text, str(exc)), field=field) from None
    except RecursionError:
        raise InputError("not read: JSON nested too deeply", source=name, record=record,
                         field=field) from None
    end = _skip_ws(text, end)
    if end != len(text):
        raise InputError("not valid JSON: extra data after the document", source=name,
                         record=record or f"line {text.count(chr(10), 0, end) + 1}",
                         field=field)
    return value


def loads_many(text: str, *, name: str = "<data>") -> list[Any]:
    """Parse one or more JSON documents written one after another (pages concatenated, or
    JSON Lines), within the bounds of the module docstring.

    ``{"Items": [...]}{"Items": [...]}`` and the same with newlines between the documents both
    give two documents. A document that does not parse is an :class:`InputError` naming its
    line: past it there is no telling where the next one starts.

    Raises:
        InputError: no document, not JSON, or beyond a bound.
    """
    if _too_deep(text):
        raise InputError(f"not read: JSON nested deeper than {MAX_DEPTH} levels", source=name)
    out: list[Any] = []
    pos = _skip_ws(text, 0)
    while pos < len(text):
        line = text.count("\n", 0, pos) + 1
        try:
            value, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc.msg} (column {exc.colno})", source=name,
                             record=f"line {exc.lineno}") from None
        except _Refused as exc:
            raise InputError(f"not valid JSON: {exc}", source=name,
                             record=f"line {line}") from None
        except RecursionError:
            raise InputError("not read: JSON nested too deeply", source=name,
                             record=f"line {line}") from None
        out.append(value)
        pos = _skip_ws(text, pos)
    if not out:
        raise InputError("empty: expected JSON", source=name)
    return out


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _line_of(text: str, reason: str) -> str:
    """The line of a refused number or constant: the first place its text appears."""
    for word in ("NaN", "-Infinity", "Infinity"):
        if reason.startswith(word):
            pos = text.find(word)
            return f"line {text.count(chr(10), 0, max(pos, 0)) + 1}"
    return "line 1" if "\n" not in text else "the document"


def read_json(source: ByteSource, *, name: str | None = None) -> Json:
    """Read and parse a whole JSON source (see :func:`read_text` and :func:`loads`).

    Raises:
        InputError: unreadable, undecodable, empty, not JSON, or beyond a bound.
    """
    text = read_text(source, name=name)
    if not text.text.strip():
        raise InputError("empty: expected JSON", source=text.name)
    try:
        value = loads(text.text, name=text.name)
    except InputError as exc:
        if text.encoding not in ("utf-8", "text"):
            raise InputError(f"{exc.reason} (read as {text.encoding.upper()})",
                             source=exc.source, record=exc.record, field=exc.field) from None
        raise
    return Json(value, text.name, text.encoding)


# ---------------------------------------------------------------------- CSV
def csv_records(text: Text) -> Iterator[tuple[int, dict[str, str | None]]]:
    """The data rows of CSV text as dicts keyed by the header, numbered from 1.

    Missing trailing fields are None. Blank rows are skipped (they keep their number).

    Raises:
        InputError: no header, a field longer than :data:`MAX_CSV_FIELD`, a NUL byte, broken
            quoting, or a row with more fields than the header (naming the record).
    """
    reader = csv.reader(io.StringIO(text.text, newline=""))
    record = 0
    try:
        header = next(reader, None)
        if header is None:
            raise InputError("empty: expected a CSV header", source=text.name, record="header")
        header = [h.strip() for h in header]
        for row in reader:
            record += 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                raise InputError(
                    f"{len(row)} fields but the header has {len(header)}",
                    source=text.name, record=record,
                )
            yield record, {h: (row[i] if i < len(row) else None) for i, h in enumerate(header)}
    except csv.Error as exc:
        where: Any = "header" if record == 0 else record + 1
        reason = str(exc)
        if "field larger than field limit" in reason:
            reason = f"a field longer than {MAX_CSV_FIELD} characters"
        raise InputError(f"not valid CSV: {reason}", source=text.name, record=where) from None
