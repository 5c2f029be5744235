"""What the readers of real histories share: records out of JSON files, anomalies, counts.

A *history* is a VM's past as Azure recorded it: an Activity Log (:mod:`vmlife.io.activity_log`)
or polled instance views (:mod:`vmlife.io.snapshots`). Both readers take records from
:func:`iter_records` and return a :class:`Reconstruction`: one
:class:`~vmlife.timeline.Timeline` per VM, the **anomalies** (records that could not be used,
each with where it was and why) and the **counts**, which always reconcile::

    read = used + duplicates + anomalies + ignored

Files are read as a stream, so memory grows with what is kept, not with the file:

* **JSON Lines** (one JSON value per line): line by line. A line that is not JSON is an
  anomaly, not the end of the read. A line may also hold a list of records or an object with
  a ``records`` or ``value`` list (an Event Hubs message body is ``{"records": [...]}``).
* **One JSON document**: an array of records, or an object holding them under ``value`` (the
  REST API's page) or ``records`` (the storage and Event Hubs export). The elements are decoded
  one at a time with the standard library's ``json.JSONDecoder.raw_decode`` over a sliding
  buffer, so a large array is never held whole. A syntax error here ends the read with an
  :class:`~vmlife.errors.InputError`: past it there is no telling where the next record starts.

* **CSV** with an ``OperationNameValue`` column: the Log Analytics portal's export of the
  ``AzureActivity`` table, one record per data row (``record N`` from 1).
* **Parquet** (a file starting with ``PAR1``): rows of ``pandas.json_normalize(events)``
  written out, read batch by batch with pyarrow (:mod:`vmlife.io.parquet`).

The encoding of a text file is decided once, by its byte-order mark (:mod:`vmlife.io.source`):
UTF-8 with or without one, UTF-16 and UTF-32 are read.

A progress bar (tqdm) is shown on standard error while reading a file, only when standard
error is a terminal, ``quiet`` is false and tqdm is installed; it is never a dependency.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import sys
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, cast

from ..errors import InputError
from ..timeline import FORMAT, Timeline, load_timelines
from ..timeutil import TimeLike
from .parquet import MAGIC as PARQUET_MAGIC
from .parquet import iter_parquet
from .source import ByteSource, close_text, open_text, read_bytes, sniff

if TYPE_CHECKING:  # pragma: no cover
    from .inventory import Inventory

__all__ = [
    "HISTORY_FORMATS",
    "Anomaly",
    "Counts",
    "LineDecoder",
    "Progress",
    "RawRecord",
    "Reconstruction",
    "Source",
    "first_record",
    "iter_records",
    "read_history",
    "read_input",
    "rewindable",
    "source_name",
    "with_inventory",
]

#: What the readers accept: a path (``"-"`` for standard input), an open file (text or
#: binary), or JSON already parsed (a list of records, or an object holding them).
Source = str | os.PathLike[str] | IO[str] | IO[bytes] | Sequence[Any] | Mapping[str, Any]

#: A reader's fast path for JSON Lines: lines in, one typed record or None per line out
#: (see iter_records).
LineDecoder = Callable[[list[str]], list[Any]]

_CHUNK = 1 << 20
#: A single record larger than this (in characters) ends the read: it is either not a record or
#: the document is broken, and reading on would hold the rest of the file in memory.
MAX_RECORD_CHARS = 64 << 20
_WS = " \t\n\r"
_ENVELOPE_KEYS = ("value", "records")


@dataclass(slots=True)
class RawRecord:
    """One record as read, before any reader looked at its fields (read-only by convention:
    not frozen, as that makes each of a large log's records several times dearer to make).

    Attributes:
        index: 0-based position among all records read from the source.
        where: where it is, for people: ``"line 12"``, ``"line 3, records[1]"``,
            ``"$.value[7]"``.
        value: the parsed JSON value (normally an object); None when ``problem`` is set.
        problem: why the record could not be parsed (a JSON Lines line that is not JSON).
    """

    index: int
    where: str
    value: Any = None
    problem: str | None = None


@dataclass(frozen=True)
class Anomaly:
    """A record, or a group of records, that could not be used, and why.

    Attributes:
        record: where the (first) record is: ``"line 12"``, ``"$.value[7]"``.
        index: the 0-based position of that record among all records read.
        vm: the VM it concerns, when known.
        reason: what was wrong, in words.
        field: the field at fault, when one is.
        records: how many records this anomaly covers (an operation's Started, Accepted and
            Failed events make one anomaly of three records).
    """

    record: str
    index: int
    vm: str | None
    reason: str
    field: str | None = None
    records: int = 1

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "record": self.record,
            "index": self.index,
            "vm": self.vm,
            "field": self.field,
            "reason": self.reason,
            "records": self.records,
        }


@dataclass
class Counts:
    """How many records went where; :attr:`reconciles` checks that none was lost or doubled.

    Attributes:
        read: records read from the source.
        used: records that made the timelines.
        duplicates: records dropped as copies of one already read.
        anomalies: records in an :class:`Anomaly`.
        ignored: well-formed records about something else (another resource type, an operation
            no loaded plugin maps, an event category vmlife does not read).
        guard_noted: of the ``used`` records, those of operations a plugin's guard would have
            refused: a replayed history is a fact, so they were recorded, with the guard's
            reason as a note on the step (:attr:`vmlife.timeline.Step.notes`). Not a term of
            the reconciliation: these records are counted in ``used``.
    """

    read: int = 0
    used: int = 0
    duplicates: int = 0
    anomalies: int = 0
    ignored: int = 0
    guard_noted: int = 0

    @property
    def reconciles(self) -> bool:
        """True when ``read == used + duplicates + anomalies + ignored``."""
        return self.read == self.used + self.duplicates + self.anomalies + self.ignored

    def as_dict(self) -> dict[str, int]:
        """A JSON-ready dict."""
        return {
            "read": self.read,
            "used": self.used,
            "duplicates": self.duplicates,
            "anomalies": self.anomalies,
            "ignored": self.ignored,
            "guard_noted": self.guard_noted,
        }


@dataclass
class Reconstruction:
    """Timelines rebuilt from a history, with what could not be used.

    Attributes:
        source: the file name (or ``"<data>"``, ``"<stdin>"``).
        kind: ``"activity_log"``, ``"snapshots"`` or ``"timelines"`` (a vmlife timeline file,
            read by :func:`read_input`).
        format: the record shape read: ``"rest"``, ``"export"``, ``"mixed"`` (Activity Log)
            or ``"snapshots"``.
        timelines: one per VM, sorted by VM name.
        anomalies: in the order found.
        counts: see :class:`Counts`.
        notes: what the input cannot show (guest-OS shutdowns are not in the Activity Log).
        initial: per VM, the state assumed before its first record (a power-state id, or None
            for "no VM"), and whether it was inferred or given.
        unknown_codes: status codes no loaded plugin knows, with how often they were seen.
    """

    source: str
    kind: str
    format: str
    timelines: list[Timeline] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    notes: list[str] = field(default_factory=list)
    initial: dict[str, dict[str, Any]] = field(default_factory=dict)
    unknown_codes: dict[str, int] = field(default_factory=dict)

    def timeline(self, vm: str) -> Timeline:
        """The timeline of one VM, by name (case-insensitive).

        Raises:
            KeyError: no such VM (the message lists them).
        """
        for tl in self.timelines:
            if tl.vm.lower() == vm.lower():
                return tl
        raise KeyError(f"no VM {vm!r}; VMs: {', '.join(t.vm for t in self.timelines)}")

    def to_dict(self) -> dict[str, Any]:
        """The timeline file format of :mod:`vmlife.timeline`, plus this reconstruction's keys.

        :func:`vmlife.load_timelines` reads it back (it ignores the extra keys ``source``,
        ``kind``, ``input_format``, ``anomalies``, ``counts``, ``notes``, ``initial`` and
        ``unknown_codes``).
        """
        return {
            "format": FORMAT,
            "version": 1,
            "timelines": [t.to_dict() for t in self.timelines],
            "source": self.source,
            "kind": self.kind,
            "input_format": self.format,
            "anomalies": [a.as_dict() for a in self.anomalies],
            "counts": self.counts.as_dict(),
            "notes": list(self.notes),
            "initial": {k: dict(v) for k, v in self.initial.items()},
            "unknown_codes": dict(self.unknown_codes),
        }

    def require_usable(self) -> Reconstruction:
        """This reconstruction, if any record in it could be used; the commands call it so an
        input of which nothing is usable exits with status 2 rather than an empty bill.

        Raises:
            InputError: no timeline came out: the input held no records, or every record was
                an anomaly or about something else (says which, with the first anomaly).
        """
        if self.timelines:
            return self
        c = self.counts
        if self.kind == "timelines":
            reason = "the timeline file holds no timelines"
        elif c.read == 0:
            reason = "no records in the input"
        else:
            reason = (f"no record could be used: {c.read} read, {c.anomalies} in anomalies, "
                      f"{c.ignored} about other resources or operations no plugin maps")
            if self.anomalies:
                a = self.anomalies[0]
                field = f", field {a.field!r}" if a.field else ""
                reason += f"; first anomaly ({a.record}{field}): {a.reason}"
        raise InputError(reason, source=self.source)

    def to_json(self, **kw: Any) -> str:
        """JSON text of :meth:`to_dict` (indented by 2 unless told otherwise)."""
        kw.setdefault("indent", 2)
        return json.dumps(self.to_dict(), **kw)

    def __repr__(self) -> str:
        c = self.counts
        return (
            f"<Reconstruction {self.kind} {self.source!r}: {len(self.timelines)} VMs, "
            f"{c.read} records read, {c.used} used, {c.duplicates} duplicates, "
            f"{c.anomalies} in {len(self.anomalies)} anomalies, {c.ignored} ignored>"
        )


# ---------------------------------------------------------------------- progress
class Progress:
    """A tqdm bar on standard error, or nothing.

    The bar shows only when ``enabled`` is true, standard error is a terminal and tqdm can be
    imported; otherwise every method does nothing. Use it as a context manager.
    """

    def __init__(self, total: float | None, desc: str, *, unit: str, enabled: bool) -> None:
        self._bar: Any = None
        if not enabled or not _stderr_is_tty():
            return
        try:
            tqdm = importlib.import_module("tqdm").tqdm
        except ImportError:
            return
        self._bar = tqdm(
            total=total,
            desc=desc,
            unit=unit,
            unit_scale=True,
            leave=False,
            file=sys.stderr,
            dynamic_ncols=True,
        )

    @property
    def active(self) -> bool:
        """True when a bar is shown."""
        return self._bar is not None

    def update(self, n: float) -> None:
        """Advance the bar by ``n``."""
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        """Remove the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------------- records
def source_name(source: Source, name: str | None = None) -> str:
    """The name errors and anomalies use for a source."""
    if name is not None:
        return name
    if isinstance(source, str | os.PathLike):
        text = os.fspath(source)
        return "<stdin>" if text == "-" else text
    if isinstance(source, Mapping | list | tuple):
        return "<data>"
    fname = getattr(source, "name", None)
    return fname if isinstance(fname, str) else "<stream>"


def iter_records(
    source: Source,
    *,
    name: str | None = None,
    quiet: bool = False,
    decode: LineDecoder | None = None,
) -> Generator[RawRecord, None, None]:
    """The records of a source, one at a time, in file order.

    Args:
        source: a path (``"-"`` for standard input), an open file, or parsed JSON.
        name: the name to use in errors (default: the path).
        quiet: no progress bar even on a terminal.
        decode: a reader's fast path for JSON Lines: called with a list of lines (every
            line after the first, a chunk at a time), it returns a list as long, holding for
            each line its record in the reader's own typed form, or None for "not mine, read
            it the general way" (it must never raise). Typed records are yielded as the
            ``value`` of a :class:`RawRecord` like any other, with the line's place
            (``where``, ``index``) the same either way. Other containers ignore it.

    Raises:
        InputError: the file cannot be read, is not JSON, or its single JSON document is
            broken (naming the file and the record where it broke).
    """
    src = source_name(source, name)
    if isinstance(source, Mapping | list | tuple):
        yield from _iter_parsed(source, src)
        return
    if not isinstance(source, str | os.PathLike | bytes | bytearray) and not hasattr(
        source, "read"
    ):
        raise InputError(
            f"expected a path, a file or parsed JSON, got {type(source).__name__}", source=src
        )
    size: int | None = None
    if isinstance(source, str | os.PathLike) and os.fspath(source) != "-":
        try:
            size = os.stat(source).st_size
            with open(source, "rb") as head:
                magic = head.read(4)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", source=src) from exc
        if magic == PARQUET_MAGIC:
            for index, (where, rec) in enumerate(iter_parquet(os.fspath(source), src)):
                yield RawRecord(index, where, rec)
            return
    # the encoding is decided once per stream (byte-order mark), never per line
    fh, _, _enc, owned = open_text(cast(ByteSource, source), name=src)
    try:
        yield from _iter_stream(fh, src, size, quiet, decode)
    finally:
        close_text(fh, owned)


def _iter_parsed(data: Any, src: str) -> Iterator[RawRecord]:
    index = 0
    if isinstance(data, Mapping):
        for key in _ENVELOPE_KEYS:
            items = data.get(key)
            if isinstance(items, list):
                for i, item in enumerate(items):
                    yield RawRecord(index, f"$.{key}[{i}]", item)
                    index += 1
                return
        yield RawRecord(0, "$", data)
        return
    for i, item in enumerate(data):
        yield RawRecord(index, f"$[{i}]", item)
        index += 1


def _iter_stream(
    fh: IO[str], src: str, size: int | None, quiet: bool, decode: LineDecoder | None
) -> Iterator[RawRecord]:
    try:
        first = fh.readline()
        consumed = len(first)
        while first and not first.strip():
            first = fh.readline()
            consumed += len(first)
        if not first:
            return  # an empty file holds no records
        head = first.lstrip(_WS)
        with Progress(size, src, unit="B", enabled=not quiet) as bar:
            bar.update(consumed)
            if head.startswith("{"):
                try:
                    value: Any = json.loads(first)
                except json.JSONDecodeError as exc:
                    if not _line_is_broken(first, exc):
                        # the line stops mid-object: a pretty-printed object, one document
                        yield from _Document(fh, first, src, bar).records()
                        return
                    value = RawRecord(0, "line 1", problem=_why(exc))
                except (ValueError, RecursionError) as exc:
                    value = RawRecord(0, "line 1", problem=_why(exc))
                yield from _iter_lines(fh, value, src, bar, decode)
                return
            elif _is_csv_header(head):
                yield from _iter_csv(fh, first, src, bar)
                return
            elif not head.startswith("["):
                raise InputError(
                    "not JSON, JSON Lines or an AzureActivity CSV export: expected '[' or '{' "
                    "at the start, or a CSV header with OperationNameValue",
                    source=src,
                    record="line 1",
                )
            yield from _Document(fh, first, src, bar).records()
    except UnicodeDecodeError as exc:  # only for streams opened by the caller
        raise InputError(f"not UTF-8 text: {exc.reason}", source=src) from exc


def _is_csv_header(line: str) -> bool:
    """A CSV header of the Log Analytics AzureActivity table (the portal's CSV export)."""
    return "OperationNameValue" in line and "," in line


def _iter_csv(fh: IO[str], first: str, src: str, bar: Progress) -> Iterator[RawRecord]:
    """Rows of a CSV file as records keyed by the header; ``record N`` counts data rows from 1.

    A column header's `` [UTC]`` suffix (the portal adds it to times) is kept: the Activity Log
    reader knows ``TimeGenerated [UTC]``. A row csv cannot split (a field over the size limit,
    broken quoting) is a record with a problem; reading goes on at the next line.
    """
    import csv
    import itertools

    lines = itertools.chain([first], fh)
    reader = csv.reader(lines)
    try:
        header = [h.strip() for h in next(reader)]
    except (csv.Error, StopIteration) as exc:
        raise InputError(f"not valid CSV: {exc}", source=src, record="header") from None
    index = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            reason = str(exc)
            if "field larger than field limit" in reason:
                reason = f"a field longer than {csv.field_size_limit()} characters"
            yield RawRecord(index, f"record {index + 1}", problem=f"not valid CSV: {reason}")
            index += 1
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            yield RawRecord(index, f"record {index + 1}",
                            problem=f"{len(row)} fields but the header has {len(header)}")
        else:
            yield RawRecord(index, f"record {index + 1}", dict(zip(header, row, strict=False)))
        index += 1
    bar.update(0)


def _iter_lines(
    fh: IO[str], first: Any, src: str, bar: Progress, decode: LineDecoder | None = None
) -> Iterator[RawRecord]:
    """JSON Lines records; ``first`` is line 1 already parsed (or a RawRecord with its
    problem). Lines are read in chunks of about :data:`_LINES_CHUNK` characters, which
    ``decode`` (a reader's fast path) sees a chunk at a time."""
    if isinstance(first, RawRecord):
        yield first
        index = 1
    else:
        index = 0
        for where, item in _records_of(first, "line 1"):
            yield RawRecord(index, where, item)
            index += 1
    lineno = 1
    while True:
        lines = fh.readlines(_LINES_CHUNK)
        if not lines:
            break
        bar.update(sum(map(len, lines)))
        typed = decode(lines) if decode is not None else None
        for i, line in enumerate(lines):
            lineno += 1
            if typed is not None:
                fast = typed[i]
                if fast is not None:
                    yield RawRecord(index, f"line {lineno}", fast)
                    index += 1
                    continue
            if not line.strip():
                continue
            try:
                value = _loads_line(line)
            except (ValueError, RecursionError) as exc:
                yield RawRecord(index, f"line {lineno}", problem=_why(exc))
                index += 1
                continue
            if type(value) is dict and "records" not in value and "value" not in value:
                yield RawRecord(index, f"line {lineno}", value)  # the usual case, quickly
                index += 1
            else:
                for where, item in _expand(value, f"line {lineno}"):
                    yield RawRecord(index, where, item)
                    index += 1


def _records_of(value: Any, where: str) -> Iterable[tuple[str, Any]]:
    if type(value) is dict and "records" not in value and "value" not in value:
        return ((where, value),)
    return _expand(value, where)


_raw_decode = json.JSONDecoder().raw_decode


def _loads_line(line: str) -> Any:
    """``json.loads(line)``, exactly, without its Python steps for the usual line (one value
    from the first character, then only whitespace): the same C scanner through the public
    ``raw_decode``. Anything else goes to ``json.loads`` itself, so its errors are its own."""
    try:
        value, end = _raw_decode(line)
    except (ValueError, RecursionError):
        return json.loads(line)
    if end != len(line) and line[end:].strip(" \t\n\r"):
        return json.loads(line)  # raises "Extra data"
    return value


#: Characters of whole lines read at a time from a JSON Lines file.
_LINES_CHUNK = 1 << 20


_SKIP = object()


def _expand(value: Any, where: str) -> Iterable[tuple[str, Any]]:
    """A line's records: itself, a list's elements, or an envelope's ``records``/``value``."""
    if isinstance(value, list):
        return ((f"{where}, [{i}]", v) for i, v in enumerate(value))
    if isinstance(value, dict):
        for key in _ENVELOPE_KEYS:
            items = value.get(key)
            if isinstance(items, list):
                return ((f"{where}, {key}[{i}]", v) for i, v in enumerate(items))
    return ((where, value),)


class _Document:
    """One JSON document read as a stream of records (see the module docstring)."""

    def __init__(self, fh: IO[str], start: str, src: str, bar: Progress) -> None:
        self.fh = fh
        self.buf = start
        self.pos = 0
        self.eof = False
        self.src = src
        self.bar = bar
        self.index = 0
        self.decoder = json.JSONDecoder()

    # -- buffer
    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.fh.read(_CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.bar.update(len(chunk))
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def _skip_ws(self) -> str:
        """Skip blanks; the next character, or '' at the end."""
        while True:
            buf, pos, n = self.buf, self.pos, len(self.buf)
            while pos < n and buf[pos] in _WS:
                pos += 1
            self.pos = pos
            if pos < n:
                return buf[pos]
            if not self._fill():
                return ""

    def _error(self, reason: str, where: str) -> InputError:
        return InputError(reason, source=self.src, record=where)

    def _value(self, where: str) -> Any:
        """Decode the JSON value at the cursor, reading more as needed."""
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._grow(where):
                    continue
                raise self._error(_why(exc), where) from None
            except (ValueError, RecursionError) as exc:  # a 5000-digit number, deep nesting
                raise self._error(_why(exc), where) from None
            if end == len(self.buf) and self._grow(where):
                continue  # a number may go on in the next chunk
            self.pos = end
            return value

    def _grow(self, where: str) -> bool:
        if len(self.buf) - self.pos > MAX_RECORD_CHARS:
            raise self._error(
                f"a record longer than {MAX_RECORD_CHARS} characters: the JSON is broken "
                "or this is not a list of records",
                where,
            )
        return self._fill()

    def _expect(self, chars: str, where: str) -> str:
        c = self._skip_ws()
        if not c or c not in chars:
            shown = repr(c) if c else "the end of the file"
            want = " or ".join(repr(x) for x in chars)
            raise self._error(f"not valid JSON: expected {want}, found {shown}", where)
        self.pos += 1
        return c

    # -- structure
    def records(self) -> Iterator[RawRecord]:
        c = self._skip_ws()
        if c == "[":
            yield from self._array("$")
        else:
            yield from self._object()
        if self._skip_ws():
            raise self._error("extra data after the JSON document", "after the document")

    def _array(self, path: str) -> Iterator[RawRecord]:
        self._expect("[", path)
        i = 0
        if self._skip_ws() == "]":
            self.pos += 1
            return
        while True:
            where = f"{path}[{i}]"
            self._skip_ws()
            value = self._value(where)
            yield RawRecord(self.index, where, value)
            self.index += 1
            i += 1
            if self._expect(",]", f"{path}[{i}]") == "]":
                return

    def _object(self) -> Iterator[RawRecord]:
        self._expect("{", "$")
        seen: dict[str, Any] = {}
        streamed = False
        if self._skip_ws() == "}":
            self.pos += 1
        else:
            while True:
                self._skip_ws()
                key = self._value("$")
                if not isinstance(key, str):
                    raise self._error("not valid JSON: expected a key", "$")
                self._expect(":", f"$.{key}")
                nxt = self._skip_ws()
                if key in _ENVELOPE_KEYS and nxt == "[" and not streamed:
                    yield from self._array(f"$.{key}")
                    streamed = True
                else:
                    seen[key] = self._value(f"$.{key}")
                if self._expect(",}", "$") == "}":
                    break
        if not streamed:
            # not an envelope: the object is itself the one record
            yield RawRecord(self.index, "$", seen)
            self.index += 1


def _why(exc: BaseException) -> str:
    """Why a JSON text did not decode, in a few words."""
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg}"
    if isinstance(exc, RecursionError):
        return "not valid JSON: nested too deeply"
    return f"not valid JSON: {str(exc)[:80]}"


def _line_is_broken(line: str, exc: json.JSONDecodeError) -> bool:
    """Whether a first line that failed to parse is a broken record, not an unfinished one.

    A pretty-printed document's first line stops mid-object (the error is at its end); a JSON
    string cannot span lines, so an unterminated string means a broken (or cut) line.
    """
    return exc.msg.startswith("Unterminated string") or exc.pos < len(line.rstrip(_WS))


def rewindable(source: Source, name: str | None = None) -> tuple[Source, str]:
    """A source that can be read twice, and its name: standard input and one-shot streams are
    read into memory; paths and parsed data are returned as they are."""
    src = source_name(source, name)
    if isinstance(source, str | os.PathLike):
        if os.fspath(source) == "-":
            data, _ = read_bytes("-", name=src)
            return (io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data)), src
        return source, src
    if isinstance(source, Mapping | list | tuple):
        return source, src
    seekable = getattr(source, "seekable", None)
    if callable(seekable) and seekable():
        return source, src
    data = source.read()  # type: ignore[union-attr]
    return (io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data)), src


