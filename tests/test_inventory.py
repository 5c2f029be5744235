"""Inventories: az vm list [-d] / show, ARM List pages, az graph query; joined by resource id."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vmlife.errors import InputError
from vmlife.io.inventory import Inventory, read_inventory, resource_key

DATA = Path(__file__).parent / "data" / "inventory"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
WIN = f"{SUB}/resourceGroups/RG-APP/providers/Microsoft.Compute/virtualMachines/win-payg"


def test_published_list_by_location_example() -> None:
    """The REST example VirtualMachine_ListBySubscription_ByLocation (two rows, one id)."""
    inv = read_inventory(DATA / "arm_list_by_location.json")
    assert len(inv) == 1
    vm = next(iter(inv.values()))
    assert (vm.size, vm.os, vm.region, vm.priority, vm.ahb) == (
        "Standard_A0", "Windows", "eastus", "Regular", False)
    assert vm.name == "{virtualMachineName}"
    assert dict(vm.tags) == {"RG": "rg", "testTag": "1"}
    (disk,) = vm.disks
    assert (disk.role, disk.type, disk.size_gb, disk.name) == ("os", None, 127.0, "test")
    (dup,) = inv.problems
    assert dup.field == "id" and dup.record == "value item 2" and "twice" in dup.reason


def test_az_vm_list_d() -> None:
    inv = read_inventory(str(DATA / "az_vm_list_d.json"))
    assert [v.name for v in inv.vms] == ["win-payg", "win-ahb", "spot-1"]
    payg, ahb, spot = inv.vms
    assert (payg.os, payg.license_type, payg.ahb, payg.region) == (
        "Windows", None, False, "westeurope")
    assert (ahb.license_type, ahb.ahb) == ("Windows_Server", True)
    assert [(d.role, d.type, d.size_gb) for d in ahb.disks] == [
        ("os", "Premium_LRS", 128.0), ("data", "StandardSSD_LRS", 64.0)]
    assert (spot.priority, spot.eviction_policy, spot.os, spot.size) == (
        "Spot", "Deallocate", "Linux", "Standard_D2s_v5")
    assert dict(spot.tags) == {} and dict(payg.tags) == {"team": "finance"}
    assert inv.problems == [] and inv.ignored == 0


def test_join_is_case_insensitive() -> None:
    """Cost exports and the Activity Log export upper-case the id; trailing slashes too."""
    inv = read_inventory(DATA / "az_vm_list_d.json")
    for rid in (WIN, WIN.upper(), WIN.lower() + "/", WIN.lstrip("/")):
        assert rid in inv
        assert inv.get(rid) is inv[rid]
        assert inv[rid].name == "win-payg"
    assert inv.get(WIN + "x") is None and (WIN + "x") not in inv
    assert list(inv) == [v.resource_id for v in inv.vms]  # iteration: ids as written


@given(st.lists(st.booleans(), min_size=len(WIN), max_size=len(WIN)))
def test_any_casing_of_the_id_finds_the_vm(upper: list[bool]) -> None:
    inv = Inventory(read_inventory(DATA / "az_vm_list_d.json").vms)
    rid = "".join(c.upper() if u else c.lower() for c, u in zip(WIN, upper, strict=True))
    assert inv[rid].resource_id == WIN
    assert resource_key(rid) == resource_key(WIN)


def test_find_by_name_or_group_and_name() -> None:
    inv = read_inventory(DATA / "az_vm_list_d.json")
    assert inv.find("WIN-AHB").name == "win-ahb"  # type: ignore[union-attr]
    assert inv.find("rg-app/win-ahb").name == "win-ahb"  # type: ignore[union-attr]
    assert inv.find("spot-1", WIN).name == "win-payg"  # type: ignore[union-attr]
    assert inv.find("nope") is None
    # known by an id the inventory lacks: not matched by name (another group's win-ahb)
    assert inv.find("win-ahb", WIN.replace("RG-APP", "rg-other")) is None
    assert inv.find(WIN.upper()).name == "win-payg"  # type: ignore[union-attr]


def test_attributes_reach_the_engine_as_plain_data() -> None:
    inv = read_inventory(DATA / "az_vm_list_d.json")
    payg, ahb, spot = (v.attributes() for v in inv.vms)
    json.dumps([payg, ahb, spot])  # a timeline file can hold them
    assert (payg["os"], payg["size"], payg["region"], payg["priority"]) == (
        "windows", "Standard_D4s_v5", "westeurope", "regular")
    # Azure Hybrid Benefit: priced at the Linux meter, the OS type is still Windows
    assert (ahb["os"], ahb["os_type"], ahb["ahb"], ahb["license_type"]) == (
        "linux", "Windows", True, "Windows_Server")
    assert (spot["priority"], spot["eviction_policy"]) == ("spot", "Deallocate")
    assert spot["disks"] == [{"name": "spot-1_OsDisk_1", "role": "os", "type": "Standard_LRS",
                              "size_gb": 30.0}]


def _arm(rows: list[dict], next_link: str | None) -> dict:
    page: dict = {"value": rows}
    if next_link:
        page["nextLink"] = next_link
    return page


def _arm_rows() -> list[dict]:
    """ARM List rows: the az rows with their fields moved under properties, as REST has them."""
    rows = json.loads((DATA / "az_vm_list_d.json").read_text())
    out = []
    for r in rows:
        props = {k: r[k] for k in ("hardwareProfile", "storageProfile", "osProfile",
                                   "licenseType", "priority", "evictionPolicy",
                                   "billingProfile", "provisioningState", "vmId")
                 if r.get(k) is not None}
        out.append({"id": r["id"], "name": r["name"], "type": r["type"],
                    "location": r["location"], "tags": r["tags"] or {}, "properties": props})
    return out


def test_arm_pages_one_after_another_as_array_or_lines(tmp_path: Path) -> None:
    rows = _arm_rows()
    link = ("https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/"
            "providers/Microsoft.Compute/virtualMachines?api-version=2024-03-01&$skiptoken=x")
    pages = [_arm(rows[:2], link), _arm(rows[2:], None)]
    want = [(v.name, v.size, v.os, v.ahb, v.priority, v.disks)
            for v in read_inventory(DATA / "az_vm_list_d.json").vms]
    for text in (json.dumps(pages[0]) + json.dumps(pages[1]),
                 json.dumps(pages[0], indent=2) + "\n" + json.dumps(pages[1], indent=2),
                 "\n".join(json.dumps(p) for p in pages) + "\n",
                 json.dumps(pages)):
        path = tmp_path / "inv.json"
        path.write_text(text)
        inv = read_inventory(path)
        assert [(v.name, v.size, v.os, v.ahb, v.priority, v.disks) for v in inv.vms] == want
        assert not inv.problems


def test_graph_query_rows_and_other_types_ignored() -> None:
    rows = _arm_rows()
    for r in rows:
        r["type"] = r["type"].lower()  # Resource Graph lower-cases types
    rows.append({"id": f"{SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/disks/d1",
                 "type": "microsoft.compute/disks", "location": "westeurope",
                 "properties": {"diskSizeGB": 128}})
    doc = {"count": 4, "data": rows, "skip_token": None, "total_records": 4}
    inv = read_inventory(json.dumps(doc).encode())
    assert [v.name for v in inv.vms] == ["win-payg", "win-ahb", "spot-1"]
    assert inv.ignored == 1 and not inv.problems


def test_az_vm_show_one_object_with_hibernation() -> None:
    row = json.loads((DATA / "az_vm_list_d.json").read_text())[2]
    row["additionalCapabilities"] = {"hibernationEnabled": True, "ultraSsdEnabled": False}
    inv = read_inventory(json.dumps(row, indent=2).encode("utf-16"))  # PowerShell 5.1 '>'
    (vm,) = inv.vms
    assert vm.hibernation_enabled and vm.attributes()["hibernation_enabled"] is True


def test_bad_records_are_problems_naming_record_and_field() -> None:
    rows = json.loads((DATA / "az_vm_list_d.json").read_text())
    original = copy.deepcopy(rows)
    broken = copy.deepcopy(rows)
    del broken[0]["hardwareProfile"]["vmSize"]
    broken[1]["storageProfile"]["osDisk"]["osType"] = "Plan9"
    broken[2]["priority"] = 7
    inv = read_inventory(broken, name="fleet.json")
    assert len(inv) == 0
    assert [(p.source, p.record, p.field) for p in inv.problems] == [
        ("fleet.json", "item 1", "hardwareProfile.vmSize"),
        ("fleet.json", "item 2", "storageProfile.osDisk.osType"),
        ("fleet.json", "item 3", "priority"),
    ]
    assert "Plan9" in str(inv.problems[1])
    with pytest.raises(InputError, match=r"fleet.json, record item 1, field 'hardwareProfile"):
        read_inventory(broken, strict=True, name="fleet.json")
    inv = read_inventory(rows)
    assert rows == original  # never modified


def test_os_from_os_profile_when_os_type_missing() -> None:
    rows = json.loads((DATA / "az_vm_list_d.json").read_text())
    for r in rows:
        del r["storageProfile"]["osDisk"]["osType"]
    assert [v.os for v in read_inventory(rows).vms] == ["Windows", "Windows", "Linux"]


@pytest.mark.parametrize("text", [b'{"foo": 1}', b"42", b'"x"', b"", b"  \n"])
def test_not_an_inventory(text: bytes) -> None:
    with pytest.raises(InputError, match=r"inventory|az vm list|empty"):
        read_inventory(text, name="x.json")


def test_unreadable_path() -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_inventory("/nonexistent/inventory.json")
