"""Reading VM states from the JSON shapes Azure gives, and ``vmlife status``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from vmlife.cli import main
from vmlife.errors import InputError
from vmlife.io import read_instance_views, read_instance_views_file

DATA = Path(__file__).parent / "data"


def status_json(path: Path | str) -> list[dict[str, object]]:
    out = io.StringIO()
    assert main(["status", str(path), "--json"], out=out) == 0
    return json.loads(out.getvalue())


def test_published_rest_instance_view_is_running() -> None:
    # The agent, disks and extensions all say ProvisioningState/succeeded and patchStatus
    # carries PatchModeConfigurationState/...: none of them may count.
    assert status_json(DATA / "rest_instance_view.json") == [
        {
            "vm": None,
            "provisioning": "succeeded",
            "power": "running",
            "os_provisioning": None,
            "error_code": None,
            "unknown_codes": [],
        }
    ]


def test_only_top_level_statuses_decide() -> None:
    data = json.loads((DATA / "rest_instance_view.json").read_text())
    data["statuses"] = [{"code": "PowerState/stopped"}]
    (reading,) = read_instance_views(data)
    assert reading.state.power == "stopped"
    assert reading.state.provisioning is None  # the disks' "succeeded" did not leak in


def test_hibernated_example_reports_hibernation_code_as_unknown_in_bare_core() -> None:
    (row,) = status_json(DATA / "hibernated.json")
    assert row["power"] == "deallocated"
    assert row["provisioning"] == "succeeded"
    assert row["unknown_codes"] == ["HibernationState/Hibernated"]


def test_os_provisioning_timed_out_while_running() -> None:
    (row,) = status_json(DATA / "os_provisioning_timed_out.json")
    assert row["vm"] == "myGeneralizedVM"
    assert (row["provisioning"], row["power"], row["error_code"]) == (
        "failed",
        "running",
        "OSProvisioningTimedOut",
    )
    (reading,) = read_instance_views_file(DATA / "os_provisioning_timed_out.json")
    assert reading.message and "allotted time" in reading.message


def test_vm_get_with_expand_instance_view() -> None:
    (row,) = status_json(DATA / "vm_get_expand.json")
    assert (row["vm"], row["provisioning"], row["power"]) == ("web-1", "updating", "deallocating")


def test_list_all_status_only_page_gives_one_row_per_vm() -> None:
    rows = status_json(DATA / "list_all_status_only.json")
    assert [(r["vm"], r["provisioning"], r["power"], r["os_provisioning"]) for r in rows] == [
        ("web-1", "succeeded", "running", None),
        ("batch-7", "succeeded", "deallocated", None),
        ("build-2", "creating", "running", "complete"),
        ("legacy-3", "succeeded", "unknown", None),
    ]


def test_az_vm_list_d_rows_use_display_text() -> None:
    rows = status_json(DATA / "az_vm_list_d.json")
    assert [(r["vm"], r["provisioning"], r["power"]) for r in rows] == [
        ("web-1", "succeeded", "running"),
        ("batch-7", "succeeded", "deallocated"),
        ("build-2", "failed", "stopped"),
    ]


def test_az_vm_show_d_single_object_and_unknown_power_text() -> None:
    (r,) = read_instance_views(
        {"name": "x", "powerState": "VM hibernated", "provisioningState": "Oops"}
    )
    assert r.state.power is None
    assert r.unknown_codes == ["VM hibernated", "provisioningState: Oops"]


def test_input_is_not_modified() -> None:
    data = json.loads((DATA / "list_all_status_only.json").read_text())
    before = json.dumps(data, sort_keys=True)
    read_instance_views(data)
    assert json.dumps(data, sort_keys=True) == before


@pytest.mark.parametrize(
    ("data", "record", "field"),
    [
        ({"foo": 1}, "$", None),
        ([{"statuses": []}, 3], "$[1]", None),
        ({"statuses": "PowerState/running"}, "$", "statuses"),
        ({"instanceView": []}, "$", "instanceView"),
        ({"name": "a", "powerState": 5}, "$", "powerState"),
        (
            {"value": [{"properties": {"instanceView": {"statuses": {}}}}]},
            "$.value[0]",
            "properties.instanceView.statuses",
        ),
    ],
)
def test_bad_shapes_name_the_record_and_field(data: object, record: str, field: str | None) -> None:
    with pytest.raises(InputError) as err:
        read_instance_views(data, source="x.json")
    assert err.value.source == "x.json"
    assert err.value.record == record
    assert err.value.field == field


def test_empty_list_is_an_error() -> None:
    with pytest.raises(InputError, match="no VM found"):
        read_instance_views([], source="e.json")


def test_malformed_json_gives_clear_error_and_nonzero_exit(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"statuses": [ {"code": "PowerState/running"} ')
    proc = subprocess.run(
        [sys.executable, "-m", "vmlife", "status", str(bad)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "bad.json" in proc.stderr and "not valid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "vmlife", "status", str(tmp_path / "nope.json")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "nope.json" in proc.stderr and "cannot read" in proc.stderr


def test_status_reads_stdin() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "vmlife", "status", "-", "--json"],
        input=(DATA / "hibernated.json").read_text(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["power"] == "deallocated"
