"""Azure Activity Logs in, one :class:`~vmlife.timeline.Timeline` per VM out.

Two record shapes are read (sources: the "Azure Activity Log event schema" page of the Azure
Monitor docs, learn.microsoft.com/azure/azure-monitor/essentials/activity-log-schema, which
describes both and maps one onto the other; the REST example ``GetActivityLogsFiltered.json``
in github.com/Azure/azure-rest-api-specs, specification/monitor, api-version 2015-04-01; and
the storage-export sample in the same docs, whose records start ``"resultType": "Start",
"resultSignature": "Started."``):

* **REST / portal / ``az monitor activity-log list``** (``"rest"``): ``operationName.value``,
  ``status.value`` (Started, Accepted, Succeeded, Failed), ``subStatus.value`` (e.g. Created,
  OK, Conflict), ``eventTimestamp``, ``correlationId``, ``resourceId``, ``eventDataId``,
  ``caller``, ``properties.statusCode`` and, on failures, ``properties.statusMessage``.
* **Storage account / Event Hubs export** (``"export"``): ``time``, ``operationName`` as an
  upper-case string, ``resultType`` (Start, Accept, Success, Failure; the REST status names are
  accepted too), ``resultSignature`` (``"Succeeded.Created"``, ``"Failed.Conflict"``),
  ``correlationId``, an upper-case ``resourceId`` and ``properties``.

* **Log Analytics ``AzureActivity`` rows** (``"azureactivity"``), as Activity Logs routed to a
  workspace or Sentinel arrive: ``az monitor log-analytics query`` JSON (every value a string)
  or the portal's CSV export. Each row is read as the export record it mirrors (see
  :func:`_from_azure_activity`; source: the Azure Monitor Logs table reference "AzureActivity",
  learn.microsoft.com/azure/azure-monitor/reference/tables/azureactivity).

The container may be a JSON array, an object with a ``value`` (REST page) or ``records``
(export blob, Event Hubs message) list, or JSON Lines; see :mod:`vmlife.io.history`. The shape
is detected per record unless ``format`` says.

How the history is rebuilt
--------------------------

1. **Mapping.** An operation name maps to the lifecycle operations whose
   :attr:`~vmlife.model.Operation.activity_log` names it, compared case-insensitively, so a
   plugin's operation (a spot plugin's ``.../simulateEviction/action``) is read as soon as the
   plugin is loaded. Records of other operations are *ignored*. When one name maps to several
   operations (``Microsoft.Compute/virtualMachines/write``: create and update), the one that
   creates is chosen when the VM does not exist (never seen, or deleted), the other otherwise.
2. **Grouping.** Events with the same resource, ``correlationId`` and operation name are one
   operation (a template deployment shares one correlationId across many resources, hence the
   resource in the key). Records are sorted by time, so out-of-order files are fine.
3. **Duplicates.** A record whose ``eventDataId`` was already read is dropped. Records without
   one (the export shape has none) are duplicates when resource, correlationId, operation,
   status and time are all equal. A copy shares its operation's resource, correlationId and
   name, so duplicates are looked for among that operation's few events: no set of every id
   read is kept, which keeps memory down on large files.
4. **Replay.** Each VM's operations run through the engine in order of their first event:
   ``vm.do(op, at=<first event>, until=<Succeeded>)``, so the span from Started to Succeeded is
   the operation's transitional state (its phases are scaled to fit). An operation starting
   before the previous one ended is taken to start when it ended.
5. **Failures.** A Failed event gives ``vm.do(op, at=<first event>, until=<Failed>,
   fail=<code>)``: from Started to Failed the VM shows the operation's transitional
   provisioning state (``updating``; ``creating`` for a create, ``deleting`` for a delete)
   with its power state unchanged, then provisioning becomes ``failed/<code>`` and the power
   state stays (spec 000/001 "Edge cases"). Azure does not say what the instance view shows
   between Started and Failed: showing the span as the transitional state, without inventing
   power transitions, is vmlife's choice. The code is, first found: the first
   ``error.details[].code`` in ``properties.statusMessage`` (which holds JSON text, e.g.
   ``AllocationFailed`` under ``ResourceOperationFailure``), then ``error.code`` there, then
   ``subStatus.value`` / the part of ``resultSignature`` after the dot / ``properties.statusCode``
   (an HTTP status name such as ``Conflict``), else ``"Failed"``. The order is vmlife's choice:
   the most specific code wins.
6. **Cancels.** An operation whose last event is Canceled gives ``vm.do(op, at=<first
   event>, until=<Canceled>, cancel=True)``: the span shows the transitional provisioning
   state, then provisioning becomes ``canceled`` (``ProvisioningState/canceled``; 000:
   "User-initiated cancel will result in this state") and the power state stays where it was
   (vmlife's choice: Azure does not say where a cancel leaves the power state).
7. **Guards.** A logged operation happened: it is replayed with ``vm.do(..., replay=True)``,
   so a plugin's guard (one reading a VM attribute the log does not carry, say) cannot turn it
   into an anomaly. The guard's reason becomes a note on the operation's first step ("the model
   expected this to be refused: ..."), and the records of such operations are counted in
   ``counts.guard_noted`` (a part of ``used``).
8. **Anomalies.** A record with a missing or mistyped field, an operation with no Succeeded,
   Failed or Canceled event (never completed, or cut off at the end of the export: it is not
   applied), and an operation the lifecycle's own rules refuse from the rebuilt state (e.g. a
   start on a VM that is running: perhaps a guest-OS shutdown happened, which the log does not
   show) become
   :class:`~vmlife.io.history.Anomaly` entries, not errors. ``strict=True`` raises an
   :class:`~vmlife.errors.InputError` at the first one instead.
9. **The state before the first event.** A VM whose first operation creates it had no VM
   before. ``write`` on first sight is a create unless the answer to the request says ``OK``
   rather than ``Created``. HTTP answers a PUT that creates with 201 Created and one that
   replaces with 200 OK (RFC 9110), and Azure Resource Manager follows it; that the answer is
   the sub-status (or ``properties.statusCode``) of the Accepted event, or of Succeeded when
   there is no Accepted, is vmlife's reading (the Succeeded that ends an asynchronous
   operation says ``OK`` either way, so it is not evidence). For other first operations the VM
   existed, in a stable power state the operation is allowed from: running if allowed, else
   deallocated, else stopped (vmlife's choice: deallocated before stopped as it bills nothing,
   so a guess never invents compute charges). ``initial=`` gives it instead. A timeline starts at
   the VM's first event, or at ``start=`` (the billing period's start) when that is earlier:
   the state before the first event, inferred or given, then holds from the period start, so
   a VM deallocated all night before its first event bills its disks for those hours (and one
   inferred running bills compute). Without ``start`` the log says nothing of the time before.
10. **Names.** Resource ids are compared case-insensitively. A VM is named by the last segment
   of its resource id, spelled as in the first record that is not all upper-case (the export
   upper-cases ``resourceId`` but keeps the real spelling in ``properties.entity``, which is
   used when it matches); two VMs of one name in different groups are ``group/name``. The
   full id is the timeline's ``resource_id`` attribute.

Counts reconcile: ``read = used + duplicates + anomalies + ignored``. An anomaly covering an
operation counts all of its records.

Speed and memory for a million events, against merely ``json.loads``-ing the same lines, are
measured by ``benchmarks/activity_log_1m.py`` (``benchmarks/RESULTS.md``). With msgspec
installed (``vmlife[fast]``), JSON Lines export records are decoded straight into typed records
of the fields read here (:func:`_fast_decoder`); every line it cannot type exactly is read the
general way, and both give the same result (``tests/test_activity_log_fast.py``). Python's
cyclic garbage collector is paused while a log is read (see :func:`_gc_paused`), and equal
states in the finished timelines share one object.

What the Activity Log cannot show: a shutdown from inside the guest OS (the VM ends Stopped
and keeps billing compute) is not logged; and a hibernation is a deallocate with
``hibernate=true`` whose parameter the log may not carry. Every result says so in its notes
(the hibernation note only when a plugin registers the ``hibernation`` axis).

Example:
    >>> from vmlife.io.activity_log import read_activity_log
    >>> events = [
    ...     {"operationName": {"value": "Microsoft.Compute/virtualMachines/deallocate/action"},
    ...      "status": {"value": s}, "eventTimestamp": t, "correlationId": "c1",
    ...      "resourceId": "/subscriptions/s/resourceGroups/rg/providers/"
    ...                    "Microsoft.Compute/virtualMachines/web-1",
    ...      "eventDataId": f"e{i}"}
    ...     for i, (s, t) in enumerate([("Started", "2024-03-04T18:00:00Z"),
    ...                                 ("Succeeded", "2024-03-04T18:01:30Z")])]
    >>> result = read_activity_log(events)
    >>> [(s.state.power, s.duration) for s in result.timeline("web-1")]
    [('deallocating', 90.0), ('deallocated', None)]
    >>> result.initial["web-1"]["state"], result.counts.reconciles
    ('running', True)
"""

