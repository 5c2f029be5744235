"""Plugin faults are named (issue 14 item 8, issue 16 point 4), and ``vmlife plugins --check``."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from importlib import metadata
from typing import Any

import pytest

import vmlife
import vmlife.plugins
from vmlife import VM, Axis, Operation, Phase, State
from vmlife.billing import BillingRules, Rule
from vmlife.billing.meter import bill
from vmlife.cli import main
from vmlife.plugin_check import check_plugins

NONE = frozenset[str]()


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


# ------------------------------------------------------------------ issue 14 item 8
def test_adjust_operation_returning_an_invalid_field_names_the_plugin_and_field() -> None:
    class BadAdjuster:
        @vmlife.hookimpl
        def adjust_operation(self, operation: Operation) -> Operation | None:
            if operation.id == "start":
                return dataclasses.replace(operation, final=None)  # type: ignore[arg-type]
            return None

    with vmlife.registered(BadAdjuster(), name="bad_adjuster"):
        vm = VM("v", state="deallocated")
        with pytest.raises(vmlife.DefinitionError) as err:
            vm.start()
    text = str(err.value)
    assert "plugin 'bad_adjuster': adjust_operation returned operation 'start'" in text
    assert "field 'final' None" in text
    assert vm.state.power == "deallocated"  # unchanged


def test_an_operation_registered_with_sources_as_text_is_named() -> None:
    class Typo:
        @vmlife.hookimpl
        def register_operations(self, register: Any) -> None:
            register(Operation("nap", (Phase({"power": "stopping"}),),
                               sources="running"))  # type: ignore[arg-type]

    with vmlife.registered(Typo(), name="typo_sources"):
        with pytest.raises(vmlife.DefinitionError,
                           match=r"plugin 'typo_sources'.*'nap'.*field 'sources' 'running'"):
            vmlife.lifecycle()


def test_a_guard_returning_an_object_whose_str_raises_is_named() -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no words")

    class Guard:
        @vmlife.hookimpl
        def guard_operation(self, operation: Operation) -> object:
            return Unprintable() if operation.id == "deallocate" else None

    with vmlife.registered(Guard(), name="mumbler"):
        vm = VM("v", state="running")
        with pytest.raises(vmlife.PluginError) as err:
            vm.deallocate()
    assert err.value.plugin == "mumbler" and err.value.hook == "guard_operation"
    assert "returned a Unprintable for deallocate whose str() raised RuntimeError: no words" in (
        str(err.value)
    )


def test_billing_rules_naming_an_unknown_edition_name_the_plugin() -> None:
    class Sleepy:
        @vmlife.hookimpl
        def register_states(self, register: Any) -> None:
            register(Axis("sleep", "SleepState"))
            register(State("asleep", "sleep", "SleepState/Asleep", "Asleep"))

        @vmlife.hookimpl
        def register_editions(self, register: Any) -> None:
            register(BillingRules({"sleep.asleep": Rule(NONE, "Free")}, editions=("2099",),
                                  mode="override"))

    with vmlife.registered(Sleepy(), name="sleepy"):
        with pytest.raises(vmlife.DefinitionError) as err:
            vmlife.lifecycle()
    assert not isinstance(err.value, vmlife.RunError)
    assert "plugin 'sleepy' has billing rules for edition '2099', which no plugin registered; " \
        "editions: 2018-08, 2021-03, 2023-10, draft, lifecycle" in str(err.value)


def test_a_definition_error_raised_inside_a_hook_names_the_plugin_and_hook() -> None:
    class Raiser:
        @vmlife.hookimpl
        def register_states(self, register: Any) -> None:
            raise vmlife.DefinitionError("my axes are not ready")

    with vmlife.registered(Raiser(), name="raiser"):
        with pytest.raises(vmlife.PluginError) as err:
            vmlife.lifecycle()
    assert (err.value.plugin, err.value.hook) == ("raiser", "register_states")
    assert str(err.value) == (
        "plugin 'raiser' raised in hook register_states: DefinitionError: my axes are not ready"
    )


def test_a_misspelled_hook_is_not_listed_as_known_and_gets_a_did_you_mean() -> None:
    class Typo:
        @vmlife.hookimpl
        def register_state(self, register: Any) -> None:  # missing "s"
            pass

    with pytest.raises(vmlife.PluginError) as err:
        with vmlife.registered(Typo(), name="typo"):
            pass
    text = str(err.value)
    assert text.startswith(
        "plugin 'typo' implements 'register_state', which is no vmlife hook; "
        "did you mean 'register_states'? Known hooks: adjust_operation, guard_operation, "
    )
    known = text.split("Known hooks: ", 1)[1]
    assert "register_state," not in known and not known.endswith("register_state")
    assert err.value.hook == "register_state"


def test_a_plugin_object_is_named_by_its_class_not_a_number() -> None:
    class Lock:
        @vmlife.hookimpl
        def register_states(self, register: Any) -> None:
            register(State("locked", "lock", "LockState/Locked", "Locked"))  # no axis

    with vmlife.registered(Lock()):
        with pytest.raises(vmlife.DefinitionError) as err:
            vmlife.lifecycle()
    assert "plugin 'tests.test_plugin_faults.test_a_plugin_object_is_named_by_its_class_not_a_" \
        "number.Lock' registers state 'locked' on axis 'lock'" in str(err.value)
    with vmlife.registered(Lock()) as one, vmlife.registered(Lock()) as two:
        pm = vmlife.plugins.get_plugin_manager()
        assert pm.get_name(two) == pm.get_name(one) + "#2"


# ------------------------------------------------------------------ plugins --check
class FakeDist:
    version = "1.0"
    metadata = {"Name": "vmlife-fake"}


def _ep(name: str, value: str) -> metadata.EntryPoint:
    ep = metadata.EntryPoint(name, value, "vmlife")
    ep._for(FakeDist())  # type: ignore[attr-defined]
    return ep


@pytest.fixture
def broken_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Entry points of a broken set: one fails to import, two conflict, one misspells."""
    eps = [
        _ep("shaky", "tests.no_such_module:plugin"),
        _ep("first_lock", "tests.fake_plugins:lock_one"),
        _ep("second_lock", "tests.fake_plugins:lock_two"),
        _ep("typo", "tests.fake_plugins:typo"),
        _ep("orphan", "tests.fake_plugins:orphan"),
    ]
    monkeypatch.setattr(metadata, "entry_points",
                        lambda group: [e for e in eps if e.group == group])
    monkeypatch.delenv("VMLIFE_LOAD_PLUGINS")
    vmlife.plugins.reset()


