"""Azure status codes: parse, format, and turn a ``statuses`` list into a composite state.

The grammar is ``<Axis>/<state>[/<sub>]`` (spec 003: "in the form of
``ProvisioningState/<state>[/<errorCode>]``"). ``<sub>`` is an error code after ``failed``
(``ProvisioningState/failed/InternalOperationError``, spec 001) or an OS-provisioning substate
after ``creating`` (``ProvisioningState/creating/osProvisioningComplete``, spec 003). Real data
varies in case and spacing (spec 000 writes ``ProvisioningState/ OSProvisioningComplete``,
without ``creating``), so parsing ignores case and blanks around parts; formatting always emits
the canonical code registered for the state. Prefixes and states come from the lifecycle, so a
plugin's axis (``HibernationState/Hibernated``) parses once the plugin is loaded, and is
reported as unknown before that. Unknown codes never raise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .lifecycle import Lifecycle
from .lifecycle import lifecycle as current_lifecycle
from .model import State, VMState
from .timeutil import iso

__all__ = [
    "ParsedCode",
    "StatusReading",
    "format_code",
    "parse_code",
    "parse_display",
    "read_statuses",
    "statuses_for",
]


@dataclass(frozen=True)
class ParsedCode:
    """The result of parsing one status code.

    Attributes:
        raw: the code as given.
        states: the states it denotes (two for ``ProvisioningState/creating/OSProvisioning...``:
            provisioning ``creating`` and the OS substate); empty when unknown.
        detail: the error code after ``failed``, if any, in the case given.
    """

    raw: str
    states: tuple[State, ...] = ()
    detail: str | None = None

    @property
    def known(self) -> bool:
        return bool(self.states)

    @property
    def canonical(self) -> str | None:
        """The canonical spelling, or None for an unknown code."""
        if not self.states:
            return None
        return format_code(self.states[-1], self.detail)


def _split(code: str) -> list[str]:
    return [p.strip() for p in code.split("/") if p.strip()]


def _segment(state: State) -> str:
    return _split(state.code)[-1].lower()


def parse_code(code: str, lc: Lifecycle | None = None) -> ParsedCode:
    """Parse a status code against the lifecycle's states. Never raises.

    Example:
        >>> p = parse_code("ProvisioningState/failed/OSProvisioningTimedOut")
        >>> [s.key for s in p.states], p.detail
        (['provisioning.failed'], 'OSProvisioningTimedOut')
        >>> parse_code("provisioningstate/ OSProvisioningComplete").canonical
        'ProvisioningState/creating/OSProvisioningComplete'
    """
    lc = lc or current_lifecycle()
    if not isinstance(code, str):
        return ParsedCode(repr(code))
    parts = _split(code)
    if len(parts) < 2:
        return ParsedCode(code)
    axes = lc.by_prefix.get(parts[0].lower(), [])
    top = [a for a in axes if a.parent is None]
    nested = [a for a in axes if a.parent is not None]
    seg = parts[1].lower()
    for axis in top:
        for st in lc.states_on(axis.id):
            if _segment(st) != seg:
                continue
            if len(parts) == 2:
                return ParsedCode(code, (st,))
            if st.detail:
                return ParsedCode(code, (st,), "/".join(parts[2:]))
            sub = _find_nested(lc, nested, (axis.id, st.id), parts[2].lower())
            if sub is not None and len(parts) == 3:
                return ParsedCode(code, (st, sub))
            return ParsedCode(code)
    # a substate written without its parent state (spec 000: "ProvisioningState/ OSProv...")
    if len(parts) == 2:
        for axis in nested:
            assert axis.parent is not None
            sub = _find_nested(lc, [axis], axis.parent, seg)
            if sub is not None:
                return ParsedCode(code, (lc.state(*axis.parent), sub))
    return ParsedCode(code)


def _find_nested(
    lc: Lifecycle, nested: Iterable[Any], parent: tuple[str, str], seg: str
) -> State | None:
    for axis in nested:
        if axis.parent != parent:
            continue
        for st in lc.states_on(axis.id):
            if _segment(st) == seg:
                return st
    return None


def format_code(state: State, detail: str | None = None) -> str:
    """The canonical status code of a state, with an error code for ``failed``."""
    if detail and state.detail:
        return f"{state.code}/{detail}"
    return state.code


def parse_display(text: str, lc: Lifecycle | None = None, *, axis: str = "power") -> State | None:
    """The state whose ``displayStatus`` is ``text`` (case-insensitive), e.g. "VM deallocated"."""
    lc = lc or current_lifecycle()
    if not isinstance(text, str):
        return None
    want = " ".join(text.split()).lower()
    for st in lc.states_on(axis) if axis in lc.axes else ():
        if st.display.lower() == want:
            return st
    return None


@dataclass
class StatusReading:
    """A VM's state as read from Azure output.

    Attributes:
        vm: name or resource id, when the input says.
        state: the composite state.
        unknown_codes: codes in the VM's own statuses that no loaded plugin knows.
        message: the message of a failed provisioning status, if any.
        time: ``time`` of the provisioning status, if any (ISO text as given).
    """

    vm: str | None
    state: VMState
    unknown_codes: list[str] = field(default_factory=list)
    message: str | None = None
    time: str | None = None

    def as_dict(self, lc: Lifecycle | None = None) -> dict[str, Any]:
        """The ``vmlife status --json`` object: vm, one key per axis, error_code, unknown_codes."""
        lc = lc or current_lifecycle()
        out: dict[str, Any] = {"vm": self.vm}
        for axis in lc.axis_order():
            out[axis.id] = self.state.get(axis.id)
        out["error_code"] = self.state.error_code
        out["unknown_codes"] = list(self.unknown_codes)
        return out


def read_statuses(
    statuses: Iterable[Any], *, vm: str | None = None, lc: Lifecycle | None = None
) -> StatusReading:
    """The composite state shown by a VM's own top-level ``statuses`` list.

    ``statuses`` may also be an instance view (an object with ``statuses``), a VM with
    ``instanceView`` / ``instance_view``, or an Azure SDK object with an ``as_dict()`` method
    (``compute_client.virtual_machines.instance_view(rg, name)``): the SDK is duck-typed, never
    imported. Entries that are not objects with a text ``code`` are reported in
    ``unknown_codes``.
    """
    lc = lc or current_lifecycle()
    statuses = _statuses_of(statuses)
    axes: dict[str, str] = {}
    error: str | None = None
    unknown: list[str] = []
    message = time = None
    for entry in statuses:
        as_dict = getattr(entry, "as_dict", None)
        if callable(as_dict) and not isinstance(entry, Mapping):
            entry = as_dict()
        code = entry.get("code") if isinstance(entry, Mapping) else None
        if not isinstance(code, str):
            unknown.append(repr(entry))
            continue
        parsed = parse_code(code, lc)
        if not parsed.known:
            unknown.append(code)
            continue
        for st in parsed.states:
            axes[st.axis] = st.id
        if parsed.detail:
            error = parsed.detail
        if parsed.states[0].axis == "provisioning" and isinstance(entry, Mapping):
            msg = entry.get("message")
            message = msg if isinstance(msg, str) else message
            tm = entry.get("time")
            time = tm if isinstance(tm, str) else time
    return StatusReading(vm, VMState(axes, error_code=error), unknown, message, time)


def _statuses_of(obj: Any) -> Iterable[Any]:
    """The statuses list inside whatever was given (see :func:`read_statuses`)."""
    as_dict = getattr(obj, "as_dict", None)
    if callable(as_dict) and not isinstance(obj, Mapping | list):
        obj = as_dict()
    for _ in range(3):  # a VM -> its instance view -> its statuses
        if not isinstance(obj, Mapping):
            break
        props = obj.get("properties")
        if "statuses" in obj:
            obj = obj["statuses"]
        elif "instanceView" in obj or "instance_view" in obj:
            obj = obj.get("instanceView", obj.get("instance_view"))
        elif isinstance(props, Mapping) and "instanceView" in props:
            obj = props["instanceView"]
        else:
            break
    if obj is None:
        return []
    if isinstance(obj, Mapping) or not isinstance(obj, Iterable) or isinstance(obj, str):
        return [obj]  # reported as an unknown entry
    return obj


def statuses_for(
    state: VMState, *, lifecycle: Lifecycle | None = None, time: float | None = None
) -> list[dict[str, Any]]:
    """The instance-view ``statuses`` list Azure shows for a composite state.

    OS-provisioning substates replace the plain ``ProvisioningState/creating`` entry (Azure
    shows one provisioning status); ``failed`` carries the error code and level Error;
    ``succeeded`` carries ``time`` when given.
    """
    lc = lifecycle or current_lifecycle()
    out: list[dict[str, Any]] = []
    # a nested axis (OS provisioning) is shown in place of the parent state it refines
    shown_by: dict[tuple[str, str], str] = {
        a.parent: a.id for a in lc.axes.values() if a.parent is not None and a.id in state
    }
    for axis in lc.axis_order():
        if axis.parent is not None:
            continue
        sid = state.get(axis.id)
        if sid is None:
            continue
        nested = shown_by.get((axis.id, sid))
        st = lc.state(nested, state[nested]) if nested else lc.state(axis.id, sid)
        entry: dict[str, Any] = {
            "code": format_code(st, state.error_code if st.detail else None),
            "level": st.level,
            "displayStatus": st.display,
        }
        if axis.id == "provisioning" and sid == "succeeded" and time is not None:
            entry["time"] = iso(time)
        out.append(entry)
    return out
