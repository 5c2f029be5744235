"""The plain intermediate form of a diagram: nodes, edges, clusters and a legend.

:func:`build_graph` turns the lifecycle into a :class:`Graph`; the renderers (:mod:`.dot`,
:mod:`.mermaid`) turn a :class:`Graph` into text. Nothing here knows Azure's operations by name:
the edges come from each registered operation's ``sources`` and its path, so a plugin's states
and operations appear without any change here.

How edges are derived, for each operation and each state it may start from:

* an operation that ``creates`` starts from "no VM" (the start pseudo-node);
* any other operation starts from each power state in its ``sources`` (every power state when
  ``sources`` is None), with the provisioning axis at each value an operation can leave it at
  (the ``final`` values, plus ``failed``, which the engine sets when an operation fails), and
  then from every state a walk ends in (so a plugin's axis set by one operation is a source of
  the next);
* the operation is adjusted by the plugins' ``adjust_operation`` hooks for a VM in that state,
  as the engine does; plugin guards are not asked (they depend on a VM's attributes: the
  diagram shows what the lifecycle's rules allow);
* its path is planned with ``op.plan(state, params)``, once with no parameters and once with
  every flag set (so ``create(generalized=True)`` shows the OS-provisioning substates and
  ``deallocate(hibernate=True)`` a hibernation plugin's path); the
  composite states it walks through are projected on the axis drawn, and each change of value
  is an edge labelled with the operation. Leaving an axis (no value) is the end pseudo-node.
* an operation allowed from every power state whose walk is the same from each is drawn once,
  from an "any state" pseudo-node, instead of once per state.
* on the power axis (the one ``sources`` name), an operation that leaves it unchanged is a
  loop on the states it is allowed from (``update``), unless ``loops=False``.
* on the provisioning axis, every transitional state an operation shows has a "fails" edge to
  ``failed`` (the engine's failure rule: provisioning becomes ``failed/<code>``).

How a state is coloured under an edition: by the category of the edition's rule for it when
there is one (:attr:`vmlife.billing.Rule.category`); a power state with no rule is "unknown"
(vmlife bills nothing for it); a state on another axis
with no rule bills as the power states it occurs with in those walks (OS-provisioning substates
occur only while running, so they bill as running), or "as its power state" when those differ.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..errors import DefinitionError, UnknownNameError
from ..model import Operation, State, VMState
from ..plugins import DEFAULT_PLUGINS
from .palette import AS_POWER, CATEGORIES, LEGEND_ORDER, UNKNOWN, style

if TYPE_CHECKING:  # pragma: no cover
    from ..billing.editions import Edition
    from ..lifecycle import Lifecycle

__all__ = [
    "CATEGORIES",
    "SCOPES",
    "Cluster",
    "Edge",
    "Graph",
    "LegendEntry",
    "Node",
    "build_graph",
]

#: Diagram scopes by name; any axis id is accepted too ("os" is short for os_provisioning).
SCOPES: tuple[str, ...] = ("power", "provisioning", "os", "lifecycle")
_SCOPE_ALIASES = {"os": "os_provisioning"}

#: The engine's failure rule (vmlife.engine.VM.do): provisioning becomes this state.
_FAILED = ("provisioning", "failed")

NodeKind = Literal["state", "start", "end", "any"]


@dataclass(frozen=True)
class Node:
    """One node of a diagram.

    Attributes:
        id: a safe identifier (letters, digits, underscores), unique in the graph.
        kind: "state", or a pseudo-node: "start" (no VM yet; on an axis other than power and
            provisioning, no state on that axis, entered and left), "end" (VM deleted), "any"
            (any state of the axis).
        axis: the axis the node belongs to.
        name: the state id (empty for pseudo-nodes).
        display: Azure's displayStatus text; for a pseudo-node, what it stands for ("no VM
            yet", "no Hibernation state", "deleted").
        transitional: True for states that exist only while an operation runs.
        category: the billing category (one of :data:`CATEGORIES`, or "as its power state";
            empty for pseudo-nodes).
        billing: the edition's wording for it ("Billed (Hardware only)", "as running").
        plugin: the plugin that registered it, when that is not one of vmlife's own.
        highlighted: the current state.
        changed: for an edition diff, the wording under the first edition when the billing
            changed ("" when it did not).
    """

    id: str
    kind: NodeKind
    axis: str
    name: str = ""
    display: str = ""
    transitional: bool = False
    category: str = ""
    billing: str = ""
    plugin: str = ""
    highlighted: bool = False
    changed: str = ""

    @property
    def key(self) -> str:
        """``axis.state`` for a state; ``axis:kind`` for a pseudo-node."""
        return f"{self.axis}.{self.name}" if self.kind == "state" else f"{self.axis}:{self.kind}"


@dataclass(frozen=True)
class Edge:
    """A transition, labelled by the operations that make it.

    Attributes:
        source: id of the source node.
        target: id of the target node.
        operations: operation ids, in registration order.
        plugins: for each operation, the plugin that registered it when that is not one of
            vmlife's own (else "").
        kind: "operation", "failure" (an operation failed) or "guest" (all its operations come
            from inside the guest OS, not the control plane).
    """

    source: str
    target: str
    operations: tuple[str, ...]
    plugins: tuple[str, ...] = ()
    kind: Literal["operation", "failure", "guest"] = "operation"

    @property
    def labels(self) -> tuple[str, ...]:
        """One text per operation; a plugin's operation names its plugin."""
        plugins = self.plugins or ("",) * len(self.operations)
        return tuple(
            f"{op} [{pl}]" if pl else op for op, pl in zip(self.operations, plugins, strict=True)
        )