def test_check_reports_every_problem_with_the_entry_point_name(broken_install: None) -> None:
    result = check_plugins()
    found = {(p.plugin, p.kind) for p in result.problems}
    assert found == {
        ("shaky", "import"),
        ("typo", "unknown hook"),
        ("first_lock / second_lock", "definition"),
        ("orphan", "definition"),
    }
    by = {p.plugin: p.message for p in result.problems}
    assert "plugin 'shaky' (distribution vmlife-fake 1.0) failed to import" in by["shaky"]
    assert "did you mean 'guard_operation'?" in by["typo"]
    assert "axis 'lock' is defined by both plugin 'first_lock' and plugin 'second_lock'" in (
        by["first_lock / second_lock"]
    )
    assert "plugin 'orphan' registers state 'ghost' on axis 'ghosts', which no plugin" in (
        by["orphan"]
    )
    assert not result.ok


def test_plugins_check_and_doctor_exit_3_with_a_broken_plugin(broken_install: None) -> None:
    code, text = run("plugins", "--check")
    assert code == 3
    assert "error: typo: unknown hook: plugin 'typo' implements 'gaurd_operation'" in text
    code, text = run("plugins", "--check", "--json")
    data = json.loads(text)
    assert code == 3 and data["ok"] is False and len(data["problems"]) == 4
    code, text = run("plugins")
    assert code == 3
    code, text = run("doctor", "--json")
    assert code == 3
    assert {p["plugin"] for p in json.loads(text)["plugin_problems"]} == {
        "shaky", "typo", "first_lock / second_lock", "orphan"}


