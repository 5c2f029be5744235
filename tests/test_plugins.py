"""The plugin system: hooks, registered(), conflicts, loading switches and faults."""

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
from vmlife import VM, Operation, Phase, State, VMState
from vmlife.cli import main


class Suspend:
    """A throwaway plugin: a new power state and two operations."""

    @vmlife.hookimpl
    def register_states(self, register: Any) -> None:
        register(State("suspended", "power", "PowerState/suspended", "VM suspended"))

    @vmlife.hookimpl
    def register_operations(self, register: Any) -> None:
        register(
            Operation(
                "suspend",
                (Phase({"power": "stopping"}),),
                sources=frozenset({"running"}),
                final={"provisioning": "succeeded", "power": "suspended"},
            )
        )
        register(
            Operation(
                "resume",
                (Phase({"power": "starting"}),),
                sources=frozenset({"suspended"}),
                final={"provisioning": "succeeded", "power": "running"},
            )
        )


def test_hook_register_states_and_register_operations_with_registered_block() -> None:
    with vmlife.registered(Suspend(), name="suspend-plugin"):
        lc = vmlife.lifecycle()
        assert lc.state("power", "suspended").plugin == "suspend-plugin"
        assert lc.operation("suspend").plugin == "suspend-plugin"
        vm = VM("a").create().suspend()
        assert vm.state == VMState(provisioning="succeeded", power="suspended")
        assert vm.allowed() == ["delete", "resume"]
        vm.resume()
        assert vm.state.power == "running"
        assert vmlife.parse_code("PowerState/Suspended").known
    lc = vmlife.lifecycle()
    assert ("power", "suspended") not in lc.states
    assert "suspend" not in lc.operations
    assert not vmlife.parse_code("PowerState/suspended").known
    with pytest.raises(AttributeError):
        VM("b").suspend  # noqa: B018


def test_registered_unregisters_even_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), vmlife.registered(Suspend()):
        raise RuntimeError("boom")
    assert "suspend" not in vmlife.lifecycle().operations


def test_registered_leaves_an_already_registered_plugin_alone() -> None:
    plugin = Suspend()
    with vmlife.registered(plugin, name="outer"):
        with vmlife.registered(plugin):  # loaded already, e.g. from its entry point
            assert "suspend" in vmlife.lifecycle().operations
        assert vmlife.plugins.get_plugin_manager().get_plugin("outer") is plugin
    assert "suspend" not in vmlife.lifecycle().operations


def test_register_states_can_add_an_axis() -> None:
    class Lock:
        @vmlife.hookimpl
        def register_states(self, register: Any) -> None:
            register(vmlife.Axis("lock", "LockState", "Lock"))
            register(State("locked", "lock", "LockState/Locked", "Resource locked"))

    with vmlife.registered(Lock(), name="lock"):
        reading = vmlife.read_statuses(
            [{"code": "PowerState/running"}, {"code": "lockstate/locked"}]
        )
        assert reading.state == VMState(power="running", lock="locked")
        out = io.StringIO()
        main(["states", "--axis", "lock", "--json"], out=out)
        assert json.loads(out.getvalue())[0]["plugin"] == "lock"


def test_two_plugins_defining_the_same_state_raise_naming_both() -> None:
    class Again:
        @vmlife.hookimpl
        def register_states(self, register: Any) -> None:
            register(State("deallocated", "power", "PowerState/deallocated", "VM deallocated"))

    with vmlife.registered(Again(), name="again"):
        with pytest.raises(vmlife.ConflictError) as err:
            vmlife.lifecycle()
    assert err.value.plugins == ("vmlife.default_plugins.azure", "again")
    assert "'power.deallocated'" in str(err.value)
    assert isinstance(err.value, vmlife.DefinitionError)


def test_two_plugins_defining_the_same_operation_raise_naming_both() -> None:
    class One(Suspend):
        pass

    with vmlife.registered(Suspend(), name="first"), vmlife.registered(One(), name="second"):
        with pytest.raises(vmlife.ConflictError, match="'first' and plugin 'second'"):
            vmlife.lifecycle()


def test_state_on_unknown_axis_and_op_to_unknown_state_are_definition_errors() -> None:
    class BadAxis:
        @vmlife.hookimpl
        def register_states(self, register: Any) -> None:
            register(State("x", "nowhere", "Nowhere/x", "x"))

    class BadOp:
        @vmlife.hookimpl
        def register_operations(self, register: Any) -> None:
            register(Operation("fly", (Phase({"power": "flying"}),)))

    with vmlife.registered(BadAxis(), name="bad-axis"):
        with pytest.raises(vmlife.DefinitionError, match="axis 'nowhere'"):
            vmlife.lifecycle()
    with vmlife.registered(BadOp(), name="bad-op"):
        with pytest.raises(vmlife.DefinitionError, match="'flying', which is not a registered"):
            vmlife.lifecycle()