@dataclass(frozen=True)
class Cluster:
    """The nodes of one axis (drawn as a box when a diagram shows several axes)."""

    id: str
    axis: str
    title: str
    nodes: tuple[str, ...]
    plugin: str = ""


@dataclass(frozen=True)
class LegendEntry:
    """One line of the legend: what a fill, a border or a mark means."""

    kind: Literal[
        "category", "transitional", "highlighted", "changed", "plugin", "failure",
        "guest",
    ]
    text: str
    category: str = ""


@dataclass(frozen=True)
class Graph:
    """A diagram in plain data: what to draw, not how.

    Attributes:
        title: the diagram's title.
        scope: the axis id drawn, or "lifecycle" for every axis.
        clusters: one per axis, in display order.
        nodes: every node, in a stable order (axes in display order, states in registration
            order, pseudo-nodes around them).
        edges: every edge, in a stable order (operations in registration order).
        edition: id of the edition whose billing colours the nodes.
        diff: the two edition ids compared, or None.
        legend: what the colours and marks mean.
    """

    title: str
    scope: str
    clusters: tuple[Cluster, ...]
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    edition: str
    diff: tuple[str, str] | None = None
    legend: tuple[LegendEntry, ...] = field(default=())

    def node(self, node_id: str) -> Node:
        """The node with this id."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def find(self, key: str) -> Node:
        """The node for ``"axis.state"`` (or ``"axis:start"`` and such for a pseudo-node)."""
        for n in self.nodes:
            if n.key == key:
                return n
        raise KeyError(key)


# ---------------------------------------------------------------------- walks
class _EveryFlag(Mapping[str, Any]):
    """Parameters that answer True to every question, to explore a planner's flag branches."""

    def __getitem__(self, key: str) -> Any:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


_NO_PARAMS: Mapping[str, Any] = {}
_EVERY_FLAG = _EveryFlag()
#: A bound on the states explored, against a plugin whose operations never come to rest.
_MAX_SOURCES = 1000


@dataclass(frozen=True)
class _Walk:
    op: Operation
    states: tuple[VMState, ...]  # the source, each phase, the end state
    from_any: bool  # the operation is allowed from every power state