def test_a_broken_plugin_makes_plugins_exit_3_in_a_subprocess() -> None:
    code = (
        "import sys\n"
        "from importlib import metadata\n"
        "ep = metadata.EntryPoint('shaky', 'no_such_module:plugin', 'vmlife')\n"
        "metadata.entry_points = lambda group: [ep]\n"
        "from vmlife.cli import main\n"
        "sys.exit(main(['plugins']))\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "VMLIFE_LOAD_PLUGINS"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 3
    assert "plugin 'shaky'" in proc.stderr and "'vmlife plugins --check' lists them all" in (
        proc.stderr
    )
    assert "Traceback" not in proc.stderr


def test_a_clean_set_of_plugins_checks_ok() -> None:
    code, text = run("plugins", "--check")
    assert code == 0
    assert "No problems: every plugin loads and the lifecycle builds." in text


# ------------------------------------------------------------------ billing composition
class Maintenance:
    """An inheriting axis: maintenance scheduled bills as the power state says."""

    @vmlife.hookimpl
    def register_states(self, register: Any) -> None:
        register(Axis("maintenance", "MaintenanceState", "Maintenance"))
        register(State("scheduled", "maintenance", "MaintenanceState/scheduled", "Scheduled"))

    @vmlife.hookimpl
    def register_operations(self, register: Any) -> None:
        register(Operation("schedule_maintenance",
                           (Phase({"maintenance": "scheduled"}, key="maintenance"),),
                           sources=None, provisioning=None,
                           final={"maintenance": "scheduled"}))
        register(Operation("finish_maintenance", (Phase({"maintenance": None}),),
                           sources=None, provisioning=None, final={"maintenance": None}))


class FreeMaintenance(Maintenance):
    """The same axis, overriding: nothing billed while maintenance is scheduled."""

    @vmlife.hookimpl
    def register_editions(self, register: Any) -> None:
        register(BillingRules({"maintenance.scheduled": Rule(NONE, "Not billed")},
                              mode="override"))


def _schedule(vm: VM, ops: list[tuple[str, float]]) -> VM:
    vm.create()
    for op, wait in ops:
        if op in vm.allowed():
            vm.do(op)
        vm.wait(wait)
    return vm


OPS = ["start", "power_off", "deallocate", "schedule_maintenance", "finish_maintenance"]


@pytest.mark.parametrize("seed", range(12))
def test_an_inheriting_axis_never_changes_a_bill(seed: int) -> None:
    import random

    rng = random.Random(seed)
    ops = [(rng.choice(OPS), rng.uniform(0, 7200)) for _ in range(12)]
    end = "2024-01-03T00:00:00Z"
    with vmlife.registered(Maintenance()):
        vm = _schedule(VM("m"), ops)
        assert any("maintenance" in s.state for s in vm.timeline) or not any(
            o == "schedule_maintenance" for o, _ in ops)
        with_axis = bill(vm.timeline, end=end)
        # the same timeline with the maintenance axis taken out
        plain = vmlife.Timeline.from_steps(
            "m", [dataclasses.replace(s, state=s.state.replace(maintenance=None))
                  for s in vm.timeline])
        without = bill(plain, end=end)
    assert with_axis.total_cost == without.total_cost
    assert with_axis.to_records() == without.to_records()


def test_an_overriding_axis_changes_the_bill_and_check_reports_it() -> None:
    end = "2024-01-01T10:00:00Z"
    bills = {}
    for plugin in (Maintenance(), FreeMaintenance()):
        with vmlife.registered(plugin, name="maint"):
            vm = VM("m").create().wait(3600).schedule_maintenance().wait(7200)
            bills[type(plugin).__name__] = bill(vm.timeline, end=end)
            result = check_plugins()
            code, text = run("plugins", "--check")
            strict, _ = run("plugins", "--check", "--strict")
    assert bills["FreeMaintenance"].total_cost < bills["Maintenance"].total_cost
    notices = [p for p in result.problems if p.kind == "billing override"]
    assert [(p.plugin, p.severity) for p in notices] == [("maint", "notice")]
    assert "plugin 'maint': the billing rule for 'maintenance.scheduled' overrides the power " \
        "state's (mode='override') in editions draft, 2018-08, lifecycle, " in notices[0].message
    assert result.ok and code == 0 and strict == 3
    assert "notice: maint: billing override:" in text


def test_a_rule_for_an_inheriting_axis_is_refused_with_both_choices() -> None:
    class Ambiguous(Maintenance):
        @vmlife.hookimpl
        def register_editions(self, register: Any) -> None:
            register(BillingRules({"maintenance.scheduled": Rule(NONE, "Not billed")}))

    with vmlife.registered(Ambiguous(), name="ambiguous"):
        with pytest.raises(vmlife.DefinitionError) as err:
            vmlife.lifecycle()
    text = str(err.value)
    assert "plugin 'ambiguous' has a billing rule for 'maintenance.scheduled'" in text
    assert "register none" in text and "mode='override'" in text


def test_billing_rules_mode_is_checked() -> None:
    with pytest.raises(ValueError, match="'inherit' or 'override', not 'replace'"):
        BillingRules({}, mode="replace")  # type: ignore[arg-type]


def test_hibernation_overrides_and_is_reported() -> None:
    import vmlife_hibernation

    with vmlife.registered(vmlife_hibernation, name="hibernation"):
        result = check_plugins()
        ed = vmlife.lifecycle().edition()
    assert "hibernation.hibernated" in ed.overrides
    assert [(p.plugin, p.kind) for p in result.problems] == [("hibernation", "billing override")]
    assert result.ok