def test_hook_guard_operation_vetoes_with_a_reason() -> None:
    class Lock:
        @vmlife.hookimpl
        def guard_operation(self, vm: VM, operation: Operation) -> str | None:
            if vm.attributes.get("locked") and operation.id != "update":
                return "the VM has a CanNotDelete lock"
            return None

    with vmlife.registered(Lock(), name="lock"):
        vm = VM("a").create(locked=True)
        assert vm.allowed() == ["update"]
        assert vm.why_not("delete") == ["the VM has a CanNotDelete lock"]
        before = vm.timeline
        refused = r"CanNotDelete lock\. Allowed: update"
        with pytest.raises(vmlife.OperationNotAllowed, match=refused):
            vm.delete()
        assert vm.timeline == before
        vm.update(locked=False).delete()
        assert not vm.state.exists


def test_hook_step_recorded_sees_every_step() -> None:
    seen: list[tuple[str | None, str | None]] = []

    class Watch:
        @vmlife.hookimpl
        def step_recorded(self, vm: VM, step: vmlife.Step) -> None:
            seen.append((step.operation, step.state.power))

    with vmlife.registered(Watch()):
        vm = VM("a").create().deallocate(at="2024-01-01T01:00:00Z")
    assert seen == [
        ("create", "creating"),
        ("create", "starting"),
        (None, "running"),
        ("deallocate", "deallocating"),
        (None, "deallocated"),
    ]
    assert [(s.operation, s.state.power) for s in vm.timeline] == seen


def test_hook_adjust_operation_changes_an_operation_for_one_vm() -> None:
    class Careful:
        """Deallocates instead of stopping a VM tagged ``careful``; notes the stops it changed."""

        @vmlife.hookimpl
        def adjust_operation(self, vm: VM, operation: Operation) -> Operation | None:
            if operation.id == "power_off" and vm.attributes.get("careful"):
                return dataclasses.replace(
                    operation,
                    path=(Phase({"power": "deallocating"}),),
                    final={"provisioning": "succeeded", "power": "deallocated"},
                    attributes={"stops_changed": vm.attributes.get("stops_changed", 0) + 1},
                )
            return None

    class Counter:
        """A second adjuster sees the first one's result."""

        seen: list[str] = []

        @vmlife.hookimpl
        def adjust_operation(self, operation: Operation) -> None:
            self.seen.append(str(operation.final.get("power")))

    with vmlife.registered(Careful(), name="careful"), vmlife.registered(Counter(), name="count"):
        plain = VM("plain").create().power_off()
        careful = VM("careful", careful=True).create().power_off().start().power_off()
        assert vmlife.lifecycle().operation("power_off").final["power"] == "stopped"
    assert plain.state.power == "stopped"
    assert careful.state.power == "deallocated"
    assert careful.attributes["stops_changed"] == 2
    powers = [s.state.power for s in careful.timeline]
    assert powers.count("deallocating") == 2 and "stopping" not in powers
    assert Counter.seen.count("deallocated") == 2


def test_adjust_operation_must_return_an_operation_with_the_same_id() -> None:
    class Wrong:
        @vmlife.hookimpl
        def adjust_operation(self, operation: Operation) -> Operation:
            return dataclasses.replace(operation, id="other")

    class Unknown:
        @vmlife.hookimpl
        def adjust_operation(self, operation: Operation) -> Operation:
            return dataclasses.replace(operation, final={"power": "flying"})

    with vmlife.registered(Wrong(), name="wrong"):
        vm = VM("a")
        with pytest.raises(vmlife.DefinitionError, match="plugin 'wrong': adjust_operation"):
            vm.create()
        assert not vm.state.exists
    with vmlife.registered(Unknown(), name="unknown"):
        with pytest.raises(vmlife.DefinitionError, match="'flying', which is not a registered"):
            VM("b").create()