def first_record(source: Source, name: str | None = None) -> RawRecord | None:
    """The first record of a rewindable source (see :func:`rewindable`), which is left at its
    start; None for a source with no record."""
    pos = None
    if not isinstance(source, str | os.PathLike | Mapping | list | tuple):
        pos = source.tell()  # type: ignore[union-attr]
    records = iter_records(source, name=name, quiet=True)
    try:
        return next(records, None)
    finally:
        records.close()
        if pos is not None:
            source.seek(pos)  # type: ignore[union-attr]


#: Input formats :func:`read_history` takes: detect, the two Activity Log shapes, snapshots.
HISTORY_FORMATS = ("auto", "rest", "export", "azureactivity", "snapshots")


def read_history(
    source: Source,
    *,
    format: str = "auto",
    initial: str | Mapping[str, str | None] | None = None,
    strict: bool = False,
    quiet: bool = False,
    name: str | None = None,
    start: TimeLike | None = None,
    inventory: Inventory | None = None,
) -> Reconstruction:
    """Read an Activity Log or polled snapshots, whichever the source holds.

    With ``format="auto"`` the first record decides: an instance view (``statuses``,
    ``instanceView``, ``powerState``) means snapshots, anything else an Activity Log (whose
    shape is then detected per record). See :func:`vmlife.io.activity_log.read_activity_log`
    and :func:`vmlife.io.snapshots.read_snapshots` for the arguments (``start`` applies to
    Activity Logs: snapshots show nothing before the first poll). ``inventory`` (a
    :class:`~vmlife.io.inventory.Inventory`) sets what each VM is (size, OS, region,
    priority, disks) as its attributes, by resource id or name.

    Raises:
        InputError: as the two readers do; also ``initial`` given for snapshots, which show
            the state from the first poll on and need none.
        UnknownNameError: an unknown ``format`` (the message lists them).
    """
    from ..errors import UnknownNameError
    from .activity_log import read_activity_log
    from .snapshots import looks_like_snapshot, read_snapshots

    if format not in HISTORY_FORMATS:
        raise UnknownNameError("input format", format, HISTORY_FORMATS)
    kind = format
    if format == "auto":
        source, name = rewindable(source, name)
        first = first_record(source, name)
        kind = "snapshots" if first is not None and looks_like_snapshot(first.value) else "auto"
    if kind == "snapshots":
        if initial is not None:
            raise InputError(
                "an initial state applies to Activity Logs only: snapshots show the state "
                "from the first poll on",
                source=source_name(source, name),
                field="initial",
            )
        return with_inventory(read_snapshots(source, strict=strict, quiet=quiet, name=name),
                              inventory)
    return read_activity_log(
        source,
        format=kind,  # type: ignore[arg-type]
        initial=initial,
        strict=strict,
        quiet=quiet,
        name=name,
        start=start,
        inventory=inventory,
    )


