"""The nouns of the state model: axes, states, composite VM states, operations, revisions.

A VM's state is a *composite* over independent axes (spec 003: provisioning states "are separate
from the power state of a VM"). Each :class:`State` belongs to one :class:`Axis`; a
:class:`VMState` holds at most one state per axis. :class:`Operation` describes what an operation
does to those axes. All of these are plain, frozen data: plugins create them and hand them to the
``register`` callbacks of the registration hooks; the :mod:`vmlife.lifecycle` assembles them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

__all__ = [
    "CORE_AXES",
    "REVISIONS",
    "Axis",
    "Operation",
    "Phase",
    "Revision",
    "State",
    "VMState",
]

_T = TypeVar("_T")


@dataclass(frozen=True)
class Revision:
    """One published revision of Azure's "states and billing" page, kept under ``shared/spec``.

    Attributes:
        id: short id used throughout vmlife ("000", "001", "003", ...).
        title: the document's title.
        date: the revision's date as published, or a range when undated.
        source: where the text lives (spec file name) or how it is identified.
    """

    id: str
    title: str
    date: str
    source: str


#: The revisions vmlife's built-in facts come from. The three seeds are the files in
#: ``shared/spec/``; the other two are public revisions described in DESIGN.md.
REVISIONS: dict[str, Revision] = {
    r.id: r
    for r in (
        Revision(
            "000",
            "Virtual Machines Lifecycle and States (earliest draft)",
            "undated",
            "spec/000_19616a5bca8b8f3d.txt",
        ),
        Revision(
            "001",
            "Virtual machines lifecycle and states",
            "2018-2020",
            "spec/001_9667a8261b43a96a.txt",
        ),
        Revision(
            "2018-08",
            "virtual-machines-common-states-lifecycle include",
            "2018-08",
            "public 08/2018 include (DESIGN.md)",
        ),
        Revision(
            "2021-03", "States and billing status", "2021-03", "public 03/2021 page (DESIGN.md)"
        ),
        Revision(
            "003",
            "States and billing status of Azure Virtual Machines",
            "2023-10-31",
            "spec/003_563d7b8f50dc6bf6.txt",
        ),
    )
}


@dataclass(frozen=True)
class Axis:
    """An independent dimension of a VM's state.

    Attributes:
        id: snake-case id ("power", "provisioning", "os_provisioning", "hibernation").
        prefix: the status-code prefix Azure uses ("PowerState"). A nested axis (see ``parent``)
            has its parent's prefix here too.
        title: human name.
        parent: for a sub-state axis, ``(axis_id, state_id)`` of the state it refines; OS
            provisioning is shown by Azure as ``ProvisioningState/creating/<substate>``.
        order: sort key; the core axes come first.
        plugin: the plugin that registered it (filled in by the lifecycle).
    """

    id: str
    prefix: str
    title: str = ""
    parent: tuple[str, str] | None = None
    order: int = 100
    description: str = ""
    plugin: str = ""


#: The three axes of the core, in display order.
CORE_AXES: tuple[str, ...] = ("provisioning", "power", "os_provisioning")


@dataclass(frozen=True)
class State:
    """One state on one axis, with the Azure status code and text that show it.

    Attributes:
        id: snake-case id, unique within its axis ("deallocated", "in_progress").
        axis: the axis id.
        code: canonical Azure status code ("PowerState/deallocated").
        display: the ``displayStatus`` Azure shows ("VM deallocated").
        level: the status ``level`` ("Info", or "Error" for failures).
        transitional: True for states that exist only while an operation runs.
        revisions: ids of the :data:`REVISIONS` that list this state.
        detail: True if the code may carry a sub-code (``ProvisioningState/failed/<ErrorCode>``).
        description: one sentence, ideally the spec's.
        note: where Azure's documents are silent and vmlife chose, the choice is said here.
        plugin: the plugin that registered it (filled in by the lifecycle).
    """

    id: str
    axis: str
    code: str
    display: str
    level: str = "Info"
    transitional: bool = False
    revisions: tuple[str, ...] = ()
    detail: bool = False
    description: str = ""
    note: str = ""
    plugin: str = ""

    @property
    def key(self) -> str:
        """``axis.id``: unique across the lifecycle."""
        return f"{self.axis}.{self.id}"


class VMState(Mapping[str, str]):
    """A composite VM state: at most one state id per axis, plus an optional error code.

    It is an immutable, hashable mapping from axis id to state id. Axes with no state are
    absent, so an empty ``VMState()`` means "no VM" (before create, after delete).

    Example:
        >>> s = VMState(provisioning="succeeded", power="running")
        >>> s.power, s["provisioning"], s.os_provisioning
        ('running', 'succeeded', None)
        >>> s.replace(power="stopping", provisioning="updating").power
        'stopping'
    """

    __slots__ = ("_hash", "_items", "error_code")

    _items: tuple[tuple[str, str], ...]
    error_code: str | None
    _hash: int

    def __init__(
        self,
        axes: Mapping[str, str | None] | None = None,
        *,
        error_code: str | None = None,
        **states: str | None,
    ) -> None:
        merged: dict[str, str | None] = dict(axes or {})
        merged.update(states)
        items = tuple(
            sorted(((a, s) for a, s in merged.items() if s is not None), key=_axis_sort_key)
        )
        object.__setattr__(self, "_items", items)
        object.__setattr__(self, "error_code", error_code)
        object.__setattr__(self, "_hash", hash((items, error_code)))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("VMState is immutable; use replace()")

    # Mapping protocol
    def __getitem__(self, axis: str) -> str:
        for a, s in self._items:
            if a == axis:
                return s
        raise KeyError(axis)

    @overload
    def get(self, axis: str, /) -> str | None: ...
    @overload
    def get(self, axis: str, default: str, /) -> str: ...
    @overload
    def get(self, axis: str, default: _T, /) -> str | _T: ...

    def get(self, axis: str, default: Any = None) -> Any:
        """The state id on ``axis``, or ``default`` when the state has none.

        ``Mapping.get`` would raise and catch a KeyError for an absent axis; plugins ask for
        absent axes (hibernation, say) on every operation, so this one just looks.
        """
        for a, s in self._items:
            if a == axis:
                return s
        return default

    def __contains__(self, axis: object) -> bool:
        return any(a == axis for a, _ in self._items)

    def __iter__(self) -> Iterator[str]:
        return (a for a, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        if isinstance(other, VMState):
            return self._items == other._items and self.error_code == other.error_code
        return NotImplemented

    # Convenience for the core axes
    @property
    def provisioning(self) -> str | None:
        """The provisioning state id, or None."""
        return self.get("provisioning")

    @property
    def power(self) -> str | None:
        """The power state id, or None."""
        return self.get("power")

    @property
    def os_provisioning(self) -> str | None:
        """The OS-provisioning substate id, or None."""
        return self.get("os_provisioning")

    @property
    def exists(self) -> bool:
        """True if there is a VM (any axis has a state)."""
        return bool(self._items)

    def replace(self, changes: Mapping[str, str | None] | None = None, **kw: Any) -> VMState:
        """A copy with some axes changed; ``None`` removes an axis.

        ``error_code=...`` sets the error code; otherwise it is kept unless the provisioning
        axis changes, which clears it.
        """
        merged = dict(self._items)
        upd: dict[str, Any] = dict(changes or {})
        upd.update(kw)
        if "error_code" in upd:
            error_code = upd.pop("error_code")
        elif "provisioning" in upd:
            error_code = None
        else:
            error_code = self.error_code
        merged.update(upd)
        return VMState(merged, error_code=error_code)

    def as_dict(self) -> dict[str, str]:
        """A plain dict axis -> state id (no error code)."""
        return dict(self._items)

    def describe(self) -> str:
        """Short human text, e.g. ``"deallocated (provisioning succeeded)"``."""
        if not self._items:
            return "no VM"
        power = self.power
        rest = [f"{a} {s}" for a, s in self._items if a != "power"]
        if self.error_code:
            rest = [r + f"/{self.error_code}" if r.startswith("provisioning ") else r for r in rest]
        head = power if power is not None else "power unknown"
        return f"{head} ({', '.join(rest)})" if rest else head

    def __repr__(self) -> str:
        parts = [f"{a}={s!r}" for a, s in self._items]
        if self.error_code is not None:
            parts.append(f"error_code={self.error_code!r}")
        return f"VMState({', '.join(parts)})"


def _axis_sort_key(item: tuple[str, Any]) -> tuple[int, str]:
    axis = item[0]
    try:
        return (CORE_AXES.index(axis), axis)
    except ValueError:
        return (len(CORE_AXES), axis)


@dataclass(frozen=True)
class Phase:
    """One stretch of an operation: a set of axis changes that holds for a while.

    Attributes:
        set: axis id -> state id (``None`` removes the axis).
        key: the timing key that says how long the phase lasts; defaults to the power state set,
            else the first state set.
    """

    set: Mapping[str, str | None]
    key: str = ""

    @property
    def timing_key(self) -> str:
        if self.key:
            return self.key
        if self.set.get("power"):
            return str(self.set["power"])
        for v in self.set.values():
            if v:
                return v
        return "step"


#: A path planner: given the VM's current state and the operation's parameters, the phases.
PathPlanner = Callable[[VMState, Mapping[str, Any]], "tuple[Phase, ...]"]


@dataclass(frozen=True)
class Operation:
    """An operation on a VM and what it does to the axes.

    While an operation runs, ``provisioning`` (if given) is shown on the provisioning axis and
    the phases of ``path`` follow one another, each lasting what the timing model says. The last
    phase is the operation's end state; at the end provisioning becomes ``succeeded`` (for
    control-plane operations) and the error code is cleared.

    Attributes:
        id: snake-case id ("deallocate").
        sources: power-state ids the operation is allowed from; ``None`` means any.
        path: the phases, or a callable ``(state, params) -> phases`` for operations whose path
            depends on where they start or on parameters (create from a generalized image).
        provisioning: provisioning state while it runs ("updating"), or None to leave it alone.
        final: axis changes applied when it completes (e.g. ``{"provisioning": "succeeded"}``).
        creates: True for operations that need *no* VM (create); all others need one.
        deletes: True if the VM is gone afterwards.
        kind: "user" (control plane), "platform" (e.g. spot eviction) or "guest" (inside the OS).
        stores_params: parameters become VM attributes (create and update set capabilities).
        activity_log: Activity Log operation names that mean this operation.
        description: one sentence.
        note: modelling choices where Azure's documents are silent.
        attributes: VM attributes set when it completes (after any stored parameters), e.g.
            the deployment model a migration ends in.
        keeps_host: the VM stays allocated on its host throughout (a restart): billing holds
            what the state before the operation billed, whatever power states its phases show.
        plugin: the plugin that registered it (filled in by the lifecycle).
    """

    id: str
    path: tuple[Phase, ...] | PathPlanner
    sources: frozenset[str] | None = None
    provisioning: str | None = "updating"
    final: Mapping[str, str | None] = field(default_factory=lambda: {"provisioning": "succeeded"})
    creates: bool = False
    deletes: bool = False
    kind: Literal["user", "platform", "guest"] = "user"
    stores_params: bool = False
    activity_log: tuple[str, ...] = ()
    description: str = ""
    note: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    keeps_host: bool = False
    plugin: str = ""

    def plan(self, state: VMState, params: Mapping[str, Any]) -> tuple[Phase, ...]:
        """The phases this operation goes through from ``state`` with ``params``."""
        if callable(self.path):
            return tuple(self.path(state, params))
        return self.path