def _walks(lc: Lifecycle) -> list[_Walk]:
    """Every operation walked from every state it may start from, in a stable order.

    The states an operation may start from: each power state it is allowed from, with the
    provisioning axis at each value operations leave it at; then, to a fixed point, every end
    state of a walk (so a plugin axis set by one operation is a source for the next).
    """
    power_states = [s.id for s in lc.states_on("power")] if "power" in lc.axes else []
    provs: list[str | None] = []
    for op in lc.operations.values():
        v = op.final.get("provisioning")
        if v and v not in provs:
            provs.append(v)
    if _FAILED in lc.states and any(o.provisioning for o in lc.operations.values()):
        provs.append(_FAILED[1])
    rest = [VMState(provisioning=pv, power=p) for p in power_states for pv in provs or [None]]
    known = set(rest)
    order = {op_id: i for i, op_id in enumerate(lc.operations)}
    walks: list[_Walk] = []
    seen: set[tuple[str, tuple[VMState, ...]]] = set()

    def walk(base: Operation, src: VMState) -> None:
        for params in (_NO_PARAMS, _EVERY_FLAG):
            try:
                op = _adjusted(lc, base, src, params)
                phases = op.plan(src, params)
            except Exception as exc:
                if params is _EVERY_FLAG:
                    continue  # a planner that needs real values: its default path is enough
                raise DefinitionError(
                    f"operation {base.id!r} (plugin {base.plugin!r}) could not plan its path from "
                    f"{src.describe()}: {type(exc).__name__}: {exc}"
                ) from exc
            cur = src
            if op.provisioning is not None:
                cur = cur.replace(provisioning=op.provisioning)
            states = [src]
            for ph in phases:
                cur = cur.replace(ph.set)
                states.append(cur)
            end = cur.replace(op.final)
            states.append(end)
            key = (op.id, tuple(states))
            if key in seen:
                continue
            seen.add(key)
            walks.append(_Walk(base, tuple(states), base.sources is None and not base.creates))
            if end.exists and end not in known and len(rest) < _MAX_SOURCES:
                known.add(end)
                rest.append(end)

    for op in lc.operations.values():
        if op.creates:
            walk(op, VMState())
    i = 0
    while i < len(rest):
        src = rest[i]
        i += 1
        for op in lc.operations.values():
            if not op.creates and (op.sources is None or src.power in op.sources):
                walk(op, src)
    walks.sort(key=lambda w: order[w.op.id])  # stable: sources keep their order
    return walks


def _adjusted(
    lc: Lifecycle, op: Operation, src: VMState, params: Mapping[str, Any]
) -> Operation:
    """``op`` as the plugins' ``adjust_operation`` hooks change it for a VM in ``src``."""
    if not getattr(lc, "has_adjusters", False):
        return op
    from ..engine import VM

    vm = VM("diagram", state=src if src.exists else None, lifecycle=lc)
    return lc.adjusted(vm, op, params)