from __future__ import annotations

import gc
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from ..engine import VM, Timing
from ..errors import InputError, OperationNotAllowed, RunError, UnknownNameError
from ..lifecycle import Lifecycle
from ..lifecycle import lifecycle as current_lifecycle
from ..model import Operation, VMState
from ..timeline import Timeline
from ..timeutil import TimeLike, to_datetime, to_epoch
from .history import (
    Anomaly,
    Counts,
    LineDecoder,
    Progress,
    RawRecord,
    Reconstruction,
    Source,
    iter_records,
    source_name,
)

if TYPE_CHECKING:  # pragma: no cover
    from .inventory import Inventory

__all__ = [
    "FORMATS",
    "GUEST_SHUTDOWN_NOTE",
    "HIBERNATION_NOTE",
    "Anomaly",
    "Counts",
    "Reconstruction",
    "operation_map",
    "read_activity_log",
]

#: Record shapes: detect per record, REST/portal, storage/Event Hubs export.
FORMATS = ("auto", "rest", "export", "azureactivity")
ActivityLogFormat = Literal["auto", "rest", "export", "azureactivity"]

GUEST_SHUTDOWN_NOTE = (
    "Guest-OS shutdowns are not in the Activity Log: a VM shut down from inside its OS ends "
    "Stopped and keeps billing compute, but this timeline shows it running."
)
HIBERNATION_NOTE = (
    "Hibernation is a deallocate with hibernate=true; the Activity Log may not show the "
    "parameter, so a hibernated VM reads as deallocated."
)

STARTED, ACCEPTED, IN_PROGRESS = "Started", "Accepted", "In Progress"
SUCCEEDED, FAILED, CANCELED = "Succeeded", "Failed", "Canceled"
_TERMINAL = (SUCCEEDED, FAILED, CANCELED)

#: Status words of both shapes, lower-cased with blanks, dashes and underscores removed.
_STATUS = {
    "started": STARTED,
    "start": STARTED,
    "accepted": ACCEPTED,
    "accept": ACCEPTED,
    "inprogress": IN_PROGRESS,
    "succeeded": SUCCEEDED,
    "success": SUCCEEDED,
    "failed": FAILED,
    "failure": FAILED,
    "canceled": CANCELED,
    "cancelled": CANCELED,
    "cancel": CANCELED,
}
_STATUS_STRIP = str.maketrans("", "", " _-")

#: Initial power states tried, in order, for a VM whose first operation is not a create.
INITIAL_PREFERENCE = ("running", "deallocated", "stopped")
_NO_VM = ("none", "absent", "-", "no vm")


