"""The command line: states, ops, plugins, demo, help."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from vmlife.cli import main


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def test_states_table_and_json() -> None:
    code, text = run("states", "--axis", "power")
    assert code == 0
    assert "PowerState/deallocated" in text and "VM deallocated" in text
    code, text = run("states", "--json")
    rows = json.loads(text)
    ids = {(r["axis"], r["id"]) for r in rows}
    assert {
        ("provisioning", "succeeded"),
        ("power", "deallocated"),
        ("os_provisioning", "in_progress"),
    } <= ids
    creating = next(r for r in rows if (r["axis"], r["id"]) == ("power", "creating"))
    assert creating["revisions"] == ["003"] and creating["transitional"] is True


def test_states_unknown_axis_lists_choices(capsys: object) -> None:
    code, _ = run("states", "--axis", "nope")
    assert code == 2


def test_ops_from_a_state() -> None:
    code, text = run("ops", "--from", "stopped", "--json")
    assert code == 0
    data = json.loads(text)
    assert data["allowed"] == ["start", "deallocate", "redeploy", "update", "reapply", "delete"]
    assert data["refused"]["restart"] == ["restart is allowed only from power state running"]
    code, text = run("ops", "--from", "none", "--json")
    assert json.loads(text)["allowed"] == ["create"]
    code, text = run("ops")
    assert "guest_shutdown" in text and "(no VM)" in text


def test_plugins_json_lists_the_default_plugin() -> None:
    _code, text = run("plugins", "--json")
    azure, editions = json.loads(text)
    assert azure["name"] == "vmlife.default_plugins.azure"
    assert azure["hooks"] == ["register_operations", "register_states"]
    assert (azure["distribution"], azure["default"]) == ("vmlife", True)
    assert editions["name"] == "vmlife.default_plugins.editions"
    assert editions["hooks"] == ["register_editions"]


def test_demo_prints_a_readable_history() -> None:
    code, text = run("demo")
    assert code == 0
    assert "ProvisioningState/creating/OSProvisioningInProgress" in text
    assert "InternalOperationError" in text


def test_help_and_module_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "vmlife", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    for cmd in ("states", "ops", "plugins", "status", "demo"):
        assert cmd in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "vmlife"], capture_output=True, text=True)
    assert proc.returncode == 2 and "usage" in proc.stdout
