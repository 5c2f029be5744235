"""Timelines: what state a VM was in, from when to when, and because of which operation.

A :class:`Timeline` is the engine's output and the billing meter's input. Each :class:`Step`
holds one composite state from ``start`` (inclusive) to ``end`` (exclusive); the last step is
open (``end`` is None). A deleted VM's timeline ends with an empty state ("no VM").

Timelines are written and read as JSON (:func:`dump_timelines`, :func:`load_timelines`) in
this shape::

    {"format": "vmlife.timeline", "version": 1,
     "timelines": [{"vm": "web-1", "attributes": {},
                    "steps": [{"start": "2024-01-01T00:00:00Z", "end": "...",
                               "operation": "start",
                               "state": {"provisioning": "updating", "power": "starting"},
                               "error_code": null}, ...]}]}
"""

from __future__ import annotations

import itertools
import json
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError
from .model import VMState
from .timeutil import TimeLike, iso, to_datetime, to_epoch

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .lifecycle import Lifecycle

__all__ = ["FORMAT", "Step", "Timeline", "dump_timelines", "load_timelines"]

FORMAT = "vmlife.timeline"


@dataclass(frozen=True, slots=True)
class Step:
    """One state held over a span of time.

    Attributes:
        start: epoch seconds, inclusive.
        end: epoch seconds, exclusive; None for the last, still open, step.
        state: the composite state.
        operation: the operation in progress, or None when the VM is at rest.
    """

    start: float
    end: float | None
    state: VMState
    operation: str | None = None

    @property
    def duration(self) -> float | None:
        """Seconds, or None for an open step."""
        return None if self.end is None else self.end - self.start

    def as_record(self, vm: str | None = None) -> dict[str, Any]:
        """A flat dict: vm, start, end (ISO text), operation, one key per axis, error_code."""
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
        return rec


class Timeline(Sequence[Step]):
    """The steps of one VM, in time order, contiguous (each ends where the next starts).

    Args:
        vm: the VM's name or resource id.
        starts, states, operations: parallel sequences, one entry per step.
        attributes: the VM's attributes (capabilities, size, os) when the timeline was taken.
    """

    __slots__ = ("_ops", "_starts", "_states", "attributes", "vm")

    def __init__(
        self,
        vm: str,
        starts: Sequence[float] = (),
        states: Sequence[VMState] = (),
        operations: Sequence[str | None] = (),
        *,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        if not (len(starts) == len(states) == len(operations)):
            raise ValueError("starts, states and operations must have the same length")
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
        return Step(self._starts[i], end, self._states[i], self._ops[i])

    def __iter__(self) -> Iterator[Step]:
        starts, states, ops = self._starts, self._states, self._ops
        n = len(starts)
        for i in range(n):
            yield Step(starts[i], starts[i + 1] if i + 1 < n else None, states[i], ops[i])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timeline):
            return NotImplemented
        return (
            self.vm == other.vm
            and self._starts == other._starts
            and self._states == other._states
            and self._ops == other._ops
        )

    def __repr__(self) -> str:
        span = f"{iso(self.start)} .. {iso(self._starts[-1])}" if self._starts else "empty"
        return f"<Timeline {self.vm!r}: {len(self)} steps, {span}>"

    @property
    def steps(self) -> list[Step]:
        """All steps as a list."""
        return list(self)

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
                    "start": iso(s.start),
                    "end": iso(s.end),
                    "operation": s.operation,
                    "state": s.state.as_dict(),
                    "error_code": s.state.error_code,
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


def _jsonable(obj: Any) -> Any:
    try:
        json.dumps(obj)
        return obj
    except TypeError:
        return {k: str(v) for k, v in obj.items()}


def dumps_timelines(timelines: Iterable[Timeline], **kw: Any) -> str:
    """JSON text for a timeline file."""
    kw.setdefault("indent", 2)
    return json.dumps(
        {"format": FORMAT, "version": 1, "timelines": [t.to_dict() for t in timelines]}, **kw
    )


def dump_timelines(timelines: Iterable[Timeline], path: str | Path) -> None:
    """Write a timeline file."""
    Path(path).write_text(dumps_timelines(timelines) + "\n", encoding="utf-8")


def load_timelines(
    source: str | Path | Mapping[str, Any], *, name: str | None = None
) -> list[Timeline]:
    """Read a timeline file (path, or the already-parsed JSON object).

    Raises:
        InputError: naming the file, the record (``timelines[i].steps[j]``) and the field.
    """
    if isinstance(source, Mapping):
        data: Any = source
        src = name or "<data>"
    else:
        src = name or str(source)
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", source=src) from exc
        except json.JSONDecodeError as exc:
            raise InputError(f"not JSON: {exc.msg} at line {exc.lineno}", source=src) from exc
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise InputError(
            f"not a vmlife timeline file (expected format {FORMAT!r})", source=src, field="format"
        )
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
        for j, st in enumerate(steps):
            srec = f"{rec}.steps[{j}]"
            if not isinstance(st, Mapping):
                raise InputError("expected an object", source=src, record=srec)
            try:
                start = to_epoch(st["start"])
            except KeyError:
                raise InputError("missing", source=src, record=srec, field="start") from None
            except ValueError as exc:
                raise InputError(str(exc), source=src, record=srec, field="start") from None
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
            starts.append(start)
            states.append(VMState(axes, error_code=err))
            ops.append(op)
        attrs = item.get("attributes") or {}
        if not isinstance(attrs, Mapping):
            raise InputError("expected an object", source=src, record=rec, field="attributes")
        out.append(Timeline(vm, starts, states, ops, attributes=attrs))
    return out
