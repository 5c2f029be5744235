"""Timelines: what state a VM was in, from when to when, and because of which operation.

A :class:`Timeline` is the engine's output and the billing meter's input. Each :class:`Step`
holds one composite state from ``start`` (inclusive) to ``end`` (exclusive); the last step is
open (``end`` is None). A deleted VM's timeline ends with an empty state ("no VM").

Timelines are written and read as JSON (:func:`dump_timelines`, :func:`load_timelines`) in
the shape below. Times are UTC ISO 8601 text that holds the engine's float exactly
(:func:`vmlife.timeutil.iso_exact`: as many fraction digits as needed, four-digit years), so
``load_timelines(dump(t)) == t`` and a bill of the file equals a bill of the timelines. Reading
also takes finite numbers of epoch seconds; ``NaN``, infinities, out-of-range years and any
mistyped field are refused with an :class:`~vmlife.errors.InputError` naming the field::

    {"format": "vmlife.timeline", "version": 1,
     "timelines": [{"vm": "web-1", "attributes": {},
                    "steps": [{"start": "2024-01-01T00:00:00Z", "end": "...",
                               "operation": "start",
                               "state": {"provisioning": "updating", "power": "starting"},
                               "error_code": null}, ...]}]}

A step may also carry ``"notes"``: a list of texts, present only when there are some (a replayed
operation that a plugin's guard would have refused keeps the guard's reason there; see
:meth:`vmlife.engine.VM.do` with ``replay=True``).
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import InputError
from .model import VMState
from .timeutil import TimeLike, from_iso_exact, iso, iso_exact, to_datetime, to_epoch

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    import pandas as pd

    from .lifecycle import Lifecycle

__all__ = ["FORMAT", "Step", "Timeline", "dump_timelines", "last_change", "load_timelines"]

FORMAT = "vmlife.timeline"


@dataclass(frozen=True, slots=True)
class Step:
    """One state held over a span of time.

    Attributes:
        start: epoch seconds, inclusive.
        end: epoch seconds, exclusive; None for the last, still open, step.
        state: the composite state.
        operation: the operation in progress, or None when the VM is at rest.
        notes: remarks on this step, such as "the model expected this to be refused: ..." on an
            operation a replayed history shows happening although a plugin's guard would have
            refused it. Empty for almost every step.
    """

    start: float
    end: float | None
    state: VMState
    operation: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def duration(self) -> float | None:
        """Seconds, or None for an open step."""
        return None if self.end is None else self.end - self.start

    def as_record(self, vm: str | None = None) -> dict[str, Any]:
        """A flat dict: vm, start, end (ISO text), operation, one key per axis, error_code.

        A step with notes also has ``notes`` (joined with ``"; "``).
        """
        rec: dict[str, Any] = {"vm": vm} if vm is not None else {}
        rec.update(
            start=iso(self.start),
            end=iso(self.end),
            operation=self.operation,
            provisioning=self.state.provisioning,
            power=self.state.power,
            os_provisioning=self.state.os_provisioning,
        )
        for axis, sid in self.state.items():
            rec.setdefault(axis, sid)
        rec["error_code"] = self.state.error_code
        if self.notes:
            rec["notes"] = "; ".join(self.notes)
        return rec


class Timeline(Sequence[Step]):
    """The steps of one VM, in time order, contiguous (each ends where the next starts).

    Args:
        vm: the VM's name or resource id.
        starts, states, operations: parallel sequences, one entry per step.
        attributes: the VM's attributes (capabilities, size, os) when the timeline was taken.
        notes: step index -> that step's notes (see :attr:`Step.notes`); most steps have none.
    """

    __slots__ = ("_notes", "_ops", "_starts", "_states", "attributes", "vm")

    def __init__(
        self,
        vm: str,
        starts: Sequence[float] = (),
        states: Sequence[VMState] = (),
        operations: Sequence[str | None] = (),
        *,
        attributes: Mapping[str, Any] | None = None,
        notes: Mapping[int, Sequence[str]] | None = None,
    ) -> None:
        if not (len(starts) == len(states) == len(operations)):
            raise ValueError("starts, states and operations must have the same length")
        self._notes = {i: tuple(n) for i, n in (notes or {}).items() if n}
        if any(not 0 <= i < len(starts) for i in self._notes):
            raise ValueError("notes must be keyed by the index of an existing step")
        if any(b < a for a, b in itertools.pairwise(starts)):
            raise ValueError("step starts must not decrease")
        self.vm = vm
        self._starts = list(starts)
        self._states = list(states)
        self._ops = list(operations)
        self.attributes = dict(attributes or {})

    @classmethod
    def from_steps(
        cls, vm: str, steps: Iterable[Step], *, attributes: Mapping[str, Any] | None = None
    ) -> Timeline:
        """Build from :class:`Step` objects (their ``end`` is re-derived from the next start)."""
        steps = list(steps)
        return cls(
            vm,
            [s.start for s in steps],
            [s.state for s in steps],
            [s.operation for s in steps],
            attributes=attributes,
            notes={i: s.notes for i, s in enumerate(steps) if s.notes},
        )

    # Sequence protocol
    def __len__(self) -> int:
        return len(self._starts)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self._starts)
        i = index + n if index < 0 else index
        if not 0 <= i < n:
            raise IndexError("step index out of range")
        end = self._starts[i + 1] if i + 1 < n else None
        return Step(self._starts[i], end, self._states[i], self._ops[i], self._notes.get(i, ()))

    def __iter__(self) -> Iterator[Step]:
        starts, states, ops, notes = self._starts, self._states, self._ops, self._notes
        n = len(starts)
        if not notes:
            for i in range(n):
                yield Step(starts[i], starts[i + 1] if i + 1 < n else None, states[i], ops[i])
            return
        for i in range(n):
            yield Step(starts[i], starts[i + 1] if i + 1 < n else None, states[i], ops[i],
                       notes.get(i, ()))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timeline):
            return NotImplemented
        return (
            self.vm == other.vm
            and self._starts == other._starts
            and self._states == other._states
            and self._ops == other._ops
            and self._notes == other._notes
        )

    def __repr__(self) -> str:
        span = f"{iso(self.start)} .. {iso(self._starts[-1])}" if self._starts else "empty"
        return f"<Timeline {self.vm!r}: {len(self)} steps, {span}>"

    @property
    def steps(self) -> list[Step]:
        """All steps as a list."""
        return list(self)

    @property
    def notes(self) -> dict[int, tuple[str, ...]]:
        """Step index -> notes, for the steps that have any (see :attr:`Step.notes`)."""
        return dict(self._notes)

    @property
    def start(self) -> float | None:
        """When the first step starts (epoch seconds), or None if empty."""
        return self._starts[0] if self._starts else None

    @property
    def last_change(self) -> float | None:
        """When the last step starts (epoch seconds), or None if empty."""
        return self._starts[-1] if self._starts else None

    # Queries
    def index_at(self, when: TimeLike) -> int | None:
        """Index of the step holding at ``when``, or None before the first step."""
        t = to_epoch(when)
        i = bisect_right(self._starts, t) - 1
        return i if i >= 0 else None

    def state_at(self, when: TimeLike) -> VMState:
        """The state at ``when`` (an empty state before the first step)."""
        i = self.index_at(when)
        return VMState() if i is None else self._states[i]

    def statuses_at(
        self, when: TimeLike, lifecycle: Lifecycle | None = None
    ) -> list[dict[str, Any]]:
        """The instance-view ``statuses`` Azure would show at ``when``.

        ``ProvisioningState/succeeded`` carries the ``time`` the last operation completed.
        """
        from .status import statuses_for

        i = self.index_at(when)
        if i is None:
            return []
        state = self._states[i]
        since = self._starts[i]
        j = i
        while j > 0 and self._states[j - 1].provisioning == state.provisioning:
            j -= 1
            since = self._starts[j]
        return statuses_for(state, lifecycle=lifecycle, time=since)

    # Export
    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per step (see :meth:`Step.as_record`)."""
        return [s.as_record(self.vm) for s in self]

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form of this timeline (one entry of the file's ``timelines``)."""
        return {
            "vm": self.vm,
            "attributes": _jsonable(self.attributes),
            "steps": [
                {
                    "start": iso_exact(s.start),
                    "end": None if s.end is None else iso_exact(s.end),
                    "operation": s.operation,
                    "state": s.state.as_dict(),
                    "error_code": s.state.error_code,
                    **({"notes": list(s.notes)} if s.notes else {}),
                }
                for s in self
            ],
        }

    def to_json(self, **kw: Any) -> str:
        """JSON text of a timeline file holding just this timeline."""
        return dumps_timelines([self], **kw)

    def to_pandas(self) -> pd.DataFrame:
        """A pandas DataFrame, one row per step, times as UTC timestamps (imports pandas)."""
        import pandas as pd

        df = pd.DataFrame(self.to_records())
        for col in ("start", "end"):
            df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
        return df

    def _repr_html_(self) -> str:
        """Jupyter: the steps as a table."""
        from .render.html import timeline_html

        return timeline_html(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython
        p.text(repr(self))
        for s in self:
            p.break_()
            end = iso(s.end) or "..."
            op = f"  [{s.operation}]" if s.operation else ""
            p.text(f"  {to_datetime(s.start):%Y-%m-%d %H:%M:%S} -> {end}  {s.state.describe()}{op}")
            for note in s.notes:
                p.break_()
                p.text(f"    note: {note}")


def _jsonable(obj: Any) -> Any:
    import json

    try:
        json.dumps(obj)
        return obj
    except TypeError:
        return {k: str(v) for k, v in obj.items()}


def dumps_timelines(timelines: Iterable[Timeline], **kw: Any) -> str:
    """JSON text for a timeline file."""
    import json

    kw.setdefault("indent", 2)
    return json.dumps(
        {"format": FORMAT, "version": 1, "timelines": [t.to_dict() for t in timelines]}, **kw
    )


def last_change(timelines: Iterable[Timeline]) -> float | None:
    """The latest :attr:`Timeline.last_change` of these timelines (epoch seconds), or None.

    The default end of a billing period over an input (``vmlife bill`` and ``report``, the
    billing plot and widget, the Sphinx ``vmlife-bill`` directive): every VM's last state is
    billed until the input's last change, not left open where its own history stops.
    """
    lasts = [t.last_change for t in timelines if t.last_change is not None]
    return max(lasts) if lasts else None


def dump_timelines(timelines: Iterable[Timeline], path: str | Path) -> None:
    """Write a timeline file."""
    from pathlib import Path

    Path(path).write_text(dumps_timelines(timelines) + "\n", encoding="utf-8")


def load_timelines(
    source: str | Path | Mapping[str, Any] | bytes, *, name: str | None = None
) -> list[Timeline]:
    """Read a timeline file (a path, ``"-"``, bytes, or the already-parsed JSON object).

    Every field is checked: ``format``, ``version`` (1), each timeline's ``vm``, ``steps`` and
    ``attributes``, each step's ``start`` and ``end`` (exact ISO 8601 text or finite epoch
    seconds; ``end`` must be the next step's ``start``, or null on the last step), ``state``
    (axis -> state id, both text), ``operation`` and ``error_code`` (text or null), and the
    optional ``notes`` (a list of texts). Encodings
    and size bounds are those of :mod:`vmlife.io.source`.

    Raises:
        InputError: naming the file, the record (``timelines[i].steps[j]``) and the field.
    """
    if isinstance(source, Mapping):
        data: Any = source
        src = name or "<data>"
    else:
        from .io.source import read_json

        doc = read_json(source, name=name)
        data, src = doc.value, doc.name
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise InputError(
            f"not a vmlife timeline file (expected format {FORMAT!r})", source=src, field="format"
        )
    version = data.get("version", 1)
    if version != 1 or isinstance(version, bool):
        raise InputError(f"unsupported version {version!r}; this vmlife reads version 1",
                         source=src, field="version")
    items = data.get("timelines")
    if not isinstance(items, list):
        raise InputError("expected a list", source=src, field="timelines")
    out = []
    for i, item in enumerate(items):
        rec = f"timelines[{i}]"
        if not isinstance(item, Mapping):
            raise InputError("expected an object", source=src, record=rec)
        vm = item.get("vm")
        if not isinstance(vm, str):
            raise InputError("expected the VM's name as text", source=src, record=rec, field="vm")
        steps = item.get("steps")
        if not isinstance(steps, list):
            raise InputError("expected a list", source=src, record=rec, field="steps")
        starts: list[float] = []
        states: list[VMState] = []
        ops: list[str | None] = []
        ends: list[tuple[float | None, str]] = []
        notes: dict[int, list[str]] = {}
        for j, st in enumerate(steps):
            srec = f"{rec}.steps[{j}]"
            if not isinstance(st, Mapping):
                raise InputError("expected an object", source=src, record=srec)
            if "start" not in st:
                raise InputError("missing", source=src, record=srec, field="start")
            start = _file_time(st["start"], src, srec, "start")
            end = st.get("end")
            ends.append((None if end is None else _file_time(end, src, srec, "end"), srec))
            axes = st.get("state", {})
            if not isinstance(axes, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in axes.items()
            ):
                raise InputError(
                    "expected an object of axis -> state id", source=src, record=srec, field="state"
                )
            err = st.get("error_code")
            if err is not None and not isinstance(err, str):
                raise InputError(
                    "expected text or null", source=src, record=srec, field="error_code"
                )
            op = st.get("operation")
            if op is not None and not isinstance(op, str):
                raise InputError(
                    "expected text or null", source=src, record=srec, field="operation"
                )
            if starts and start < starts[-1]:
                raise InputError(
                    "steps must be in time order", source=src, record=srec, field="start"
                )
            noted = st.get("notes", [])
            if not isinstance(noted, list) or not all(isinstance(n, str) for n in noted):
                raise InputError("expected a list of texts", source=src, record=srec,
                                 field="notes")
            if noted:
                notes[j] = noted
            starts.append(start)
            states.append(VMState(axes, error_code=err))
            ops.append(op)
        for k, (end, srec) in enumerate(ends):
            nxt = starts[k + 1] if k + 1 < len(starts) else None
            if end is not None and end != nxt:
                want = "null (the last step is open)" if nxt is None else iso_exact(nxt)
                raise InputError(f"a step ends where the next starts: expected {want}",
                                 source=src, record=srec, field="end")
        attrs = item.get("attributes") or {}
        if not isinstance(attrs, Mapping):
            raise InputError("expected an object", source=src, record=rec, field="attributes")
        out.append(Timeline(vm, starts, states, ops, attributes=attrs, notes=notes))
    return out


def _file_time(value: Any, src: str, rec: str, field: str) -> float:
    """A time of a timeline file: exact ISO text, or finite epoch seconds in years 1-9999."""
    if isinstance(value, str):
        try:
            return from_iso_exact(value)
        except ValueError as exc:
            try:  # other ISO 8601 forms ("2024-03-04T08:00Z"), read to the microsecond
                t = to_epoch(value)
                to_datetime(t)
                return t
            except (ValueError, OverflowError, OSError):
                raise InputError(str(exc), source=src, record=rec, field=field) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"expected an ISO 8601 time as text, got {type(value).__name__}",
                         source=src, record=rec, field=field)
    try:
        t = float(value)
        if not math.isfinite(t):
            raise ValueError
        to_datetime(t)
    except (ValueError, OverflowError, OSError):
        raise InputError(f"not a finite time in years 1 to 9999: {str(value)[:40]}",
                         source=src, record=rec, field=field) from None
    return t