def test_operation_attributes_are_set_when_it_completes() -> None:
    class Tagging:
        @vmlife.hookimpl
        def register_operations(self, register: Any) -> None:
            register(
                Operation(
                    "tag_reviewed",
                    (Phase({}, key="updating"),),
                    sources=frozenset({"running"}),
                    attributes={"reviewed": True},
                )
            )

    with vmlife.registered(Tagging()):
        vm = VM("a").create()
        vm.tag_reviewed(fail="Conflict")
        assert "reviewed" not in vm.attributes  # a failed operation sets nothing
        vm.tag_reviewed()
        assert vm.attributes["reviewed"] is True


def test_a_plugin_raising_inside_a_hook_is_named_with_the_hook() -> None:
    class Broken:
        @vmlife.hookimpl
        def register_operations(self, register: Any) -> None:
            raise ZeroDivisionError("oops")

    with vmlife.registered(Broken(), name="broken"):
        with pytest.raises(vmlife.PluginError) as err:
            vmlife.lifecycle()
    assert (err.value.plugin, err.value.hook) == ("broken", "register_operations")
    assert "ZeroDivisionError: oops" in str(err.value)


def test_a_misspelled_hook_is_caught_when_registered() -> None:
    class Typo:
        @vmlife.hookimpl
        def register_state(self, register: Any) -> None:  # missing "s"
            pass

    with pytest.raises(vmlife.PluginError, match="register_state"):
        with vmlife.registered(Typo(), name="typo"):
            pass
    assert vmlife.plugins.get_plugin_manager().get_plugin("typo") is None


# --------------------------------------------------------------- loading from entry points
class FakeDist:
    version = "9.9"
    metadata = {"Name": "vmlife-fake"}


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch, eps: list[metadata.EntryPoint]) -> None:
    monkeypatch.setattr(
        metadata, "entry_points", lambda group: [e for e in eps if e.group == group]
    )


def _ep(name: str, value: str) -> metadata.EntryPoint:
    ep = metadata.EntryPoint(name, value, "vmlife")
    ep._for(FakeDist())  # type: ignore[attr-defined]
    return ep


def test_load_plugins_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [_ep("alpha", "tests.fake_plugins:alpha"), _ep("beta", "tests.fake_plugins:beta")]
    _fake_entry_points(monkeypatch, eps)

    def loaded() -> list[str]:
        vmlife.plugins.reset()
        return [p.name for p in vmlife.list_plugins() if not p.default]

    monkeypatch.delenv("VMLIFE_LOAD_PLUGINS")
    assert loaded() == ["alpha", "beta"]
    monkeypatch.setenv("VMLIFE_LOAD_PLUGINS", "")
    assert loaded() == []
    monkeypatch.setenv("VMLIFE_LOAD_PLUGINS", "beta")
    assert loaded() == ["beta"]
    info = next(p for p in vmlife.list_plugins() if p.name == "beta")
    assert (info.distribution, info.version, info.hooks) == (
        "vmlife-fake",
        "9.9",
        ("register_states",),
    )
    monkeypatch.setenv("VMLIFE_LOAD_PLUGINS", "gamma")
    vmlife.plugins.reset()
    with pytest.raises(vmlife.PluginError, match=r"gamma.*installed vmlife plugins: alpha, beta"):
        vmlife.lifecycle()


def test_a_plugin_that_fails_to_import_is_reported_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch, [_ep("shaky", "tests.no_such_module:plugin")])
    monkeypatch.delenv("VMLIFE_LOAD_PLUGINS")
    vmlife.plugins.reset()
    with pytest.raises(vmlife.PluginError) as err:
        vmlife.lifecycle()
    assert err.value.plugin == "shaky" and err.value.distribution == "vmlife-fake"
    assert "plugin 'shaky' (distribution vmlife-fake 9.9) failed to import" in str(err.value)


def test_cli_reports_a_broken_plugin_with_exit_code_3(tmp_path: Any) -> None:
    code = (
        "import sys, vmlife, vmlife.plugins\n"
        "from importlib import metadata\n"
        "ep = metadata.EntryPoint('shaky', 'no_such_module:plugin', 'vmlife')\n"
        "metadata.entry_points = lambda group: [ep]\n"
        "from vmlife.cli import main\n"
        "sys.exit(main(['states']))\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "VMLIFE_LOAD_PLUGINS"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 3
    assert "plugin 'shaky'" in proc.stderr and "Traceback" not in proc.stderr


def test_trace_switch_writes_hook_calls(tmp_path: Any) -> None:
    env = dict(__import__("os").environ, VMLIFE_TRACE="1", VMLIFE_LOAD_PLUGINS="")
    proc = subprocess.run(
        [sys.executable, "-c", "import vmlife; vmlife.lifecycle()"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0
    assert "register_states" in proc.stderr
