"""The lifecycle: every axis, state and operation the loaded plugins registered, validated.

:func:`lifecycle` returns the current :class:`Lifecycle`, assembled from the plugin manager the
first time it is needed and again whenever plugins are registered or unregistered. Assembly
calls each plugin's registration hooks one plugin at a time, so every definition knows which
plugin made it and a conflict can name both.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pluggy

from . import plugins as _plugins
from .billing.editions import BillingRules, Edition, find_edition
from .errors import ConflictError, DefinitionError, PluginError, UnknownNameError
from .model import Axis, Operation, Phase, State, VMState

if TYPE_CHECKING:  # pragma: no cover
    from .engine import VM
    from .timeline import Step

__all__ = ["Decision", "Lifecycle", "call_each", "lifecycle"]


def call_each(
    pm: pluggy.PluginManager,
    hook_name: str,
    make_kwargs: Callable[[str], dict[str, Any]],
    on_result: Callable[[str, Any], None] | None = None,
    problems: list[DefinitionError] | None = None,
) -> list[tuple[str, Any]]:
    """Call one hook plugin by plugin, in registration order, attributing failures.

    ``make_kwargs(plugin_name)`` builds the keyword arguments for that plugin (so a ``register``
    callback can know who calls it). ``on_result(plugin_name, result)``, if given, sees each
    result before the next plugin is called (so results can be chained). Returns
    ``(plugin_name, result)`` pairs. An exception inside an implementation becomes a
    :class:`PluginError` naming the plugin and the hook, a :class:`DefinitionError` the plugin
    raised itself included; vmlife's own errors, which name the plugin already, pass through
    unchanged. With a ``problems`` list, a failing plugin's error is appended there and the
    next plugin is called (``vmlife plugins --check`` reports every problem at once).
    """
    return _call_impls(_impls(pm, hook_name), hook_name, make_kwargs, on_result,
                       _plugins.tracing(), problems)


#: One hook implementation as the lifecycle calls it: plugin name, function, argument names.
_Impl = tuple[str, Callable[..., Any], tuple[str, ...]]


def _impls(pm: pluggy.PluginManager, hook_name: str) -> list[_Impl]:
    caller = getattr(pm.hook, hook_name)
    return [(i.plugin_name, i.function, tuple(i.argnames)) for i in caller.get_hookimpls()]


def _call_impls(
    impls: list[_Impl],
    hook_name: str,
    make_kwargs: Callable[[str], dict[str, Any]],
    on_result: Callable[[str, Any], None] | None,
    trace: bool,
    problems: list[DefinitionError] | None = None,
) -> list[tuple[str, Any]]:
    out = []
    for plugin_name, function, argnames in impls:
        kwargs = make_kwargs(plugin_name)
        if trace:
            sys.stderr.write(f"vmlife trace: {hook_name} -> plugin {plugin_name!r}\n")
        try:
            try:
                result = function(**{k: kwargs[k] for k in argnames})
            except Exception as exc:
                if isinstance(exc, DefinitionError) and _names_a_plugin(exc, plugin_name):
                    raise  # vmlife's own, from a register callback: it names the plugin
                raise PluginError(
                    f"plugin {plugin_name!r} raised in hook {hook_name}: "
                    f"{type(exc).__name__}: {exc}",
                    plugin=plugin_name,
                    hook=hook_name,
                ) from exc
            if on_result is not None:
                on_result(plugin_name, result)
        except DefinitionError as exc:
            if problems is None:
                raise
            problems.append(exc)
            continue
        out.append((plugin_name, result))
    return out


#: A compiled plan: the (timing key, state) of each phase of an operation, and its end state.
Plan = tuple[tuple[tuple[str, VMState], ...], VMState]


@dataclass(frozen=True, slots=True)
class Decision:
    """What the lifecycle says about one operation on one VM as it is now.

    Attributes:
        refusals: the lifecycle's own rules that refuse it (no VM, a VM already, a power
            state it is not allowed from); guards are not asked when there is one.
        vetoes: the reasons the plugins' guards gave, kept apart so a caller may record them
            rather than refuse.
        operation: the operation as the ``adjust_operation`` hooks change it for this VM
            (adjusters are asked only when nothing refused or vetoed it; the registered
            operation otherwise).
        plan: the operation's phases from the current state, compiled (None when refused).
    """

    refusals: tuple[str, ...]
    vetoes: tuple[str, ...]
    operation: Operation
    plan: Plan | None

    @property
    def reasons(self) -> list[str]:
        """Every reason it is refused (the lifecycle's, then the guards'); empty if allowed."""
        return [*self.refusals, *self.vetoes]


def compile_plan(op: Operation, state: VMState, params: Mapping[str, Any]) -> Plan:
    """The (timing key, state) of each phase of ``op`` from ``state``, and its end state."""
    cur = state
    if op.provisioning is not None:
        cur = cur.replace(provisioning=op.provisioning)
    steps = []
    for phase in op.plan(state, params):
        cur = cur.replace(phase.set)
        steps.append((phase.timing_key, cur))
    return tuple(steps), (VMState() if op.deletes else cur.replace(op.final))


def _names_a_plugin(exc: DefinitionError, plugin_name: str) -> bool:
    """True for the errors vmlife raises itself, which say which plugin is at fault."""
    if isinstance(exc, PluginError | ConflictError):
        return True
    return f"plugin {plugin_name!r}" in str(exc)


_KINDS = ("user", "platform", "guest")


def _is_text_set(value: Any) -> bool:
    return isinstance(value, frozenset | set | tuple | list) and all(
        isinstance(v, str) for v in value
    )


def _is_assignment(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()
    )


def _field_problem(op: Operation) -> str:
    """What is wrong with an operation's fields, in words ("" when nothing is).

    Dataclasses do not check types, so a plugin's ``Operation(sources="running")`` or
    ``replace(op, final=None)`` would otherwise fail later, deep in the engine, with a
    ``TypeError`` that names no plugin.
    """
    if not isinstance(op.id, str) or not op.id:
        return f"field 'id' {op.id!r}: expected non-empty text"
    if not callable(op.path):
        if not isinstance(op.path, tuple | list):
            return f"field 'path' {op.path!r}: expected a tuple of Phase, or a callable"
        for i, ph in enumerate(op.path):
            if not isinstance(ph, Phase) or not _is_assignment(ph.set):
                return (f"field 'path' item {i} {ph!r}: expected Phase({{axis: state id}}) "
                        f"with text keys and text or None values")
    if op.sources is not None and (isinstance(op.sources, str) or not _is_text_set(op.sources)):
        return (f"field 'sources' {op.sources!r}: expected None or a frozenset of power-state "
                f"ids, e.g. frozenset({{'running'}})")
    if op.provisioning is not None and not isinstance(op.provisioning, str):
        return f"field 'provisioning' {op.provisioning!r}: expected a state id or None"
    if not _is_assignment(op.final):
        return (f"field 'final' {op.final!r}: expected a mapping of axis -> state id (or None "
                f"to clear the axis)")
    for name in ("creates", "deletes", "stores_params", "keeps_host"):
        if not isinstance(getattr(op, name), bool):
            return f"field {name!r} {getattr(op, name)!r}: expected True or False"
    if op.kind not in _KINDS:
        return f"field 'kind' {op.kind!r}: expected one of {', '.join(_KINDS)}"
    if isinstance(op.activity_log, str) or not _is_text_set(op.activity_log):
        return (f"field 'activity_log' {op.activity_log!r}: expected a tuple of operation "
                f"names")
    if not isinstance(op.attributes, Mapping):
        return f"field 'attributes' {op.attributes!r}: expected a mapping"
    return ""


class Lifecycle:
    """The assembled state model: axes, states, operations, and the hooks that watch them.

    Build one with :func:`lifecycle` rather than directly. It is immutable once built, so the
    engine remembers what it decided per (state, operation, parameters, values read): see
    :meth:`decision` and :func:`vmlife.reads`.
    """

    def __init__(
        self, pm: pluggy.PluginManager, *, problems: list[DefinitionError] | None = None
    ) -> None:
        self.pm = pm
        #: with a list, definition problems are collected there (the faulty item left out)
        #: instead of raised at the first one: what ``vmlife plugins --check`` does.
        self._problems = problems
        self.axes: dict[str, Axis] = {}
        self.states: dict[tuple[str, str], State] = {}
        self.operations: dict[str, Operation] = {}
        self.editions: dict[str, Edition] = {}
        #: memo of the engine: (state, operation, deleted, attribute values, parameters) ->
        #: :class:`Decision`. Safe because a lifecycle never changes once built.
        self.cache: dict[tuple[Any, ...], Any] = {}
        #: False on the reference copy :meth:`uncached` returns.
        self.memoised = True
        #: (edition id, "axis.state") -> the plugin whose BillingRules made it an override
        self.override_plugins: dict[tuple[str, str], str] = {}
        self._runtime_impls: dict[str, list[_Impl]] = {}
        self._trace = _plugins.tracing()
        self._assemble()
        self._assemble_editions()
        self._index()

    # ------------------------------------------------------------------ assembly
    def _fail(self, exc: DefinitionError) -> None:
        """Raise a definition problem, or collect it when checking (see ``problems``)."""
        if self._problems is None:
            raise exc
        self._problems.append(exc)

    def _assemble(self) -> None:
        pending_states: list[State] = []

        def make_register_state(plugin: str) -> dict[str, Any]:
            def register(obj: Axis | State) -> None:
                if isinstance(obj, Axis):
                    prev = self.axes.get(obj.id)
                    if prev is not None:
                        self._fail(ConflictError("axis", obj.id, prev.plugin, plugin))
                        return
                    self.axes[obj.id] = replace(obj, plugin=plugin)
                elif isinstance(obj, State):
                    pending_states.append(replace(obj, plugin=plugin))
                else:
                    self._fail(DefinitionError(
                        f"plugin {plugin!r}: register_states takes Axis or State objects, "
                        f"not {type(obj).__name__}"
                    ))

            return {"register": register}

        call_each(self.pm, "register_states", make_register_state, problems=self._problems)
        for st in pending_states:
            if st.axis not in self.axes:
                self._fail(DefinitionError(
                    f"plugin {st.plugin!r} registers state {st.id!r} on axis {st.axis!r}, which "
                    f"no plugin registered; axes: {', '.join(sorted(self.axes))}"
                ))
                continue
            prev_st = self.states.get((st.axis, st.id))
            if prev_st is not None:
                self._fail(ConflictError("state", st.key, prev_st.plugin, st.plugin))
                continue
            self.states[(st.axis, st.id)] = st

        def make_register_op(plugin: str) -> dict[str, Any]:
            def register(op: Operation) -> None:
                if not isinstance(op, Operation):
                    self._fail(DefinitionError(
                        f"plugin {plugin!r}: register_operations takes Operation objects, "
                        f"not {type(op).__name__}"
                    ))
                    return
                prev = self.operations.get(op.id)
                if prev is not None:
                    self._fail(ConflictError("operation", op.id, prev.plugin, plugin))
                    return
                problem = _field_problem(op)
                if problem:
                    self._fail(DefinitionError(
                        f"plugin {plugin!r}: register_operations got operation {op.id!r} with "
                        f"{problem}"
                    ))
                    return
                self.operations[op.id] = replace(op, plugin=plugin)

            return {"register": register}

        call_each(self.pm, "register_operations", make_register_op, problems=self._problems)
        for op in list(self.operations.values()):
            try:
                for src in op.sources or ():
                    if ("power", src) not in self.states:
                        raise DefinitionError(
                            f"operation {op.id!r} (plugin {op.plugin!r}) is allowed from power "
                            f"state {src!r}, which is not registered"
                        )
                if not callable(op.path):
                    for phase in op.path:
                        self._check_assignment(op, phase.set)
                self._check_assignment(op, op.final)
            except DefinitionError as exc:
                self._fail(exc)
                del self.operations[op.id]

    def _assemble_editions(self) -> None:
        extra: list[tuple[str, BillingRules]] = []

        def make_register(plugin: str) -> dict[str, Any]:
            def register(obj: Edition | BillingRules) -> None:
                try:
                    if isinstance(obj, Edition):
                        prev = self.editions.get(obj.id)
                        if prev is not None:
                            raise ConflictError("edition", obj.id, prev.plugin, plugin)
                        self._check_rule_keys(plugin, obj.rules, obj.overrides)
                        self.editions[obj.id] = replace(obj, plugin=plugin)
                    elif isinstance(obj, BillingRules):
                        overriding = frozenset(obj.rules) if obj.mode == "override" else None
                        self._check_rule_keys(plugin, obj.rules, overriding)
                        extra.append((plugin, obj))
                    else:
                        raise DefinitionError(
                            f"plugin {plugin!r}: register_editions takes Edition or "
                            f"BillingRules objects, not {type(obj).__name__}"
                        )
                except DefinitionError as exc:
                    self._fail(exc)

            return {"register": register}

        call_each(self.pm, "register_editions", make_register, problems=self._problems)
        for plugin, more in extra:
            targets = more.editions if more.editions is not None else tuple(self.editions)
            for eid in targets:
                ed = self.editions.get(eid)
                if ed is None:
                    self._fail(DefinitionError(
                        f"plugin {plugin!r} has billing rules for edition {eid!r}, which no "
                        f"plugin registered; editions: {', '.join(sorted(self.editions))}"
                    ))
                    continue
                clash = [key for key in more.rules if key in ed.rules]
                if clash:
                    self._fail(ConflictError(f"billing rule in edition {eid!r} for", clash[0],
                                             ed.plugin, plugin))
                    continue
                overrides = ed.overrides
                if more.mode == "override":
                    added = {k for k in more.rules if not k.startswith("power.")}
                    overrides = overrides | added
                    for key in added:
                        self.override_plugins[(eid, key)] = plugin
                self.editions[eid] = replace(
                    ed, rules={**ed.rules, **more.rules}, overrides=overrides
                )

    def _check_rule_keys(
        self, plugin: str, rules: Mapping[str, Any], overrides: frozenset[str] | None
    ) -> None:
        for key in rules:
            axis, _, sid = key.partition(".")
            if (axis, sid) not in self.states:
                raise DefinitionError(
                    f"plugin {plugin!r} has a billing rule for {key!r}, which is not a "
                    f"registered state (write rules as 'axis.state', e.g. 'power.stopped')"
                )
            if axis != "power" and (overrides is None or key not in overrides):
                raise DefinitionError(
                    f"plugin {plugin!r} has a billing rule for {key!r}, a state on axis "
                    f"{axis!r}, but does not say it overrides the power state's billing. A "
                    f"state that bills as its power state needs no rule: register none. One "
                    f"that replaces the power state's rule while it holds needs "
                    f"BillingRules({{...}}, mode='override') (or the key in Edition.overrides)"
                )

    def edition(self, edition_id: str | None = None) -> Edition:
        """The edition ``edition_id``, or the newest one for None."""
        return find_edition(self.editions, edition_id)

    def _check_assignment(self, op: Operation, assignment: Mapping[str, str | None]) -> None:
        for axis, sid in assignment.items():
            if sid is not None and (axis, sid) not in self.states:
                raise DefinitionError(
                    f"operation {op.id!r} (plugin {op.plugin!r}) sets {axis} to {sid!r}, "
                    f"which is not a registered state"
                )

    def _index(self) -> None:
        # status-code lookups, all lower-case, for the parser in vmlife.status
        self.by_prefix: dict[str, list[Axis]] = {}
        for axis in self.axes.values():
            self.by_prefix.setdefault(axis.prefix.lower(), []).append(axis)
        hook = self.pm.hook
        self.has_guards = bool(hook.guard_operation.get_hookimpls())
        self.has_observers = bool(hook.step_recorded.get_hookimpls())
        self.has_adjusters = bool(hook.adjust_operation.get_hookimpls())
        self.memo_attributes = self._declared_reads()

    def _declared_reads(self) -> tuple[str, ...] | None:
        """The VM attributes the guards and adjusters read, or None if one did not declare.

        Raises:
            DefinitionError: a declaration names an axis no plugin registered.
        """
        names: set[str] = set()
        complete = True
        for hook_name in ("guard_operation", "adjust_operation"):
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                declared = _plugins.declared_reads(impl.function)
                if declared is None:
                    complete = False
                    continue
                unknown = sorted(declared.axes - set(self.axes))
                if unknown:
                    raise DefinitionError(
                        f"plugin {impl.plugin_name!r}: {hook_name} declares it reads axis "
                        f"{', '.join(map(repr, unknown))}, which no plugin registered; axes: "
                        f"{', '.join(sorted(self.axes))}"
                    )
                names |= declared.attributes
        return tuple(sorted(names)) if complete else None

    def uncached(self) -> Lifecycle:
        """A copy of this lifecycle that remembers nothing: every guard and adjuster is asked
        on every operation and every plan is compiled again (the reference path the memo is
        tested against; also handy when debugging a plugin)."""
        import copy

        twin = copy.copy(self)
        twin.cache = {}
        twin.memoised = False
        twin.memo_attributes = None
        return twin

    # ------------------------------------------------------------------ lookups
    def axis_order(self) -> list[Axis]:
        """Axes in display order (core axes first)."""
        return sorted(self.axes.values(), key=lambda a: (a.order, a.id))

    def states_on(self, axis: str) -> list[State]:
        """The states of one axis, in registration order."""
        if axis not in self.axes:
            raise UnknownNameError("axis", axis, self.axes)
        return [s for (a, _), s in self.states.items() if a == axis]

    def state(self, axis: str, state_id: str) -> State:
        """The :class:`State` ``state_id`` on ``axis``."""
        try:
            return self.states[(axis, state_id)]
        except KeyError:
            if axis not in self.axes:
                raise UnknownNameError("axis", axis, self.axes) from None
            raise UnknownNameError(
                f"{axis} state", state_id, (s.id for s in self.states_on(axis))
            ) from None

    def find_state(self, name: str) -> State:
        """Resolve ``"axis.id"`` or a bare id; a bare id prefers the power axis.

        Raises:
            UnknownNameError: listing every ``axis.id`` when nothing matches.
        """
        name = name.strip()
        if "." in name:
            axis, _, sid = name.partition(".")
            return self.state(axis, sid)
        matches = [s for (_, sid), s in self.states.items() if sid == name]
        if not matches:
            raise UnknownNameError("state", name, (s.key for s in self.states.values()))
        matches.sort(key=lambda s: (s.axis != "power", self.axes[s.axis].order))
        return matches[0]

    def operation(self, op_id: str) -> Operation:
        """The :class:`Operation` ``op_id``."""
        try:
            return self.operations[op_id]
        except KeyError:
            raise UnknownNameError("operation", op_id, self.operations) from None

    # ------------------------------------------------------------------ rules
    def refusals(
        self, vm: VM, op: Operation, params: Mapping[str, Any], *, state: VMState | None = None
    ) -> list[str]:
        """Why ``op`` cannot run on ``vm`` now: the lifecycle's rules, then plugin guards.

        An empty list means it is allowed. The guards are asked only when the rules pass.
        """
        reasons = self.rule_refusals(vm, op, state=state)
        if not reasons and self.has_guards:
            reasons = self.guard_reasons(vm, op, params)
        return reasons

    def rule_refusals(self, vm: VM, op: Operation, *, state: VMState | None = None) -> list[str]:
        """Why the lifecycle's own rules refuse ``op`` on ``vm`` now (no plugin guard asked).

        The rules are structural: an operation that creates needs no VM, any other needs one,
        and ``op.sources`` lists the power states it runs from. The answer depends on the state
        and on whether the VM was deleted only. An empty list means the rules allow it.
        """
        st = vm.state if state is None else state
        if op.creates:
            if st.exists:
                return [f"{op.id} needs no VM, and this VM already exists"]
        elif not st.exists:
            return ["there is no VM (create it first)" if not vm.deleted else "the VM was deleted"]
        elif op.sources is not None and st.power not in op.sources:
            allowed = ", ".join(sorted(op.sources))
            return [f"{op.id} is allowed only from power state {allowed}"]
        return []

    def guard_reasons(self, vm: VM, op: Operation, params: Mapping[str, Any]) -> list[str]:
        """The reasons the plugins' ``guard_operation`` hooks give to refuse ``op`` now.

        Every guard is asked, whatever the lifecycle's rules say. A reason is taken as its
        ``str()``; a guard whose answer cannot be turned into text is a
        :class:`~vmlife.errors.PluginError` naming the plugin.
        """
        if not self.has_guards:
            return []
        reasons: list[str] = []
        for plugin, reason in self._call(
            "guard_operation",
            lambda _p: {"vm": vm, "operation": op, "params": params},
        ):
            try:
                if not reason:
                    continue
                text = reason if isinstance(reason, str) else str(reason)
            except Exception as exc:
                raise PluginError(
                    f"plugin {plugin!r}: guard_operation returned a {type(reason).__name__} "
                    f"for {op.id} whose str() raised {type(exc).__name__}: {exc}; return a "
                    f"reason as text, or None",
                    plugin=plugin,
                    hook="guard_operation",
                ) from exc
            reasons.append(text)
        return reasons

    def decide(self, vm: VM, op: Operation, params: Mapping[str, Any]) -> Decision:
        """Ask the rules, the guards and the adjusters about ``op`` on ``vm`` now (no memo)."""
        state = vm.state
        refused = self.rule_refusals(vm, op)
        if refused:
            return Decision(tuple(refused), (), op, None)
        vetoed = self.guard_reasons(vm, op, params)
        if vetoed:
            return Decision((), tuple(vetoed), op, None)
        adjusted = self.adjusted(vm, op, params)
        if self.memoised and not params and adjusted is op:
            # an operation no adjuster changed has one plan per state, whatever else is asked
            pkey = (state, op.id)
            plan = self.cache.get(pkey)
            if plan is None:
                plan = self.cache[pkey] = compile_plan(op, state, params)
            return Decision((), (), op, plan)
        return Decision((), (), adjusted, compile_plan(adjusted, state, params))

    def decision(self, vm: VM, op: Operation, params: Mapping[str, Any]) -> Decision | None:
        """:meth:`decide`, remembered per (state, operation, deleted, values read, parameters).

        None when it cannot be remembered: a guard or adjuster did not declare what it reads
        (:func:`vmlife.reads`), a parameter or attribute value is not hashable, ``op`` is not
        this lifecycle's own operation, or this is the :meth:`uncached` reference copy.
        """
        names = self.memo_attributes
        if names is None or self.operations.get(op.id) is not op:
            return None
        attrs = vm.attributes
        try:
            key = (vm.state, op.id, vm.deleted, tuple(map(attrs.get, names)) if names else (),
                   frozenset(params.items()) if params else ())
            found: Decision | None = self.cache.get(key)
            if found is None:
                found = self.cache[key] = self.decide(vm, op, params)
        except TypeError:  # an unhashable parameter or attribute value
            return None
        return found

    def reasons(self, vm: VM, op: Operation, params: Mapping[str, Any]) -> list[str]:
        """Why ``op`` cannot run on ``vm`` now (remembered when it can be, see
        :meth:`decision`; otherwise every guard is asked, and no adjuster)."""
        found = self.decision(vm, op, params)
        return found.reasons if found is not None else self.refusals(vm, op, params)

    def adjusted(self, vm: VM, op: Operation, params: Mapping[str, Any]) -> Operation:
        """``op`` as the ``adjust_operation`` hooks change it for ``vm`` (``op`` if none does).

        Raises:
            DefinitionError: a plugin returned something other than an :class:`Operation` with
                the same id, or one that sets a state no plugin registered.
        """
        if not self.has_adjusters:
            return op
        current = op

        def take(plugin: str, result: Any) -> None:
            nonlocal current
            if result is None:
                return
            if not isinstance(result, Operation) or result.id != op.id:
                raise DefinitionError(
                    f"plugin {plugin!r}: adjust_operation must return None or an Operation with "
                    f"id {op.id!r}, not {result!r}"
                )
            problem = _field_problem(result)
            if problem:
                raise DefinitionError(
                    f"plugin {plugin!r}: adjust_operation returned operation {op.id!r} with "
                    f"{problem}"
                )
            checked = replace(result, plugin=plugin)
            if not callable(checked.path):
                for phase in checked.path:
                    self._check_assignment(checked, phase.set)
            self._check_assignment(checked, checked.final)
            current = result

        self._call(
            "adjust_operation",
            lambda _p: {"vm": vm, "operation": current, "params": params},
            on_result=take,
        )
        return current

    def _call(
        self,
        hook_name: str,
        make_kwargs: Callable[[str], dict[str, Any]],
        on_result: Callable[[str, Any], None] | None = None,
    ) -> list[tuple[str, Any]]:
        """Call a run-time hook with the implementations this lifecycle was built with.

        They are looked up once per lifecycle (it never changes once built), as is the
        ``VMLIFE_TRACE`` switch: the engine calls guards on every operation.
        """
        impls = self._runtime_impls.get(hook_name)
        if impls is None:
            impls = self._runtime_impls[hook_name] = _impls(self.pm, hook_name)
        return _call_impls(impls, hook_name, make_kwargs, on_result, self._trace)

    def notify_step(self, vm: VM, step: Step) -> None:
        """Call the ``step_recorded`` observers (a no-op when none is registered)."""
        if self.has_observers:
            self._call("step_recorded", lambda _p: {"vm": vm, "step": step})

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> dict[str, Any]:
        """Jupyter: the whole-lifecycle diagram (SVG, or Mermaid text without Graphviz)."""
        from .render import diagram

        bundle: dict[str, Any] = diagram(self, "lifecycle")._repr_mimebundle_(include, exclude)
        return bundle

    def __repr__(self) -> str:
        return (
            f"<Lifecycle {len(self.axes)} axes, {len(self.states)} states, "
            f"{len(self.operations)} operations>"
        )



_cache: tuple[int, Lifecycle] | None = None


def lifecycle() -> Lifecycle:
    """The lifecycle for the plugins loaded now (assembled once per set of plugins)."""
    global _cache
    pm = _plugins.get_plugin_manager()
    gen = _plugins.generation()
    if _cache is None or _cache[0] != gen:
        _cache = (gen, Lifecycle(pm))
    return _cache[1]
