"""The hooks a vmlife plugin can implement.

A plugin is any module or object with functions decorated by ``@vmlife.hookimpl`` whose names
match the specifications below. vmlife always calls hooks with keyword arguments, so an
implementation may accept any subset of a hook's arguments (new arguments can be added to a
spec without breaking existing plugins).

Registration hooks receive a ``register`` callback: vmlife owns validation and duplicate
detection, and knows which plugin registered what. The plugin author's guide in the README has
one complete example per hook; ``tests/test_hooks_meta.py`` keeps that guide and the tests in
step with this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable, Mapping

    from .billing.editions import BillingRules, Edition
    from .engine import VM
    from .model import Axis, Operation, State
    from .timeline import Step

hookspec = pluggy.HookspecMarker("vmlife")

__all__ = [
    "adjust_operation",
    "guard_operation",
    "hookspec",
    "register_editions",
    "register_operations",
    "register_states",
    "step_recorded",
]


@hookspec
def register_states(register: Callable[[Axis | State], None]) -> None:
    """Add axes and states to the lifecycle.

    Call ``register(Axis(...))`` for a new axis and ``register(State(...))`` for each state.
    An axis must be registered (by this or another plugin) before states on it are used; a state
    id may appear once per axis across all plugins, or a :class:`~vmlife.ConflictError` names
    both plugins.
    """


@hookspec
def register_operations(register: Callable[[Operation], None]) -> None:
    """Add operations to the lifecycle: ``register(Operation(...))`` once per operation."""


@hookspec
def register_editions(register: Callable[[Edition | BillingRules], None]) -> None:
    """Add billing editions, or billing rules for a plugin's own states.

    ``register(Edition(...))`` adds a whole edition (a revision of Azure's billing rules);
    ``register(BillingRules({...}, editions=None))`` adds rules for the plugin's states to
    existing editions (``None``: all of them). Rules are keyed ``"axis.state"``.
    """


@hookspec
def guard_operation(vm: VM, operation: Operation, params: Mapping[str, Any]) -> str | None:
    """Veto an operation: return a reason (a sentence) to refuse it, or None to let it pass.

    Called before every operation, after the lifecycle's own rules (source states, existence)
    have passed, and when listing which operations are allowed now. Every implementation is
    asked; all reasons are reported. Must not change the VM.

    A guard answers "may this be done?". It refuses *simulated* operations only. When a history
    is replayed (an Activity Log read by :func:`vmlife.read_activity_log`, or any
    ``vm.do(..., replay=True)``) the operation already happened: guards are still asked, but
    cannot refuse; each reason becomes a note on the step ("the model expected this to be
    refused: <reason>", :attr:`vmlife.timeline.Step.notes`) and the records of such operations
    are counted in ``Reconstruction.counts.guard_noted``. A replayed VM carries only its
    ``resource_id`` attribute (and what an inventory adds), so a guard on an attribute should
    say why in words a reader of that note understands.

    Return text (or None). Anything else is turned into text with ``str()``; if that raises,
    the plugin is named in a :class:`~vmlife.errors.PluginError`.
    """


@hookspec
def adjust_operation(
    vm: VM, operation: Operation, params: Mapping[str, Any]
) -> Operation | None:
    """Change what an allowed operation does to this VM: return a replacement, or None.

    Called once the operation has passed the lifecycle's rules and every guard, just before it
    runs. Return ``dataclasses.replace(operation, ...)`` with another ``path``, ``final``,
    ``deletes`` or ``attributes`` when the outcome depends on the VM (its attributes, or a
    plugin's own axis that the operation must clear). The id must stay the same. Implementations
    are called in turn, each receiving the operation as adjusted so far. Must not change the VM.
    """


@hookspec
def step_recorded(vm: VM, step: Step) -> None:
    """Observe the engine: called after each step is appended to a VM's timeline.

    ``step`` is the new :class:`~vmlife.timeline.Step` (its ``end`` is None: it is open). A step
    that would last zero seconds (an operation starting the instant the previous one ended) is
    replaced in the timeline by the next one, but observers have seen it. Observers must not
    change the VM.
    """