class _Bad(Exception):
    """A field problem inside one record (never leaves this module)."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


_IGNORED = object()


@dataclass(slots=True)
class _Group:
    """The events of one operation on one VM (same resource, correlationId, operation)."""

    vm: str
    op: str
    where: str
    index: int
    #: (time, status, extra, eventDataId) in file order; extra is the error code of a Failed
    #: event, the Created (True) / OK (False) answer of an Accepted or Succeeded one, or None
    events: list[tuple[float, str, Any, str | None]] = field(default_factory=list)

    def begin(self) -> float:
        return min(e[0] for e in self.events)

    def is_duplicate(self, t: float, status: str, event_id: str | None) -> bool:
        """The same event read before: same eventDataId, or (without one) same time and status.

        A copy of an event shares its resource, correlationId and operation, so duplicates are
        looked for among the group's few events rather than in a set of every id read.
        """
        for e in self.events:
            if event_id is not None:
                if e[3] == event_id:
                    return True
            elif e[3] is None and e[0] == t and e[1] == status:
                return True
        return False


def operation_map(lc: Lifecycle | None = None) -> dict[str, list[Operation]]:
    """Lower-cased Activity Log operation name -> the lifecycle operations it means.

    Built from every loaded operation's ``activity_log`` names, so plugins extend it.
    """
    lc = lc or current_lifecycle()
    out: dict[str, list[Operation]] = {}
    for op in lc.operations.values():
        for name in op.activity_log:
            out.setdefault(name.strip().lower(), []).append(op)
    return out


def read_activity_log(
    source: Source,
    *,
    format: ActivityLogFormat = "auto",
    initial: str | Mapping[str, str | None] | None = None,
    strict: bool = False,
    quiet: bool = False,
    name: str | None = None,
    timing: Timing | None = None,
    lifecycle: Lifecycle | None = None,
    start: TimeLike | None = None,
    inventory: Inventory | None = None,
) -> Reconstruction:
    """Rebuild each VM's timeline from an Activity Log.

    Args:
        source: a path (``"-"`` for standard input), an open file, or parsed JSON (a list of
            events, or an object with ``value`` or ``records``). It is never modified.
        format: ``"auto"`` (detect per record), ``"rest"``, ``"export"`` or
            ``"azureactivity"``.
        initial: the state of every VM before its first event (a power-state id such as
            ``"deallocated"``, ``"axis.id"``, or ``"none"`` for no VM), or a mapping from VM
            name or resource id to such a state; VMs it does not name are inferred.
        strict: raise at the first anomaly instead of reporting it.
        quiet: no progress bar (there is none anyway unless standard error is a terminal).
        name: the source's name in messages (default the path).
        timing: the engine's timing model (used only to split an operation's span among its
            phases, in proportion).
        lifecycle: the lifecycle (default: the loaded plugins').
        start: the start of the period to be billed (any time value): each VM that existed
            before its first event is in its initial state (given or inferred) from here,
            when this is earlier than that event.
        inventory: what each VM is (:func:`vmlife.io.inventory.read_inventory`); a VM's
            attributes (size, OS, region, priority, eviction policy, disks, ...) are set
            from it before its events replay, so plugin guards see them (a Spot VM's
            eviction replays as an eviction). VMs it does not list are named in the notes.

    Returns:
        A :class:`~vmlife.io.history.Reconstruction` of kind ``"activity_log"``.

    Raises:
        InputError: the file cannot be read or is not JSON; with ``strict``, any anomaly
            (naming the file, the record and the field).
        UnknownNameError: ``format`` or an ``initial`` state is unknown.
    """
    lc = lifecycle or current_lifecycle()
    src = source_name(source, name)
    if format not in FORMATS:
        raise UnknownNameError("Activity Log format", format, FORMATS)
    initial_for = _initial_resolver(initial, lc)
    ops = operation_map(lc)
    result = Reconstruction(src, "activity_log", format)
    result.notes[:] = [GUEST_SHUTDOWN_NOTE]
    if "hibernation" in lc.axes:  # only said where hibernation is modelled at all
        result.notes.append(HIBERNATION_NOTE)
    reader = _Reader(src, format, ops, strict, result)
    with _gc_paused():
        decode = _fast_decoder(format)
        typed, add, add_fast = _FAST[1], reader.add, reader.add_fast
        for raw in iter_records(source, name=src, quiet=quiet, decode=decode):
            if type(raw.value) is typed:
                add_fast(raw)
            else:
                add(raw)
        result.format = reader.shape()
        since = None if start is None else to_epoch(start)
        _replay(reader, ops, initial_for, strict, quiet, timing, lc, result, since,
                inventory)
    if result.counts.guard_noted:
        result.notes.append(
            f"{result.counts.guard_noted} records are of operations a plugin's guard would have "
            f"refused; they happened, so they are recorded, with the guard's reason as a note "
            f"on the step"
        )
    return result


# ---------------------------------------------------------------------- reading
class _Reader:
    """Turns records into grouped events, counting every record exactly once."""

    def __init__(
        self,
        src: str,
        fmt: str,
        ops: Mapping[str, list[Operation]],
        strict: bool,
        result: Reconstruction,
    ) -> None:
        self.src = src
        self.fmt = fmt
        self.ops = ops
        self.strict = strict
        self.result = result
        self.counts = result.counts
        self.groups: dict[tuple[str, str, str], _Group] = {}
        self.by_vm: dict[str, list[_Group]] = {}
        self.ids: dict[str, str] = {}  # resource key -> resource id as best written
        self.shapes: set[str] = set()
        self._intern: dict[str, str] = {}
        # caches of answers that depend on one string only (a log repeats a few of them):
        # operation name -> lower-cased name or _IGNORED; resource id -> resource key;
        # (resultType, resultSignature) -> (status, sub-status); text -> stripped, lower-cased
        self._op_names: dict[str, Any] = {}
        self._keys: dict[str, str] = {}
        self._results: dict[tuple[str | None, str | None], tuple[str, str | None]] = {}
        self._lower: dict[str, str] = {}
        self._settled: set[str] = set()  # resource keys whose best spelling is final
        self._checked: set[str] = set()  # resource ids the fast path found well-formed

    def shape(self) -> str:
        if len(self.shapes) == 1:
            return next(iter(self.shapes))
        if not self.shapes:
            return self.fmt
        return "mixed"

    def anomaly(self, raw: RawRecord, reason: str, field: str | None, vm: str | None) -> None:
        if self.strict:
            raise InputError(reason, source=self.src, record=raw.where, field=field)
        self.counts.anomalies += 1
        self.result.anomalies.append(Anomaly(raw.where, raw.index, vm, reason, field))

    def add(self, raw: RawRecord) -> None:
        """Read one record: group it with its operation's events, or count it as a
        duplicate, ignored, or in an anomaly."""
        self.counts.read += 1
        if raw.problem is not None:
            self.anomaly(raw, raw.problem, None, None)
            return
        rec = raw.value
        if type(rec) is not dict and not isinstance(rec, Mapping):
            self.anomaly(raw, f"expected an event object, got {_type(rec)}", None, None)
            return
        try:
            parsed = self._parse(rec)
        except _Bad as bad:
            rid = rec.get("resourceId", rec.get("_ResourceId", rec.get("ResourceId")))
            self._bad(raw, bad, rid)
            return
        if parsed is _IGNORED:
            self.counts.ignored += 1
            return
        self._place(raw, *parsed)

    def _bad(self, raw: RawRecord, bad: _Bad, rid: Any) -> None:
        vm = _last_segment(rid) if isinstance(rid, str) and rid.strip() else None
        self.anomaly(raw, bad.reason, bad.field, vm)

    def _place(
        self,
        raw: RawRecord,
        shape: str,
        op: str,
        rid: str,
        status: str,
        t: float,
        corr: str,
        event_id: str | None,
        extra: Any,
    ) -> None:
        """Put a parsed record with its operation's events (or count it as a duplicate)."""
        key = self._keys.get(rid)
        if key is None:
            key = _resource_key(rid)
            key = self._keys[rid] = self._intern.setdefault(key, key)
        lowered = corr.lower()
        gkey = (key, corr if lowered == corr else lowered, op)
        group = self.groups.get(gkey)
        if group is None:
            group = self.groups[gkey] = _Group(key, op, raw.where, raw.index)
            self.by_vm.setdefault(key, []).append(group)
        elif group.is_duplicate(t, status, event_id):
            self.counts.duplicates += 1
            return
        self.shapes.add(shape)
        if key not in self._settled:
            best = self.ids.get(key)
            if best is None or (best.isupper() and not rid.isupper()):
                best = self.ids[key] = rid.strip()
            if not best.isupper():
                self._settled.add(key)
        group.events.append((t, status, extra, event_id))

    def add_fast(self, raw: RawRecord) -> None:
        """:meth:`add` for an export record the fast decoder typed (see
        :func:`_fast_decoder`): the same checks in the same order as :meth:`_parse`, on
        fields whose types are already known, then :meth:`_place`, so both paths
        give the same answer for every record (a property test compares them). This runs
        once per line of a large log, so it asks the caches inline and repeats the end of
        :meth:`_parse` (on typed fields) rather than calling it; a change to one must be made
        to the other."""
        self.counts.read += 1
        ev = raw.value
        op = self._op_names.get(ev.operationName)
        if op is None:
            op = self._operation(ev.operationName)
        if op is _IGNORED:
            self.counts.ignored += 1
            return
        rid = ev.resourceId
        try:
            if rid not in self._checked:
                self._checked.add(self._resource(rid))
            found = self._results.get((ev.resultType, ev.resultSignature))
            if found is None:
                found = self._result(ev.resultType, ev.resultSignature)
            t = _fast_time(ev.time)
            if t is None:
                t = _time(ev.time, "time")
            corr = ev.correlationId.strip()
            if not corr:
                raise _Bad("correlationId", "expected text, got str")
        except _Bad as bad:
            self._bad(raw, bad, rid)
            return
        status, sub = found
        props = ev.properties
        if props is None:
            code = None
        else:
            code = props.statusCode
            entity = props.entity
            if entity is not None:
                lower = self._lower
                ent = lower.get(entity)
                if ent is None:
                    ent = lower[entity] = entity.strip().lower()
                low = lower.get(rid)
                if low is None:
                    low = lower[rid] = rid.strip().lower()
                if ent == low:
                    rid = entity  # the export upper-cases resourceId; entity keeps the case
        if status is SUCCEEDED or status is ACCEPTED:
            extra: Any = _created(sub, code)
        elif status is FAILED:
            extra = _error_code(None if props is None else props.statusMessage, code, sub)
        else:
            extra = None
        self._place(raw, "export", op, rid, status, t, corr, ev.eventDataId, extra)

    def _operation(self, op_name: str) -> Any:
        """The lower-cased operation name (interned), or _IGNORED for one no lifecycle
        operation means; asked once per spelling."""
        op = self._op_names.get(op_name)
        if op is None:
            op = op_name.strip().lower()
            op = self._op_names[op_name] = (
                self._intern.setdefault(op, op) if op in self.ops else _IGNORED
            )
        return op

    def _resource(self, rid: Any) -> str:
        if rid is None:
            raise _Bad("resourceId", "missing")
        if (type(rid) is not str or rid not in self._keys) and (
            not isinstance(rid, str) or not rid.strip("/ ")
        ):
            raise _Bad("resourceId", f"expected a resource id as text, got {_type(rid)}")
        return rid

    def _result(self, rtype: Any, sig: Any) -> tuple[str, str | None]:
        """(status, sub-status) of an export record's resultType and resultSignature."""
        rkey = (rtype, sig)
        cacheable = type(rtype) is str and (sig is None or type(sig) is str)
        found = self._results.get(rkey) if cacheable else None
        if found is None:
            found = _export_status(rtype, sig)
            if cacheable:
                self._results[rkey] = found
        return found

    def _parse(self, rec: Mapping[str, Any]) -> Any:
        """A record as (shape, operation, resource id, status, time, correlationId,
        eventDataId, extra), or _IGNORED; raises _Bad naming the field at fault."""
        shape = self.fmt if self.fmt != "auto" else _detect(rec)
        if shape == "azureactivity":
            rec = _from_azure_activity(rec)
        op_name = _named(rec, "operationName")
        if op_name is None:
            raise _Bad("operationName", "missing")
        op = self._operation(op_name)
        if op is _IGNORED:
            return _IGNORED
        rid = self._resource(rec.get("resourceId"))
        if shape == "rest":
            status_text = _named(rec, "status")
            if status_text is None:
                raise _Bad("status", "missing")
            status = _STATUS.get(status_text.lower().translate(_STATUS_STRIP))
            if status is None:
                raise _Bad("status", f"unknown status {status_text!r}")
            time_field = "eventTimestamp"
            sub = _named(rec, "subStatus")
        else:  # export, and AzureActivity rows translated to it
            status, sub = self._result(rec.get("resultType"), rec.get("resultSignature"))
            time_field = "time"
        t = _time(rec.get(time_field), time_field)
        corr = rec.get("correlationId")
        if corr is None:
            raise _Bad("correlationId", "missing")
        if not isinstance(corr, str) or not corr.strip():
            raise _Bad("correlationId", f"expected text, got {_type(corr)}")
        event_id = rec.get("eventDataId")
        if event_id is not None and not isinstance(event_id, str):
            raise _Bad("eventDataId", f"expected text, got {_type(event_id)}")
        props = rec.get("properties")
        if type(props) is not dict and not isinstance(props, Mapping):
            props = {}
        code = props.get("statusCode")
        entity = props.get("entity")
        if type(entity) is str:
            lower = self._lower
            ent = lower.get(entity)
            if ent is None:
                ent = lower[entity] = entity.strip().lower()
            low = lower.get(rid)
            if low is None:
                low = lower[rid] = rid.strip().lower()
            if ent == low:
                rid = entity  # the export upper-cases resourceId; entity keeps the real case
        extra: Any = None
        if status == FAILED:
            extra = _error_code(props.get("statusMessage"), code, sub)
        elif status in (SUCCEEDED, ACCEPTED):
            extra = _created(sub, code)
        return (shape, op, rid, status, t, corr.strip(), event_id, extra)


#: The fast path's (decoder, record type), set by _fast_decoder() when msgspec is installed.
_FAST: list[Any] = [None, None]

#: Read JSON Lines export records through msgspec when it is installed (``vmlife[fast]``).
#: Both paths give identical results (tests compare them); False forces the stdlib parser.
FAST_DECODE = True


def _fast_decoder(fmt: str) -> LineDecoder | None:
    """The fast path for JSON Lines in the export shape, or None (msgspec missing, turned off,
    or a format other than auto/export).

    msgspec decodes a line straight into a typed record holding only the fields vmlife reads,
    skipping the rest unbuilt, which is several times cheaper than :func:`json.loads` making
    a dict of every field. A line it cannot type exactly (a field of another type, a REST-shape
    or envelope key present, not JSON by msgspec's reading, longer than the digits Python will
    convert to an int) is read the general way, so every difference is handled in one place:
    :meth:`_Reader._parse`.
    """
    if not FAST_DECODE or fmt not in ("auto", "export"):
        return None
    if _FAST[0] is None:
        try:
            import msgspec
        except ImportError:
            return None

        try:
            decode, event = _build_fast_decoder(msgspec)
        except Exception:  # an msgspec too old for these types: the stdlib path, silently
            return None
        limit = sys.get_int_max_str_digits() or float("inf")
        errors = (msgspec.MsgspecError, ValueError, RecursionError)
        unset = msgspec.UNSET

        def one(line: str) -> Any:
            # the general path's json.loads refuses an integer longer than Python's limit,
            # which msgspec would skip unconverted: such a long line goes that way
            if len(line) > limit:
                return None
            try:
                return decode(line)
            except errors:
                return None

        def fast(lines: list[str]) -> list[Any]:
            if max(map(len, lines)) > limit:
                evs = [one(line) for line in lines]
            else:
                try:
                    evs = list(map(decode, lines))  # the usual chunk: every line decodes
                except errors:
                    evs = [one(line) for line in lines]
            return [
                ev if ev is not None and ev.eventTimestamp is unset and ev.status is unset
                and ev.records is unset and ev.value is unset else None
                for ev in evs
            ]

        _FAST[:] = [fast, event]
    decoder: LineDecoder = _FAST[0]
    return decoder


def _build_fast_decoder(msgspec: Any) -> tuple[Callable[[str], Any], type]:
    """msgspec's decoder of one export line into a typed record, and the record's type."""
    text = str | None
    props = msgspec.defstruct("Properties", [
        ("entity", text, None), ("statusCode", text, None), ("statusMessage", text, None),
    ])
    event = msgspec.defstruct("ExportEvent", [
        ("time", str),
        ("operationName", str),
        ("resourceId", str),
        ("correlationId", str),
        ("resultType", text, None),
        ("resultSignature", text, None),
        ("eventDataId", text, None),
        ("properties", props | None, None),
        # present (even as null) in a record the general path reads another way: a REST
        # record, or an envelope of records. Raw takes any value without building it.
        ("eventTimestamp", msgspec.Raw, msgspec.UNSET),
        ("status", msgspec.Raw, msgspec.UNSET),
        ("records", msgspec.Raw, msgspec.UNSET),
        ("value", msgspec.Raw, msgspec.UNSET),
    ])
    return msgspec.json.Decoder(event).decode, event


def _detect(rec: Mapping[str, Any]) -> str:
    if (
        "eventTimestamp" in rec
        or isinstance(rec.get("operationName"), Mapping)
        or isinstance(rec.get("status"), Mapping)
    ):
        return "rest"
    if "time" in rec or "resultType" in rec or "resultSignature" in rec:
        return "export"
    if "OperationNameValue" in rec or "ActivityStatusValue" in rec:
        return "azureactivity"
    return "rest"


#: AzureActivity column -> the export field it carries (Azure Monitor Logs table reference,
#: "AzureActivity", learn.microsoft.com/azure/azure-monitor/reference/tables/azureactivity).
_AZURE_ACTIVITY = (
    ("TimeGenerated", "time"),
    ("OperationNameValue", "operationName"),
    ("ActivityStatusValue", "resultType"),
    ("CorrelationId", "correlationId"),
    ("EventDataId", "eventDataId"),
)


def _from_azure_activity(rec: Mapping[str, Any]) -> dict[str, Any]:
    """A Log Analytics ``AzureActivity`` row as the export record it mirrors.

    Columns (Azure Monitor Logs reference, table "AzureActivity"): ``TimeGenerated``,
    ``OperationNameValue`` (upper case), ``ActivityStatusValue`` (Start, Accept, Success,
    Failure), ``ActivitySubstatusValue`` (Created, OK, Conflict...), ``_ResourceId`` (lower
    case) or ``ResourceId``, ``CorrelationId``, ``EventDataId`` and ``Properties``, a JSON
    object or its text (``az monitor log-analytics query`` prints every value as a string).
    The portal's CSV export names the time column ``TimeGenerated [UTC]`` and may write it as
    ``3/4/2024, 6:00:00.000 PM``; vmlife reads that as month/day/year in UTC (its choice: the
    portal writes the column in the viewer's locale, and the US form is the one it uses by
    default). Empty strings are missing values.
    """
    out: dict[str, Any] = {}
    for column, key in _AZURE_ACTIVITY:
        value = rec.get(column)
        if value is None and column == "TimeGenerated":
            value = rec.get("TimeGenerated [UTC]")
        if value is not None and value != "":
            out[key] = value
    if isinstance(out.get("time"), str):
        out["time"] = _portal_time(out["time"])
    sub = rec.get("ActivitySubstatusValue")
    status = out.get("resultType")
    if isinstance(sub, str) and sub.strip() and isinstance(status, str):
        out["resultSignature"] = f"{status}.{sub.strip()}"
    rid = rec.get("_ResourceId") or rec.get("ResourceId")
    if rid not in (None, ""):
        out["resourceId"] = rid
    props = rec.get("Properties", rec.get("Properties_d"))
    if isinstance(props, str) and props.strip():
        from .source import loads

        try:
            props = loads(props, name="<row>")
        except InputError as exc:
            raise _Bad("Properties", exc.reason) from None
    if isinstance(props, Mapping):
        out["properties"] = props
    elif props not in (None, ""):
        raise _Bad("Properties", f"expected a JSON object, got {_type(props)}")
    return out


_US_TIME = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4}),?\s+(\d{1,2}):(\d\d):(\d\d)(?:\.(\d{1,7}))?\s*([AaPp][Mm])?"
)


