"""The three first-party plugins together: loaded from their entry points, listed, combined."""

from __future__ import annotations

import io
import json

import pytest

import vmlife
import vmlife.plugins
from vmlife import VM
from vmlife.cli import main

pytest.importorskip("vmlife_hibernation")
pytest.importorskip("vmlife_classic_migration")
pytest.importorskip("vmlife_spot")

FIRST_PARTY = {
    "hibernation": "vmlife-hibernation",
    "classic_migration": "vmlife-classic-migration",
    "spot": "vmlife-spot",
}


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every installed plugin, as a user gets them: VMLIFE_LOAD_PLUGINS unset."""
    monkeypatch.delenv("VMLIFE_LOAD_PLUGINS")
    vmlife.plugins.reset()


def test_the_three_load_together_from_their_entry_points(installed: None) -> None:
    names = {p.name for p in vmlife.list_plugins() if not p.default}
    assert set(FIRST_PARTY) <= names
    lc = vmlife.lifecycle()
    assert {"hibernate", "migrate_prepare", "migrate_commit", "evict"} <= set(lc.operations)
    assert ("hibernation", "hibernated") in lc.states
    assert ("provisioning", "migrating") in lc.states


def test_vmlife_plugins_json_lists_them_with_versions_and_hooks(installed: None) -> None:
    out = io.StringIO()
    assert main(["plugins", "--json"], out=out) == 0
    listed = {p["name"]: p for p in json.loads(out.getvalue())}
    for name, dist in FIRST_PARTY.items():
        info = listed[name]
        assert info["distribution"] == dist
        assert info["version"] == "0.1.0"
        assert info["default"] is False
        assert {"register_operations", "guard_operation"} <= set(info["hooks"])
    assert "register_editions" in listed["hibernation"]["hooks"]
    assert "adjust_operation" in listed["spot"]["hooks"]


def test_an_empty_switch_gives_the_bare_core() -> None:
    assert [p.name for p in vmlife.list_plugins() if not p.default] == []
    assert "hibernate" not in vmlife.lifecycle().operations


def test_the_switch_can_pick_one_of_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VMLIFE_LOAD_PLUGINS", "spot")
    vmlife.plugins.reset()
    assert [p.name for p in vmlife.list_plugins() if not p.default] == ["spot"]
    assert "evict" in vmlife.lifecycle().operations
    assert "hibernate" not in vmlife.lifecycle().operations


def test_hibernate_is_refused_on_a_spot_vm(installed: None) -> None:
    refusal = "OperationNotAllowed: Hibernation capability isn't supported for Spot VMs."
    vm = VM("s")
    with pytest.raises(vmlife.OperationNotAllowed, match="isn't supported for Spot VMs"):
        vm.create(priority="spot", hibernation_enabled=True)
    assert not vm.state.exists
    vm.create(priority="spot")
    assert vm.why_not("hibernate") == [
        "OperationNotAllowed: the Hibernate-Deallocate operation can only be triggered on a VM "
        "that is enabled for hibernation (set hibernation_enabled=True at create, or update it "
        "while the VM is deallocated)"
    ]
    assert vm.deallocate().why_not("update", hibernation_enabled=True) == [refusal]
    # a VM that already has both (built directly, say from an inventory) still can't hibernate
    both = VM("b", state="running", priority="spot", hibernation_enabled=True)
    assert both.why_not("hibernate") == [refusal]
    assert "evict" in both.allowed() and "hibernate" not in both.allowed()


def test_plugins_compose_on_one_vm(installed: None) -> None:
    vm = VM("c").create(deployment_model="classic", virtual_network=False, hibernation_enabled=True)
    vm.migrate_prepare()
    locked, not_succeeded = vm.why_not("hibernate")  # every guard is asked
    assert locked.startswith("the management plane is locked")
    assert "successfully provisioned and is running" in not_succeeded
    vm.migrate_commit().hibernate().start()
    assert vm.state.power == "running" and "hibernation" not in vm.state
