"""The engine's memo of guards and adjusters against the uncached reference path.

With the three first-party plugins loaded (each declares what its guards and adjusters read,
``vmlife.reads``), a VM on the memoised lifecycle and a twin on ``Lifecycle.uncached()`` run
the same random operation script: every refusal (its reasons), every timeline and every
attribute must be identical.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vmlife
from vmlife import VM, OperationNotAllowed, RunError

vmlife_hibernation = pytest.importorskip("vmlife_hibernation")
vmlife_classic_migration = pytest.importorskip("vmlife_classic_migration")
vmlife_spot = pytest.importorskip("vmlife_spot")

PLUGINS = (vmlife_hibernation, vmlife_classic_migration, vmlife_spot)

#: Parameters an operation may be given (hashable and unhashable values both).
PARAMS: list[dict[str, Any]] = [
    {},
    {},
    {},
    {"hibernate": True},
    {"hibernation_enabled": True},
    {"hibernation_enabled": False},
    {"priority": "spot"},
    {"priority": "Regular"},
    {"eviction_policy": "Delete"},
    {"eviction_policy": "bogus"},
    {"max_price": -1},
    {"max_price": 0},
    {"size": "Standard_D4s_v5"},
    {"disks": ["data-1"]},  # unhashable: never remembered
]

#: VM attributes a script starts with.
ATTRIBUTES: list[dict[str, Any]] = [
    {},
    {"hibernation_enabled": True},
    {"priority": "spot", "eviction_policy": "Delete"},
    {"priority": "Spot", "hibernation_enabled": "true"},
    {"deployment_model": "classic"},
    {"deployment_model": "classic", "virtual_network": False},
    {"deployment_model": "classic", "migration_blockers": ["has a classic load balancer"]},
    {"deployment_model": "classic", "migration_blockers": "unsupported extension"},
]

STATES = [None, "running", "stopped", "deallocated"]

step = st.tuples(
    st.integers(0, 10_000),  # which operation (modulo their number)
    st.sampled_from(range(len(PARAMS))),
    st.sampled_from([None, None, None, "InternalOperationError", "cancel"]),  # fail=
    st.booleans(),  # until= an hour later
    st.booleans(),  # replay=: guards leave notes instead of refusing
)


def _run(vm: VM, script: list[tuple[int, int, str | None, bool, bool]]) -> list[Any]:
    ops = sorted(vm.lifecycle.operations)
    seen: list[Any] = []
    for which, p, fail, until, replay in script:
        op = ops[which % len(ops)]
        at = vm.clock + 60
        kwargs: dict[str, Any] = dict(PARAMS[p])
        if fail == "cancel":
            kwargs["cancel"] = True
        else:
            kwargs["fail"] = fail
        try:
            vm.do(op, at=at, until=at + 3600 if until else None, replay=replay, **kwargs)
            seen.append((op, "ran"))
        except OperationNotAllowed as exc:
            seen.append((op, "refused", tuple(exc.reasons), tuple(exc.allowed)))
        except RunError as exc:
            seen.append((op, "error", str(exc)))
        seen.append(tuple(vm.allowed()))
    return seen


@settings(max_examples=150, deadline=None)
@given(
    script=st.lists(step, max_size=25),
    attributes=st.sampled_from(ATTRIBUTES),
    state=st.sampled_from(STATES),
)
def test_memoised_engine_and_uncached_reference_agree(
    script: list[tuple[int, int, str | None, bool, bool]],
    attributes: dict[str, Any],
    state: str | None,
) -> None:
    with vmlife.registered(vmlife_hibernation), vmlife.registered(
        vmlife_classic_migration
    ), vmlife.registered(vmlife_spot):
        lc = vmlife.lifecycle()
        assert lc.memo_attributes is not None  # all three declared what they read
        memo = VM("a", start=0.0, state=state, lifecycle=lc, **attributes)
        reference = VM("a", start=0.0, state=state, lifecycle=lc.uncached(), **attributes)
        assert _run(memo, script) == _run(reference, script)
        assert list(memo.timeline) == list(reference.timeline)
        assert [s.notes for s in memo.timeline] == [s.notes for s in reference.timeline]
        assert memo.attributes == reference.attributes
        assert memo.deleted == reference.deleted
        assert reference.lifecycle.cache == {}


def test_the_memo_asks_a_declared_guard_once_per_distinct_question() -> None:
    calls: list[str] = []

    class Counting:
        @vmlife.hookimpl
        @vmlife.reads(axes=("power",), attributes=("tier",))
        def guard_operation(self, vm: VM, operation: vmlife.Operation) -> str | None:
            calls.append(operation.id)
            return "gold VMs never stop" if (
                operation.id == "power_off" and vm.attributes.get("tier") == "gold"
            ) else None

    with vmlife.registered(Counting()):
        lc = vmlife.lifecycle()
        assert lc.memo_attributes == ("tier",)
        vm = VM("a", start=0.0, state="running", lifecycle=lc)
        for i in range(10):
            vm.power_off(at=10_000.0 * i + 1).start(at=10_000.0 * i + 5_000)
        assert calls.count("power_off") == 1 and calls.count("start") == 1
        vm.attributes["tier"] = "gold"  # a value it reads changed: asked again
        with pytest.raises(OperationNotAllowed, match="gold VMs never stop"):
            vm.power_off()
        assert calls.count("power_off") == 2
        calls.clear()
        twin = VM("b", start=0.0, state="running", lifecycle=lc.uncached())
        twin.power_off(at=100.0).start(at=1_000.0).power_off(at=5_000.0)
        assert calls.count("power_off") == 2  # the reference path asks every time


def test_an_undeclared_guard_is_asked_every_time() -> None:
    calls: list[str] = []

    class Undeclared:
        @vmlife.hookimpl
        def guard_operation(self, vm: VM, operation: vmlife.Operation) -> str | None:
            calls.append(operation.id)
            return None

    with vmlife.registered(vmlife_spot), vmlife.registered(Undeclared()):
        lc = vmlife.lifecycle()
        assert lc.memo_attributes is None
        vm = VM("a", start=0.0, state="running", lifecycle=lc)
        for i in range(3):
            vm.power_off(at=10_000.0 * i + 1).start(at=10_000.0 * i + 5_000)
        assert calls.count("power_off") == 3


def test_a_declared_axis_must_exist() -> None:
    class Typo:
        @vmlife.hookimpl
        @vmlife.reads(axes=("powr",))
        def guard_operation(self) -> None:
            return None

    with vmlife.registered(Typo(), name="typo"), pytest.raises(
        vmlife.DefinitionError, match="plugin 'typo'.*axis 'powr'.*axes: os_provisioning"
    ):
        vmlife.lifecycle()
