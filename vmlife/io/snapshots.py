"""Polled instance views in, one :class:`~vmlife.timeline.Timeline` per VM out.

A poller that asks Azure for a VM's instance view every few minutes and writes down what it
saw gives the most direct history there is: what Azure *showed*, including what the Activity
Log cannot (a shutdown from inside the guest OS). Each record is one observation:

* ``{"time": ..., "vm": ..., "statuses": [...]}``: the VM's own top-level ``statuses``;
* or any shape :mod:`vmlife.io.instance_view` reads (a REST InstanceView body, a VM GET with
  ``properties.instanceView``, a List All ``statusOnly=true`` page, ``az vm list -d`` /
  ``show -d`` rows), with a ``time`` added. ``vm`` is optional when the record names the VM
  (``name``, else ``id``, whose last segment is used); a List All page observes every VM on it.

``time`` is when the poll was made (ISO 8601 text), not the ``time`` inside a status, which
says when the last operation completed. Records may come as JSON Lines, a JSON array, or an
object with a ``value`` or ``records`` list (see :mod:`vmlife.io.history`), in any order.

How the timeline is built (vmlife's choices; Azure documents no polling format):

* Each observed state holds from its poll until the next poll of the same VM; the last one is
  left open. Nothing is interpolated: a transition between two polls shows at the later poll,
  so billing from snapshots is only as fine as the polling interval.
* Consecutive polls showing the same state merge into one step. Two polls of one VM at the same
  instant: the later record wins.
* An empty ``statuses`` list means no VM (a poll that found it deleted). A poll whose statuses
  are all codes no loaded plugin knows is *ignored* (nothing is known of the state); known
  codes with unknown ones beside them are used, and the unknown codes are counted in
  :attr:`~vmlife.io.history.Reconstruction.unknown_codes`.
* A record that repeats an earlier one exactly (same VM, time and state) is a duplicate.
* A record with a missing or mistyped field is an anomaly (``strict=True`` raises instead).

Example:
    >>> from vmlife.io.snapshots import read_snapshots
    >>> polls = [
    ...     {"time": "2024-03-04T08:00:00Z", "vm": "web-1",
    ...      "statuses": [{"code": "ProvisioningState/succeeded"}, {"code": "PowerState/running"}]},
    ...     {"time": "2024-03-04T08:05:00Z", "vm": "web-1",
    ...      "statuses": [{"code": "ProvisioningState/succeeded"}, {"code": "PowerState/running"}]},
    ...     {"time": "2024-03-04T08:10:00Z", "vm": "web-1",
    ...      "statuses": [{"code": "ProvisioningState/succeeded"}, {"code": "PowerState/stopped"}]},
    ... ]
    >>> [(s.state.power, s.duration) for s in read_snapshots(polls).timeline("web-1")]
    [('running', 600.0), ('stopped', None)]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InputError
from ..lifecycle import Lifecycle
from ..lifecycle import lifecycle as current_lifecycle
from ..model import VMState
from ..timeline import Timeline
from ..timeutil import to_datetime, to_epoch
from .history import Anomaly, Counts, RawRecord, Reconstruction, Source, iter_records, source_name
from .instance_view import read_instance_views

__all__ = ["Anomaly", "Counts", "Reconstruction", "looks_like_snapshot", "read_snapshots"]


def looks_like_snapshot(record: Any) -> bool:
    """Whether a record is a polled instance view rather than an Activity Log event."""
    if not isinstance(record, Mapping):
        return False
    props = record.get("properties")
    return (
        "statuses" in record
        or "instanceView" in record
        or "powerState" in record
        or (isinstance(props, Mapping) and "instanceView" in props)
        or (isinstance(record.get("value"), list) and "operationName" not in record)
    )


def read_snapshots(
    source: Source,
    *,
    strict: bool = False,
    quiet: bool = False,
    name: str | None = None,
    lifecycle: Lifecycle | None = None,
) -> Reconstruction:
    """Build each VM's timeline from polled instance views.

    Args:
        source: a path (``"-"`` for standard input), an open file, or parsed JSON. It is never
            modified.
        strict: raise at the first anomaly instead of reporting it.
        quiet: no progress bar (there is none anyway unless standard error is a terminal).
        name: the source's name in messages (default the path).
        lifecycle: the lifecycle whose states the codes are read against.

    Returns:
        A :class:`~vmlife.io.history.Reconstruction` of kind ``"snapshots"``.

    Raises:
        InputError: the file cannot be read or is not JSON; with ``strict``, any anomaly.
    """
    lc = lifecycle or current_lifecycle()
    src = source_name(source, name)
    result = Reconstruction(src, "snapshots", "snapshots")
    counts = result.counts
    # vm -> [(time, record index, state)]
    seen: dict[str, list[tuple[float, int, VMState]]] = {}
    keys: set[tuple[str, float, VMState]] = set()

    def anomaly(raw: RawRecord, reason: str, field: str | None, vm: str | None) -> None:
        if strict:
            raise InputError(reason, source=src, record=raw.where, field=field)
        counts.anomalies += 1
        result.anomalies.append(Anomaly(raw.where, raw.index, vm, reason, field))

    for raw in iter_records(source, name=src, quiet=quiet):
        counts.read += 1
        if raw.problem is not None:
            anomaly(raw, raw.problem, None, None)
            continue
        rec = raw.value
        if not isinstance(rec, Mapping):
            anomaly(raw, f"expected an object, got {_type(rec)}", None, None)
            continue
        given = rec.get("vm")
        if given is not None and (not isinstance(given, str) or not given.strip()):
            anomaly(raw, f"expected the VM's name as text, got {_type(given)}", "vm", None)
            continue
        t = rec.get("time")
        if t is None:
            anomaly(raw, "missing: the time of the poll", "time", given)
            continue
        try:
            if not isinstance(t, str):
                raise ValueError
            when = to_epoch(t)
            to_datetime(when)
        except (ValueError, OverflowError, OSError):
            anomaly(raw, f"not an ISO 8601 time: {str(t)[:40]!r}", "time", given)
            continue
        try:
            readings = read_instance_views(rec, source=src, lc=lc)
        except InputError as err:
            anomaly(raw, err.reason, err.field or _field_of(err), given)
            continue
        except RecursionError:
            anomaly(raw, "nested too deeply to be an instance view", None, given)
            continue
        if given is None and any(r.vm is None for r in readings):
            anomaly(raw, "missing: which VM (no 'vm', 'name' or 'id')", "vm", None)
            continue
        if given is not None and len(readings) > 1:
            anomaly(raw, "'vm' names one VM but the record holds several", "vm", given)
            continue
        usable = []
        for reading in readings:
            for code in reading.unknown_codes:
                result.unknown_codes[code] = result.unknown_codes.get(code, 0) + 1
            if reading.state.exists or not reading.unknown_codes:
                vm = given.strip() if given is not None else _short(str(reading.vm))
                usable.append((vm, reading.state))
        if not usable:
            counts.ignored += 1
            continue
        fresh = [(vm, st) for vm, st in usable if (vm, when, st) not in keys]
        if not fresh:
            counts.duplicates += 1
            continue
        for vm, st in fresh:
            keys.add((vm, when, st))
            seen.setdefault(vm, []).append((when, raw.index, st))
        counts.used += 1
    result.timelines = [_timeline(vm, obs) for vm, obs in sorted(seen.items())]
    return result


def _timeline(vm: str, observations: list[tuple[float, int, VMState]]) -> Timeline:
    starts: list[float] = []
    states: list[VMState] = []
    for when, _index, state in sorted(observations, key=lambda o: (o[0], o[1])):
        if starts and starts[-1] == when:
            states[-1] = state  # same instant: the later record wins
            if len(states) > 1 and states[-2] == state:
                starts.pop()
                states.pop()
            continue
        if states and states[-1] == state:
            continue  # the same state goes on
        starts.append(when)
        states.append(state)
    return Timeline(vm, starts, states, [None] * len(starts))


def _short(vm: str) -> str:
    return vm.strip().rstrip("/").rsplit("/", 1)[-1] if vm.startswith("/") else vm.strip()


def _field_of(err: InputError) -> str | None:
    return None if err.record in (None, "$") else str(err.record)


def _type(value: Any) -> str:
    return "null" if value is None else type(value).__name__