def with_inventory(result: Reconstruction, inventory: Inventory | None) -> Reconstruction:
    """The result with each timeline's attributes set from the inventory (see
    :func:`vmlife.io.inventory.apply_inventory`) and a note naming the VMs it does not list."""
    if inventory is None:
        return result
    from .inventory import apply_inventory

    missing = apply_inventory(result.timelines, inventory)
    if missing:
        result.notes.append(f"Not in the inventory ({inventory.source}): {', '.join(missing)}; "
                            "their size, OS, region and priority are unknown.")
    return result


def read_input(
    path: str,
    *,
    format: str = "auto",
    initial: str | Mapping[str, str | None] | None = None,
    strict: bool = False,
    quiet: bool = False,
    start: TimeLike | None = None,
    inventory: Inventory | None = None,
) -> Reconstruction:
    """Timelines from any input the ``bill`` and ``report`` commands take; ``"-"`` is stdin.

    ``start`` is the billing period's start: an Activity Log VM's state before its first
    event holds from there (see :func:`vmlife.io.activity_log.read_activity_log`).

    A file whose JSON says ``"format": "vmlife.timeline"`` is read with
    :func:`vmlife.load_timelines` (kind ``"timelines"``, no anomalies); anything else goes to
    :func:`read_history`, which detects an Activity Log (either shape) or polled snapshots.
    """
    if path == "-":
        data, _ = read_bytes("-", name="<stdin>")
        raw = data.encode("utf-8") if isinstance(data, str) else data
        if format == "auto" and _is_timeline_file(raw[:4096]):
            return with_inventory(Reconstruction(
                "<stdin>", "timelines", FORMAT, timelines=load_timelines(raw, name="<stdin>")),
                inventory)
        return read_history(io.BytesIO(raw), format=format, initial=initial, strict=strict,
                            quiet=quiet, name="<stdin>", start=start, inventory=inventory)
    if format == "auto":
        try:
            with open(path, "rb") as fh:
                head = fh.read(4096)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", source=path) from exc
        if _is_timeline_file(head):
            return with_inventory(Reconstruction(
                path, "timelines", FORMAT, timelines=load_timelines(path, name=path)), inventory)
    return read_history(path, format=format, initial=initial, strict=strict, quiet=quiet,
                        name=path, start=start, inventory=inventory)


def _is_timeline_file(head: bytes) -> bool:
    """Whether the first bytes of a file say ``"format": "vmlife.timeline"``, in any encoding
    :mod:`vmlife.io.source` reads."""
    enc, skip = sniff(head[:4])
    text = head[skip:].decode(enc, errors="replace")
    start = text.lstrip(" \t\r\n")
    if not start.startswith("{") or FORMAT not in text:
        return False
    key = text.find('"format"')
    return key >= 0 and text.find(FORMAT, key) >= 0
