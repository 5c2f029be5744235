"""The transition engine: a :class:`VM` you drive with operations, and the timing model.

Operations run one after another on a simulated clock. Each operation's phases (see
:class:`~vmlife.model.Operation`) last what the :class:`Timing` says, so the VM's
:class:`~vmlife.timeline.Timeline` shows every transitional state with its duration, which is
what billing needs (Starting is billed under the 2023 rules and not under earlier ones).

Example:
    >>> vm = VM("web-1", start="2024-01-01T08:00:00Z")
    >>> _ = vm.create().deallocate(at="2024-01-01T18:00:00Z")
    >>> vm.state.power
    'deallocated'
    >>> vm.allowed()
    ['delete', 'redeploy', 'start', 'update', 'reapply']
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .errors import OperationNotAllowed, RunError, ScheduleError
from .lifecycle import Decision, Lifecycle, compile_plan
from .lifecycle import lifecycle as current_lifecycle
from .model import VMState
from .timeline import Step, Timeline
from .timeutil import TimeLike, iso, to_epoch, to_seconds

if TYPE_CHECKING:  # pragma: no cover
    import random

__all__ = ["DEFAULT_DURATIONS", "REPLAY_NOTE", "VM", "Timing"]

#: How a replayed operation's note begins when a plugin's guard would have refused it.
REPLAY_NOTE = "the model expected this to be refused"

#: Seconds each phase lasts by default, keyed by the phase's timing key (the state id it shows,
#: or a named key). Azure publishes no durations: these are vmlife's round-number model, chosen
#: to be of the order seen in practice (tens of seconds to a few minutes). Override them.
DEFAULT_DURATIONS: dict[str, float] = {
    "creating": 30.0,
    "starting": 40.0,
    "stopping": 20.0,
    "deallocating": 45.0,
    "in_progress": 90.0,
    "complete": 20.0,
    "updating": 15.0,
    "deleting": 30.0,
    "stopped_briefly": 5.0,
    "redeploy_moving": 60.0,
}


class Timing:
    """How long each phase of an operation lasts.

    Args:
        durations: seconds per timing key, merged over :data:`DEFAULT_DURATIONS`.
        default: seconds for a key with no entry (a plugin's new state, say).
        jitter: 0 for fixed durations; ``j`` > 0 multiplies each duration by a uniform random
            factor in ``[1 - j, 1 + j]``.
        seed: seed of the random generator used for jitter (reproducible runs).

    Example:
        >>> Timing({"starting": 120}).duration("starting")
        120.0
    """

    def __init__(
        self,
        durations: Mapping[str, float | timedelta] | None = None,
        *,
        default: float = 30.0,
        jitter: float = 0.0,
        seed: int | None = None,
    ) -> None:
        if not 0.0 <= jitter < 1.0:
            raise ValueError(f"jitter must be in [0, 1), got {jitter!r}")
        self.durations = dict(DEFAULT_DURATIONS)
        for key, value in (durations or {}).items():
            secs = to_seconds(value)
            if secs < 0:
                raise ValueError(f"duration of {key!r} must not be negative, got {secs}")
            self.durations[key] = secs
        if default < 0:
            raise ValueError("default duration must not be negative")
        self.default = float(default)
        self.jitter = float(jitter)
        self._seed = seed
        self._rng: random.Random | None = None

    def duration(self, key: str) -> float:
        """Seconds for one phase with this timing key."""
        base = self.durations.get(key, self.default)
        if self.jitter:
            if self._rng is None:
                import random  # only jittered timings need it (import vmlife stays light)

                self._rng = random.Random(self._seed)
            base *= self._rng.uniform(1.0 - self.jitter, 1.0 + self.jitter)
        return float(base)

    def __repr__(self) -> str:
        return f"Timing(jitter={self.jitter}, durations={self.durations})"


_DEFAULT_START = "2024-01-01T00:00:00Z"


class VM:
    """A simulated Azure VM driven by operations.

    Every registered operation is a method: ``vm.start()``, ``vm.deallocate(at=...)``,
    ``vm.hibernate()`` when a plugin adds it. They all call :meth:`do`, and return the VM so
    calls chain.

    Args:
        name: the VM's name or resource id.
        start: the simulated clock's start (any time value; default 2024-01-01T00:00Z).
        timing: the :class:`Timing` model (default durations when omitted).
        state: an initial state for a VM that already exists: a :class:`VMState`, a mapping
            axis -> state id, or a power-state id (provisioning is then ``succeeded``).
        lifecycle: the lifecycle to use; default is the one of the loaded plugins.
        **attributes: VM attributes plugins may read in guards (e.g. ``hibernation_enabled``).
    """

    def __init__(
        self,
        name: str = "vm",
        *,
        start: TimeLike = _DEFAULT_START,
        timing: Timing | None = None,
        state: VMState | Mapping[str, str] | str | None = None,
        lifecycle: Lifecycle | None = None,
        **attributes: Any,
    ) -> None:
        self._lc = lifecycle if lifecycle is not None else current_lifecycle()
        self.name = name
        self.timing = timing if timing is not None else Timing()
        self.attributes: dict[str, Any] = dict(attributes)
        self.deleted = False
        self.clock = to_epoch(start)
        self._starts: list[float] = []
        self._states: list[VMState] = []
        self._ops: list[str | None] = []
        self._notes: dict[int, list[str]] = {}
        #: replayed operations recorded although a plugin's guard would have refused them
        self.noted_operations = 0
        self._state = VMState()
        if state is not None:
            self._record(self.clock, self._coerce_state(state), None)

    # ------------------------------------------------------------------ state
    @property
    def lifecycle(self) -> Lifecycle:
        """The lifecycle this VM follows."""
        return self._lc

    @property
    def state(self) -> VMState:
        """The current composite state."""
        return self._state

    @property
    def timeline(self) -> Timeline:
        """A snapshot of the VM's history as a :class:`Timeline`."""
        return Timeline(
            self.name, self._starts, self._states, self._ops, attributes=self.attributes,
            notes=self._notes,
        )

    def statuses(self) -> list[dict[str, Any]]:
        """The instance-view ``statuses`` Azure would show now."""
        return self.timeline.statuses_at(self.clock, lifecycle=self._lc)

    def allowed(self) -> list[str]:
        """Ids of the operations allowed now (lifecycle rules and plugin guards)."""
        lc = self._lc
        return [op.id for op in lc.operations.values() if not lc.reasons(self, op, {})]

    def why_not(self, operation: str, **params: Any) -> list[str]:
        """Why ``operation`` would be refused now; an empty list if it is allowed."""
        return self._lc.reasons(self, self._lc.operation(operation), params)

    # ------------------------------------------------------------------ driving
    def do(
        self,
        operation: str,
        *,
        at: TimeLike | None = None,
        until: TimeLike | None = None,
        fail: str | None = None,
        fail_at: int = 0,
        cancel: bool = False,
        replay: bool = False,
        **params: Any,
    ) -> VM:
        """Run one operation.

        A simulated operation (the default) is refused when the lifecycle's rules or a plugin's
        guard say no. A *replayed* one (``replay=True``, what the Activity Log reader does) is
        a fact: it happened. The lifecycle's rules still refuse it (a start on a running VM
        cannot be drawn as a state change), but the guards cannot: they are asked, and each
        reason becomes a note on the operation's first step, ``"the model expected this to be
        refused: <reason>"`` (see :attr:`~vmlife.timeline.Step.notes`). A guard answers "may
        this be done?"; a replayed event already was done.

        Args:
            operation: the operation id.
            at: when it starts; default now (the end of the previous operation). Must not be
                earlier than the clock.
            until: when it must have completed: the phase durations are scaled to fit. Default:
                the timing model's durations.
            fail: an Azure error code: the operation fails with it. Provisioning becomes
                ``failed`` with this code and the power state stays where the failure found it
                (spec 000/001 "Edge cases"; 001's example ``failed/InternalOperationError``).
            fail_at: how many phases complete before the failure (0: at once). With
                ``until`` and no phase completed, the span from ``at`` to ``until`` shows the
                operation's transitional provisioning state (``updating``, ``creating``...)
                with the power state unchanged, then the failure: an Activity Log's
                Started-to-Failed span. Azure does not document what the instance view shows
                before a failure; this is vmlife's model.
            cancel: the operation was canceled (an Activity Log operation that ends
                ``Canceled``): as a failure, but provisioning becomes ``canceled`` (000:
                "User-initiated cancel will result in this state") with no error code, and the
                power state stays where the cancel found it (vmlife's model; Azure is silent).
                ``fail_at`` counts the phases completed before it.
            replay: the operation is a recorded fact, not a request: guards cannot refuse it,
                their reasons become notes on the step.
            **params: operation parameters (``generalized=True`` for create, capabilities for
                create and update, ``hibernate=True`` for a plugin, ...).

        Returns:
            The VM itself.

        Raises:
            OperationNotAllowed: the lifecycle or (unless ``replay``) a plugin guard refused
                it; the VM is unchanged.
            ScheduleError: ``at`` is before the clock or ``until`` before ``at``.
            UnknownNameError: no such operation (the message lists them).
        """
        lc = self._lc
        op = lc.operations.get(operation) or lc.operation(operation)
        clock = self.clock
        t = clock if at is None else at if type(at) is float else to_epoch(at)
        if t < clock:
            raise ScheduleError(
                f"{self.name}: {operation} at {iso(t)} is before the end of the previous step "
                f"({iso(clock)})"
            )
        state = self._state
        names = lc.memo_attributes
        decision: Decision | None = None
        if names is not None:  # every guard and adjuster declared what it reads: remember
            attrs = self.attributes
            try:
                key = (state, operation, self.deleted,
                       tuple(map(attrs.get, names)) if names else (),
                       frozenset(params.items()) if params else ())
                decision = lc.cache.get(key)
                if decision is None:
                    decision = lc.cache[key] = lc.decide(self, op, params)
            except TypeError:  # an unhashable parameter or attribute value
                decision = None
        if decision is None:
            decision = lc.decide(self, op, params)
        if decision.refusals or (decision.vetoes and not replay):
            raise OperationNotAllowed(operation, state.describe(), decision.reasons,
                                      self.allowed())
        op = decision.operation
        plan = decision.plan
        noted: list[str] = []
        if decision.vetoes:  # replayed: a fact, which the guards would have refused
            noted = [f"{REPLAY_NOTE}: {r}" for r in decision.vetoes]
            op = lc.adjusted(self, op, params)
            plan = compile_plan(op, state, params)
        if (
            fail is None
            and not cancel
            and plan is not None
            and (until is None or plan[0])
            and not lc.has_observers
        ):
            # the common case: the compiled (timing key, state) pairs and the end state
            steps, end_state = plan
            t0 = t
            starts, states, ops = self._starts, self._states, self._ops
            timing = self.timing
            if until is None and not timing.jitter:
                table = timing.durations
                fallback = timing.default
                for tkey, st in steps:
                    if starts and starts[-1] == t:  # a zero-length step is replaced, not kept
                        states[-1] = st
                        ops[-1] = operation
                    else:
                        starts.append(t)
                        states.append(st)
                        ops.append(operation)
                    t += table.get(tkey, fallback)
            else:
                if timing.jitter:
                    spans = [timing.duration(tkey) for tkey, _ in steps]
                else:
                    table, fallback = timing.durations, timing.default
                    spans = [float(table.get(tkey, fallback)) for tkey, _ in steps]
                if until is not None:
                    spans = self._fit(operation, spans, t, until)
                for (_, st), span in zip(steps, spans, strict=True):
                    if starts and starts[-1] == t:
                        states[-1] = st
                        ops[-1] = operation
                    else:
                        starts.append(t)
                        states.append(st)
                        ops.append(operation)
                    t += span
            if starts and starts[-1] == t:
                states[-1] = end_state
                ops[-1] = None
            else:
                starts.append(t)
                states.append(end_state)
                ops.append(None)
            self._state = end_state
            if op.stores_params and params:
                self.attributes.update(params)
            if op.attributes:
                self.attributes.update(op.attributes)
            if op.deletes:
                self.deleted = True
            self.clock = t
            if noted:
                self._note(t0, noted)
            return self
        phases = op.plan(state, params)
        ends = "canceled" if cancel else "failed"
        if cancel and fail is not None:
            raise RunError(f"{operation}: give fail= or cancel=True, not both")
        if cancel:
            lc.state("provisioning", "canceled")  # raises UnknownNameError listing the states
        if fail is not None or cancel:
            if op.provisioning is None:
                raise RunError(
                    f"{operation} is not a control-plane operation and cannot be {ends}"
                )
            if not 0 <= fail_at <= len(phases):
                raise RunError(
                    f"fail_at must be between 0 and {len(phases)} for {operation}, got {fail_at}"
                )
            n = fail_at
        else:
            n = len(phases)
        durations = [self.timing.duration(ph.timing_key) for ph in phases[:n]]
        if until is not None:
            durations = self._fit(operation, durations, t, until)
        # -- from here on the operation happens: nothing below may raise
        t0 = t
        cur = state
        if op.provisioning is not None:
            cur = cur.replace(provisioning=op.provisioning)
        for phase, dur in zip(phases[:n], durations, strict=True):
            cur = cur.replace(phase.set)
            self._record(t, cur, op.id)
            t += dur
        if until is not None and not durations and to_epoch(until) > t:
            # failed or canceled before any phase: the span shows the provisioning state only
            self._record(t, cur, op.id)
            t = to_epoch(until)
        if fail is not None or cancel:
            cleared: dict[str, str | None] = {
                a.id: None for a in lc.axes.values() if a.parent and a.parent[0] == "provisioning"
            }
            cur = cur.replace(cleared, provisioning=ends, error_code=fail)
        else:
            # a deleted VM has no state on any axis, a plugin's included
            cur = VMState() if op.deletes else cur.replace(op.final)
            if op.stores_params:
                self.attributes.update(params)
            self.attributes.update(op.attributes)
            if op.deletes:
                self.deleted = True
        self._record(t, cur, None)
        self.clock = t
        if noted:
            self._note(t0, noted)
        return self

    def wait(self, duration: float | timedelta) -> VM:
        """Let simulated time pass (seconds or a ``timedelta``); the state holds."""
        secs = to_seconds(duration)
        if secs < 0:
            raise ScheduleError("cannot wait a negative duration")
        self.clock += secs
        return self

    def advance_to(self, when: TimeLike) -> VM:
        """Move the clock to ``when`` (not backwards); the state holds."""
        t = to_epoch(when)
        if t < self.clock:
            raise ScheduleError(f"{self.name}: {iso(t)} is before the clock ({iso(self.clock)})")
        self.clock = t
        return self

    def __getattr__(self, name: str) -> Callable[..., VM]:
        if name.startswith("_"):
            raise AttributeError(name)
        lc = self.__dict__.get("_lc")
        if lc is not None and name in lc.operations:
            method = functools.partial(self.do, name)
            self.__dict__[name] = method  # found directly next time
            return method
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}"
            + (f"; operations: {', '.join(lc.operations)}" if lc is not None else "")
        )

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._lc.operations))

    def __repr__(self) -> str:
        return f"<VM {self.name!r}: {self._state.describe()} at {iso(self.clock)}>"

    def _repr_html_(self) -> str:
        """Jupyter: the state, the operations allowed now, and the diagram highlighting it."""
        from .render.html import vm_html

        return vm_html(self)

    # ------------------------------------------------------------------ internals
    def _fit(self, operation: str, durations: list[float], t: float, until: TimeLike
             ) -> list[float]:
        """Phase durations scaled so the operation started at ``t`` ends at ``until``."""
        end = until if type(until) is float else to_epoch(until)
        if end < t:
            raise ScheduleError(f"{self.name}: {operation} until {iso(end)} is before it starts")
        total = sum(durations)
        span = end - t
        if not durations:
            return durations
        if total > 0:
            return [d * span / total for d in durations]
        return [span / len(durations)] * len(durations)

    def _record(self, t: float, state: VMState, op: str | None) -> None:
        if self._starts and self._starts[-1] == t:
            # a zero-length step is replaced rather than kept
            self._states[-1] = state
            self._ops[-1] = op
        else:
            self._starts.append(t)
            self._states.append(state)
            self._ops.append(op)
        self._state = state
        if self._lc.has_observers:
            self._lc.notify_step(self, Step(t, None, state, op))

    def _note(self, t: float, notes: list[str]) -> None:
        """Attach notes to the step that starts at ``t`` (the operation's first step)."""
        self.noted_operations += 1
        i = bisect_left(self._starts, t)
        self._notes.setdefault(min(i, len(self._starts) - 1), []).extend(notes)

    def _coerce_state(self, state: VMState | Mapping[str, str] | str) -> VMState:
        if isinstance(state, VMState):
            result = state
        elif isinstance(state, str):
            st = self._lc.find_state(state)
            if st.axis == "power":
                result = VMState(provisioning="succeeded", power=st.id)
            else:
                result = VMState({st.axis: st.id})
        else:
            result = VMState(state)
        for axis, sid in result.items():
            self._lc.state(axis, sid)  # raises UnknownNameError listing the choices
        return result