def _portal_time(text: str) -> str:
    """``3/4/2024, 6:00:00.000 PM`` as ``2024-03-04T18:00:00.000Z``; other text unchanged."""
    m = _US_TIME.fullmatch(text.strip())
    if m is None:
        return text
    month, day, year, hour, minute, second, frac, half = m.groups()
    h = int(hour)
    if half:
        if not 1 <= h <= 12:
            return text
        h = h % 12 + (12 if half.lower() == "pm" else 0)
    fraction = f".{frac}" if frac else ""
    return f"{year}-{int(month):02d}-{int(day):02d}T{h:02d}:{minute}:{second}{fraction}Z"


def _type(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _named(rec: Mapping[str, Any], key: str) -> str | None:
    """A REST ``{"value": ..., "localizedValue": ...}`` field, or plain text."""
    value = rec.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        inner = value.get("value")
        if isinstance(inner, str):
            return inner
        if inner is None:
            raise _Bad(f"{key}.value", "missing")
        raise _Bad(f"{key}.value", f"expected text, got {_type(inner)}")
    raise _Bad(key, f"expected text or an object with a 'value', got {_type(value)}")


def _export_status(rtype: Any, sig: Any) -> tuple[str, str | None]:
    """Status and sub-status of an export record: ``resultType``, else ``resultSignature``."""
    if rtype is not None and not isinstance(rtype, str):
        raise _Bad("resultType", f"expected text, got {_type(rtype)}")
    if sig is not None and not isinstance(sig, str):
        raise _Bad("resultSignature", f"expected text, got {_type(sig)}")
    head, _, tail = (sig or "").partition(".")
    word, where = (rtype, "resultType") if rtype else (head, "resultSignature")
    if not word:
        raise _Bad("resultType", "missing")
    status = _STATUS.get(word.lower().translate(_STATUS_STRIP))
    if status is None:
        raise _Bad(where, f"unknown result {word!r}")
    return status, (tail.strip() or None)


def _time(value: Any, key: str) -> float:
    if value is None:
        raise _Bad(key, "missing")
    if not isinstance(value, str):
        raise _Bad(key, f"expected an ISO 8601 time as text, got {_type(value)}")
    fast = _fast_time(value)
    if fast is not None:
        return fast
    try:
        t = to_epoch(value)
        to_datetime(t)  # in datetime's range, so it can be printed
    except (ValueError, OverflowError, OSError):
        raise _Bad(key, f"not an ISO 8601 time: {value[:40]!r}") from None
    return t


_fromisoformat = datetime.fromisoformat
#: 9999-01-01T00:00:00Z: times from here on are left to to_epoch, which checks they can be
#: printed (the last second of year 9999 rounds past datetime's range).
_YEAR_9999 = 253370764800.0


def _fast_time(text: str) -> float | None:
    """A time as Azure writes it, ``YYYY-MM-DDTHH:MM:SS.fffffffZ`` (seven digits) or
    ``YYYY-MM-DDTHH:MM:SSZ``, read exactly as ``to_epoch`` reads it (the same
    ``datetime.fromisoformat`` on the same text, fraction cut to microseconds) without its
    general steps; None for any other form or a time before 1970 or in year 9999, which
    ``to_epoch`` then reads."""
    n = len(text)
    if n == 28:
        if text[27] != "Z" or text[19] != "." or not text[20:27].isdigit():
            return None
        head = text[:26]
    elif n == 20:
        if text[19] != "Z":
            return None
        head = text[:19]
    else:
        return None
    try:
        t = _fromisoformat(head + "+00:00").timestamp()
    except ValueError:
        return None
    return t if 0.0 < t < _YEAR_9999 else None


def _error_code(msg: Any, status_code: Any, sub: str | None) -> str:
    """The code a Failed event names: ``properties.statusMessage`` (JSON text), the
    sub-status, ``properties.statusCode``, else ``"Failed"`` (see the module docstring)."""
    if isinstance(msg, str):
        try:
            msg = json.loads(msg)
        except (ValueError, RecursionError):
            msg = None
    if isinstance(msg, Mapping):
        err = msg.get("error")
        if isinstance(err, Mapping):
            details = err.get("details")
            if isinstance(details, list):
                for d in details:
                    code = d.get("code") if isinstance(d, Mapping) else None
                    if isinstance(code, str) and code.strip():
                        return _clean_code(code)
            code = err.get("code")
            if isinstance(code, str) and code.strip():
                return _clean_code(code)
    if sub:
        return _clean_code(sub)
    if isinstance(status_code, str) and status_code.strip():
        return _clean_code(status_code)
    return "Failed"


def _clean_code(code: str) -> str:
    # an error code becomes ProvisioningState/failed/<code>: keep it one token
    return "".join(ch for ch in code.strip() if not ch.isspace()).replace("/", "_") or "Failed"


def _created(sub: str | None, code: Any) -> bool | None:
    """True if the Succeeded event says Created (201), False if OK (200), else None."""
    for value in (sub, code):
        if isinstance(value, str):
            word = value.strip().lower()
            if word == "created":
                return True
            if word == "ok":
                return False
    return None


def _resource_key(rid: str) -> str:
    return "/" + rid.strip().strip("/").lower()


def _last_segment(rid: str) -> str:
    return rid.strip().rstrip("/").rsplit("/", 1)[-1]


def _display_names(ids: Mapping[str, str]) -> dict[str, str]:
    """VM name per resource key: the last segment, or ``group/name`` when two VMs share it."""
    by_name: dict[str, list[str]] = {}
    for key in ids:
        by_name.setdefault(_last_segment(key), []).append(key)
    out = {}
    for key, rid in ids.items():
        if len(by_name[_last_segment(key)]) == 1:
            out[key] = _last_segment(rid)
        else:
            parts = rid.strip().strip("/").split("/")
            out[key] = "/".join(parts[3:4] + parts[-1:]) if len(parts) >= 4 else rid.strip()
    # still colliding (same group name under two subscriptions): the full id
    seen: dict[str, int] = {}
    for name in out.values():
        seen[name.lower()] = seen.get(name.lower(), 0) + 1
    return {k: (ids[k].strip() if seen[n.lower()] > 1 else n) for k, n in out.items()}


# ---------------------------------------------------------------------- replay
#: (VM name, resource key) -> (the given state, or None for no VM), or None to infer it.
_InitialFor = Callable[[str, str], "tuple[str | None] | None"]


def _initial_resolver(initial: str | Mapping[str, str | None] | None, lc: Lifecycle) -> _InitialFor:
    """What ``initial=`` says for each VM; unknown state names fail here, before reading."""

    def check(state: str | None) -> str | None:
        if state is None or state.strip().lower() in _NO_VM:
            return None
        lc.find_state(state)  # raises UnknownNameError listing the choices
        return state.strip()

    if initial is None:
        return lambda _name, _key: None
    if isinstance(initial, str):
        value = check(initial)
        return lambda _name, _key: (value,)
    table = {k.strip().lower(): check(v) for k, v in initial.items()}
    lowered = {(_resource_key(k) if "/" in k else k): v for k, v in table.items()}

    def lookup(name: str, key: str) -> tuple[str | None] | None:
        for k in (name.lower(), key):
            if k in lowered:
                return (lowered[k],)
        return None

    return lookup


def _choose(cands: list[Operation], exists: bool) -> Operation:
    if len(cands) > 1:
        fitting = [o for o in cands if o.creates != exists]
        if fitting:
            return fitting[0]
    return cands[0]


def _infer_initial(group: _Group, cands: list[Operation], lc: Lifecycle) -> str | None:
    creators = [o for o in cands if o.creates]
    others = [o for o in cands if not o.creates]
    if creators and not others:
        return None
    if creators:
        # the HTTP answer to the request: on the Accepted event of an asynchronous operation,
        # on Succeeded when the request completed at once; a later Succeeded says nothing
        answer = [e for e in group.events if e[1] == ACCEPTED] or [
            e for e in group.events if e[1] == SUCCEEDED
        ]
        flags = {e[2] for e in answer}
        if True in flags or False not in flags:
            return None  # 201 Created, or nothing said: a create
    sources = others[0].sources
    stable = [
        s.id
        for s in lc.states_on("power")
        if not s.transitional and (sources is None or s.id in sources)
    ]
    for pref in INITIAL_PREFERENCE:
        if pref in stable:
            return pref
    return stable[0] if stable else None


def _spelled(op: str, ops: Mapping[str, list[Operation]]) -> str:
    """An operation name as the lifecycle spells it (records may be upper-cased)."""
    for name in ops[op][0].activity_log:
        if name.strip().lower() == op:
            return name.strip()
    return op


def _status_list(group: _Group) -> str:
    return ", ".join(e[1] for e in group.events)


def _replay(
    reader: _Reader,
    ops: Mapping[str, list[Operation]],
    initial_for: _InitialFor,
    strict: bool,
    quiet: bool,
    timing: Timing | None,
    lc: Lifecycle,
    result: Reconstruction,
    since: float | None = None,
    inventory: Inventory | None = None,
) -> None:
    if inventory is not None:  # an all-upper-case id (the export's) takes the inventory's case
        for key, rid in reader.ids.items():
            info = inventory.get(rid) if rid.isupper() else None
            if info is not None:
                reader.ids[key] = info.resource_id
    names = _display_names(reader.ids)
    missing: list[str] = []
    counts = result.counts
    src = result.source

    def anomaly(group: _Group, vm: str, reason: str, field: str | None = None) -> None:
        n = len(group.events)
        if strict:
            raise InputError(f"{vm}: {reason}", source=src, record=group.where, field=field)
        counts.anomalies += n
        result.anomalies.append(Anomaly(group.where, group.index, vm, reason, field, n))

    total = sum(len(g) for g in reader.by_vm.values())
    timelines = []
    reader.groups.clear()  # the groups live on in by_vm, which is emptied VM by VM
    shared: dict[VMState, VMState] = {}
    with Progress(total, "replaying", unit="op", enabled=not quiet) as bar:
        for key in list(reader.by_vm):
            groups = reader.by_vm.pop(key)
            name = names[key]
            groups.sort(key=_in_time_order)
            first = groups[0]
            given = initial_for(name, key)
            if given is not None:
                state = given[0]
                how = "given"
            else:
                state = _infer_initial(first, ops[first.op], lc)
                how = "inferred"
            result.initial[name] = {"state": state, "how": how, "resource_id": reader.ids[key]}
            begin = first.events[0][0]
            if since is not None and state is not None:
                begin = min(begin, since)  # the state before the first event holds from here
            attrs: dict[str, Any] = {}
            if inventory is not None:
                info = inventory.get(reader.ids[key])
                if info is None:
                    missing.append(name)
                else:
                    attrs = info.attributes()
            attrs["resource_id"] = reader.ids[key]
            vm = VM(
                name,
                start=begin,
                timing=timing,
                state=state,
                lifecycle=lc,
                **attrs,
            )
            bar.update(len(groups))
            for group in groups:
                events = group.events
                for last in reversed(events):
                    if last[1] in _TERMINAL:
                        break
                else:
                    anomaly(
                        group,
                        name,
                        f"{_spelled(group.op, ops)} never completed: no Succeeded or Failed event "
                        f"(seen: {_status_list(group)}); not applied",
                        "status",
                    )
                    continue
                end_t, outcome, code, _id = last
                cands = ops[group.op]
                op = cands[0] if len(cands) == 1 else _choose(cands, vm.state.exists)
                at = events[0][0]
                if at < vm.clock:
                    at = vm.clock
                until = end_t if end_t > at else at
                before = vm.noted_operations
                try:
                    if outcome == SUCCEEDED:
                        vm.do(op.id, at=at, until=until, replay=True)
                    elif outcome == CANCELED:
                        vm.do(op.id, at=at, until=until, cancel=True, replay=True)
                    else:
                        vm.do(op.id, at=at, until=until, fail=code or "Failed", replay=True)
                except OperationNotAllowed as err:
                    anomaly(group, name, f"{_spelled(group.op, ops)} ({op.id}) refused: {err}",
                            "operationName")
                    continue
                except RunError as err:  # an UnknownNameError too (no canceled state loaded)
                    anomaly(group, name, f"{_spelled(group.op, ops)} ({op.id}): {err}",
                            "operationName")
                    continue
                counts.used += len(events)
                if vm.noted_operations > before:
                    counts.guard_noted += len(events)
            timelines.append(_compact(vm, shared))
    timelines.sort(key=lambda t: (t.vm.lower(), t.vm))
    result.timelines = timelines
    if missing:
        result.notes.append(
            f"Not in the inventory ({inventory.source if inventory else ''}): "
            f"{', '.join(sorted(missing))}; their size, OS, region and priority are unknown.")


def _time_of(event: tuple[float, str, Any, str | None]) -> float:
    return event[0]


def _in_time_order(group: _Group) -> tuple[float, int]:
    """Sort key of a VM's operations: first event's time, then file order. Sorts the group's
    own events by time on the way (stable: file order among equal times), so its first
    event is its start."""
    group.events.sort(key=_time_of)
    return group.events[0][0], group.index


def _compact(vm: VM, shared: dict[VMState, VMState]) -> Timeline:
    """The VM's timeline with equal states as one object (a long log repeats a few states)."""
    seen: dict[int, VMState] = {}  # by identity first: the engine reuses its state objects
    states = []
    for s in vm._states:
        one = seen.get(id(s))
        if one is None:
            one = seen[id(s)] = shared.setdefault(s, s)
        states.append(one)
    return Timeline(
        vm.name,
        vm._starts,
        states,
        vm._ops,
        attributes=vm.attributes,
        notes=vm._notes,
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk load.

    Reading a large log makes millions of small containers and no reference cycles; the
    collector would scan them over and over as they pile up. Reference counting still frees
    everything as usual; the collector's previous setting is restored.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