def _cooccurring_power(walks: Iterable[_Walk]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for w in walks:
        for st in w.states:
            p = st.power
            if p is None:
                continue
            for axis, sid in st.items():
                if axis != "power":
                    out.setdefault(f"{axis}.{sid}", set()).add(p)
    return out


# ---------------------------------------------------------------------- billing
def _billing(
    edition: Edition, st: State, cooccur: Mapping[str, set[str]]
) -> tuple[str, str]:
    """(category, wording) of one state under an edition."""
    if edition.has_rule(st.key):
        rule = edition.rule_for(st.key)
        return rule.category, rule.wording
    if st.axis == "power":
        return UNKNOWN, "(no rule)"
    powers = cooccur.get(st.key, set())
    cats = {edition.rule_for(f"power.{p}").category for p in powers}
    if len(cats) == 1:
        return cats.pop(), "as " + " / ".join(sorted(powers))
    return AS_POWER, "as its power state"


def _plugin_of(name: str) -> str:
    return "" if name in DEFAULT_PLUGINS else name


# ---------------------------------------------------------------------- ids
_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


class _Ids:
    """Safe, unique, deterministic identifiers for nodes (used by DOT and Mermaid alike)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, *parts: str) -> str:
        base = "s_" + "__".join(_UNSAFE.sub("_", p).strip("_") or "x" for p in parts)
        ident, n = base, 2
        while ident in self.used:
            ident, n = f"{base}_{n}", n + 1
        self.used.add(ident)
        return ident


# ---------------------------------------------------------------------- building
def resolve_scope(lc: Lifecycle, scope: str) -> list[str]:
    """The axis ids a scope draws: one axis, or every axis for "lifecycle"."""
    if scope == "lifecycle":
        return [a.id for a in lc.axis_order()]
    axis = _SCOPE_ALIASES.get(scope, scope)
    if axis not in lc.axes:
        raise UnknownNameError("diagram", scope, [*SCOPES, *lc.axes])
    return [axis]


#: Highlight names for "no VM": not created yet (the start pseudo-node) or deleted (the end).
NO_VM = ":start"
DELETED = ":end"


def _highlight_keys(lc: Lifecycle, highlight: Any) -> set[str]:
    if highlight is None:
        return set()
    if isinstance(highlight, VMState):
        if not highlight.exists:
            return {NO_VM}
        return {f"{a}.{s}" for a, s in highlight.items()}
    if isinstance(highlight, str):
        highlight = [highlight]
    keys: set[str] = set()
    for name in highlight:
        keys.add(name if name in (NO_VM, DELETED) else lc.find_state(name).key)
    return keys


def build_graph(
    lc: Lifecycle,
    scope: str = "power",
    *,
    edition: str | None = None,
    highlight: VMState | str | Collection[str] | None = None,
    diff: tuple[str, str] | None = None,
    loops: bool = True,
) -> Graph:
    """Build the diagram of one axis, or of the whole lifecycle, as plain data.

    Args:
        lc: the lifecycle (``vmlife.lifecycle()``).
        scope: "power", "provisioning", "os" (OS-provisioning substates), "lifecycle" (every
            axis, plugins' included, one cluster each), or any axis id.
        edition: the billing edition that colours the nodes (default: the newest). Ignored
            when ``diff`` is given.
        highlight: the current state: a :class:`VMState` (every axis of it is highlighted; an
            empty one highlights the start pseudo-node, "no VM yet"), or state names
            ("running", "power.running", or :data:`NO_VM` / :data:`DELETED` for the start / end
            pseudo-nodes).
        diff: two edition ids ``(a, b)``: nodes are coloured by ``b`` and the states whose
            billing differs between ``a`` and ``b`` are marked.
        loops: draw operations that leave the axis unchanged as loops.

    Returns:
        The :class:`Graph`.

    Raises:
        UnknownNameError: an unknown scope, edition or state name (the message lists the
            valid ones).
    """
    axes = resolve_scope(lc, scope)
    if diff is not None:
        ed_a, ed = lc.edition(diff[0]), lc.edition(diff[1])
    else:
        ed_a, ed = None, lc.edition(edition)
    hl = _highlight_keys(lc, highlight)
    walks = _walks(lc)
    cooccur = _cooccurring_power(walks)
    ids = _Ids()

    nodes: list[Node] = []
    edges: list[Edge] = []
    clusters: list[Cluster] = []
    for axis_id in axes:
        axis = lc.axes[axis_id]
        state_ids: dict[str, str] = {}
        axis_nodes: list[Node] = []
        for st in lc.states_on(axis_id):
            category, wording = _billing(ed, st, cooccur)
            changed = ""
            if ed_a is not None:
                cat_a, wording_a = _billing(ed_a, st, cooccur)
                rule_differs = (ed_a.has_rule(st.key) or ed.has_rule(st.key)) and (
                    ed_a.has_rule(st.key) != ed.has_rule(st.key)
                    or ed_a.rule_for(st.key).bills != ed.rule_for(st.key).bills
                )
                if rule_differs or cat_a != category:
                    changed = wording_a
            node = Node(
                ids.make(axis_id, st.id),
                "state",
                axis_id,
                st.id,
                st.display,
                st.transitional,
                category,
                wording,
                _plugin_of(st.plugin),
                st.key in hl,
                changed,
            )
            state_ids[st.id] = node.id
            axis_nodes.append(node)
        axis_edges, used_pseudo = _axis_edges(lc, axis_id, walks, state_ids, loops)
        pseudo: dict[str, Node] = {}
        for kind in ("start", "any", "end"):
            if kind in used_pseudo:
                pseudo[kind] = Node(
                    used_pseudo[kind],
                    kind,
                    axis_id,
                    display=_pseudo_text(kind, axis_id, axis.title),
                    highlighted=f":{kind}" in hl,
                )
        ordered = [pseudo[k] for k in ("start", "any") if k in pseudo]
        ordered += axis_nodes
        ordered += [pseudo[k] for k in ("end",) if k in pseudo]
        nodes += ordered
        edges += axis_edges
        clusters.append(
            Cluster(
                ids.make("axis", axis_id),
                axis_id,
                axis.title or axis_id,
                tuple(n.id for n in ordered),
                _plugin_of(axis.plugin),
            )
        )

    used_cats = {n.category for n in nodes if n.kind == "state"}
    legend = [
        LegendEntry("category", style(c).legend, c) for c in LEGEND_ORDER if c in used_cats
    ]
    if any(n.transitional for n in nodes):
        legend.append(
            LegendEntry("transitional", "italic name: transitional (while an operation runs)")
        )
    if any(e.kind == "failure" for e in edges):
        legend.append(LegendEntry("failure", "the operation fails: provisioning failed/<code>"))
    if any(e.kind == "guest" for e in edges):
        legend.append(LegendEntry("guest", "from inside the guest OS (not the control plane)"))
    if any(n.highlighted for n in nodes):
        legend.append(LegendEntry("highlighted", "current state"))
    if ed_a is not None:
        legend.append(LegendEntry("changed", f"billing changed from {ed_a.id} to {ed.id}"))
    if any(n.plugin for n in nodes):
        legend.append(LegendEntry("plugin", "added by a plugin (named in brackets)"))

    if scope == "lifecycle":
        what = "VM lifecycle"
    else:
        what = f"{lc.axes[axes[0]].title or axes[0]} states"
    if ed_a is not None:
        title = f"{what}: billing changes from {ed_a.id} to {ed.id} ({ed.title}, {ed.date})"
    else:
        title = f"{what}, billed under edition {ed.id} ({ed.title}, {ed.date})"
    return Graph(
        title,
        "lifecycle" if scope == "lifecycle" else axes[0],
        tuple(clusters),
        tuple(nodes),
        tuple(edges),
        ed.id,
        (ed_a.id, ed.id) if ed_a is not None else None,
        tuple(legend),
    )


#: The axes whose "no state" means "no VM": a VM exists exactly while they have a state.
_VM_AXES = ("power", "provisioning")


def _pseudo_text(kind: str, axis: str, title: str) -> str:
    """What a pseudo-node stands for, in words (DOT tooltips)."""
    if kind == "any":
        return "from any state of this axis"
    if axis in _VM_AXES:
        return "no VM yet" if kind == "start" else "deleted"
    return f"no {title or axis} state"


def _axis_edges(
    lc: Lifecycle,
    axis: str,
    walks: list[_Walk],
    state_ids: Mapping[str, str],
    loops: bool,
) -> tuple[list[Edge], dict[str, str]]:
    """Edges of one axis from the walks, merged per (source, target, kind)."""
    pseudo: dict[str, str] = {}

    def pid(kind: str) -> str:
        if kind not in pseudo:
            pseudo[kind] = f"s_{_UNSAFE.sub('_', axis)}__{kind}_"
        return pseudo[kind]

    merged: dict[tuple[str, str, str], list[Operation]] = {}

    def add(src: str, dst: str, op: Operation, kind: str = "operation") -> None:
        ops = merged.setdefault((src, dst, kind), [])
        if op not in ops:
            ops.append(op)

    # Group the walks per operation so an op allowed from anywhere can be drawn once.
    by_op: dict[str, list[_Walk]] = {}
    for w in walks:
        by_op.setdefault(w.op.id, []).append(w)
    # On the VM axes, no state before is "no VM yet" and after is "deleted". On any other
    # axis (OS provisioning, a plugin's) no state is one condition, entered and left: one node.
    vm_axis = axis in _VM_AXES
    for op_id, op_walks in by_op.items():
        op = lc.operations[op_id]
        projections = [_project(w.states, axis) for w in op_walks]
        tails = {tuple(p[1:]) for p in projections}
        if axis == "power" and op_walks[0].from_any and len(tails) == 1:
            tail = next(iter(tails))
            if tail:
                prev = pid("any")
                for v in tail:
                    cur = state_ids[v] if v is not None else pid("end")
                    add(prev, cur, op)
                    prev = cur
            # (unchanged from any state: not worth a loop on every node)
            continue
        for proj in projections:
            if len(proj) == 1:
                if proj[0] is not None and loops and axis == "power" and not op.creates:
                    add(state_ids[proj[0]], state_ids[proj[0]], op)
                continue
            prev_id: str | None = None
            for i, v in enumerate(proj):
                if v is None:
                    cur_id = pid("start") if i == 0 or not vm_axis else pid("end")
                else:
                    cur_id = state_ids[v]
                    if prev_id is not None and prev_id == pseudo.get("end"):
                        prev_id = pid("start")  # left the axis and came back
                if prev_id is not None:
                    add(prev_id, cur_id, op)
                prev_id = cur_id

    if axis == _FAILED[0] and _FAILED[1] in state_ids:
        for op in lc.operations.values():
            if op.provisioning is not None and op.provisioning in state_ids:
                add(state_ids[op.provisioning], state_ids[_FAILED[1]], op, "failure")

    edges: list[Edge] = []
    for (src, dst, kind), ops in merged.items():
        if kind == "failure":
            edges.append(Edge(src, dst, ("fails",), ("",), "failure"))
            continue
        edge_kind: Literal["operation", "guest"] = (
            "guest" if all(o.kind == "guest" for o in ops) else "operation"
        )
        edges.append(
            Edge(src, dst, tuple(o.id for o in ops), tuple(_plugin_of(o.plugin) for o in ops),
                 edge_kind)
        )
    return edges, pseudo


def _project(states: tuple[VMState, ...], axis: str) -> list[str | None]:
    """The values an axis takes along a walk, consecutive repeats removed."""
    out: list[str | None] = []
    for st in states:
        v = st.get(axis)
        if not out or out[-1] != v:
            out.append(v)
    return out
