"""The command line: states, ops, plugins, demo, help."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

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


SAMPLE = "vmlife/data/sample_activity_log.json"


@pytest.mark.parametrize("args", [
    ("bill", SAMPLE, "--start", "yesterday"),
    ("bill", SAMPLE, "--end", "2024-13-01"),
    ("timeline", SAMPLE, "--start", "nope"),
    ("whatif", "--start", "last monday"),
    ("report", SAMPLE, "--end", "9999-12-31T23:59:59.9999999Z"),
    ("reconcile", SAMPLE, "--costs", "x.csv", "--start", "2024-03"),
    ("pull", "--subscription", "s", "--end", "soon"),
])
def test_a_time_option_that_is_no_time_is_a_usage_error(
    args: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    """Every --start / --end is checked as it is parsed: exit 2 naming the option, with an
    example of a time, never a traceback from deep inside the command."""
    option = args[args.index("--start") if "--start" in args else args.index("--end")]
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: not a time vmlife can read: {args[-1]!r}" in err
    assert "2024-03-04T08:00:00Z" in err and "Traceback" not in err


def test_a_good_start_still_bills() -> None:
    code, text = run("bill", SAMPLE, "--start", "2024-03-01T00:00:00Z", "--json")
    assert code == 0 and json.loads(text)["vms"]
