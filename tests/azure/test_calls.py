"""The three calls against the replay: what the SDK sends, and what vmlife makes of the answers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from vmlife.azure import Connection, activity_log, inventory, retail_prices
from vmlife.errors import InputError
from vmlife.io.activity_log import read_activity_log
from vmlife.io.inventory import read_inventory
from vmlife.timeutil import to_epoch

from .replay import (
    ACTIVITY_API,
    FLEET,
    GRAPH_API,
    PAGE,
    SUBSCRIPTION,
    TOKEN,
    Replay,
    StaticCredential,
    activity_events,
)

pytestmark = pytest.mark.azure

DAY = 86400.0


def _week(replay: Replay) -> tuple[float, float]:
    return replay.now - 7 * DAY, replay.now


# ---------------------------------------------------------------------- Activity Log
def test_activity_log_sends_the_documented_filter_and_follows_every_next_link(
        replay: Replay, conn: Connection, cred: StaticCredential) -> None:
    start, end = _week(replay)
    events = activity_log(SUBSCRIPTION, start, end, credential=cred, connection=conn,
                          progress=False)
    seen = replay.routes("activity")
    # every request carried the token, the api-version, the filter and the select
    assert {s.headers["authorization"] for s in seen} == {f"Bearer {TOKEN}"}
    assert {s.query["api-version"] for s in seen} == {ACTIVITY_API}
    flt = seen[0].query["$filter"]
    assert flt.startswith("eventTimestamp ge '")
    assert flt.endswith(" and resourceProvider eq 'Microsoft.Compute'")
    assert to_epoch(flt.split("'")[1]) == pytest.approx(start, abs=1e-3)
    assert to_epoch(flt.split("'")[3]) == pytest.approx(end, abs=1e-3)
    assert "eventTimestamp" in seen[0].query["$select"].split(",")
    # paging: the server's pages of 10, all read, the later ones through nextLink
    in_week = [e for e in activity_events(SUBSCRIPTION, replay.now)
               if start <= to_epoch(e["eventTimestamp"]) <= end]
    assert len(seen) == -(-len(in_week) // PAGE["activity"])
    assert [s.query.get("$skipToken") for s in seen[1:]] == [
        str(PAGE["activity"] * i) for i in range(1, len(seen))]
    # only the VMs' own events are kept (no disk, no extension), none from outside the week
    vm_ids = {vm.id(SUBSCRIPTION).lower() for vm in FLEET}
    assert events and {e["resourceId"].lower() for e in events} == vm_ids
    assert len(events) == len(in_week) - 6  # a disk write and an extension write, 3 events each
    assert events.requests == len(seen)
    assert events.meta["filter"] == flt


def test_pulled_events_are_read_by_the_activity_log_reader(
        replay: Replay, conn: Connection, cred: StaticCredential) -> None:
    start, end = _week(replay)
    events = activity_log(SUBSCRIPTION, start, end, credential=cred, connection=conn,
                          progress=False)
    history = read_activity_log({"value": list(events)})
    assert history.anomalies == []
    assert sorted(t.vm for t in history.timelines) == ["spot-3", "web-1", "win-2"]
    final = {t.vm: t[-1].state.power for t in history.timelines}
    assert final == {vm.name: vm.power for vm in FLEET}


@pytest.mark.parametrize(("group", "vm", "tail"), [
    ("rg-web", None, " and resourceGroupName eq 'rg-web'"),
    ("rg-web", "win-2", f" and resourceUri eq '{FLEET[1].id(SUBSCRIPTION)}'"),
    (None, FLEET[0].id(SUBSCRIPTION), f" and resourceUri eq '{FLEET[0].id(SUBSCRIPTION)}'"),
])
def test_activity_log_scopes_to_a_group_or_a_vm(
        replay: Replay, conn: Connection, cred: StaticCredential, group: str | None,
        vm: str | None, tail: str) -> None:
    start, end = _week(replay)
    events = activity_log(SUBSCRIPTION, start, end, group, vm, credential=cred,
                          connection=conn, progress=False)
    assert replay.routes("activity")[0].query["$filter"].endswith(tail)
    names = {e["resourceId"].rsplit("/", 1)[1] for e in events}
    want = {"win-2"} if vm == "win-2" else {"web-1"} if vm else {"web-1", "win-2"}
    assert names == want


def test_a_vm_by_name_needs_its_group(conn: Connection, cred: StaticCredential) -> None:
    with pytest.raises(InputError, match="resource group"):
        activity_log(SUBSCRIPTION, time.time() - DAY, vm="web-1", credential=cred,
                     connection=conn, progress=False)


def test_older_than_90_days_is_pulled_from_the_retention_limit_with_a_note(
        replay: Replay, conn: Connection, cred: StaticCredential) -> None:
    events = activity_log(SUBSCRIPTION, replay.now - 120 * DAY, replay.now, credential=cred,
                          connection=conn, progress=False, now=replay.now)
    sent = replay.routes("activity")[0].query["$filter"].split("'")[1]
    assert to_epoch(sent) == pytest.approx(replay.now - 90 * DAY, abs=1e-3)
    assert any("keeps 90 days" in n for n in events.notes)
    assert len(events) > 0


def test_a_period_wholly_before_the_retention_limit_is_refused_without_asking(
        replay: Replay, conn: Connection, cred: StaticCredential) -> None:
    with pytest.raises(InputError, match=r"keeps 90 days.*diagnostic setting") as info:
        activity_log(SUBSCRIPTION, replay.now - 200 * DAY, replay.now - 100 * DAY,
                     credential=cred, connection=conn, progress=False, now=replay.now)
    assert info.value.field == "end"
    assert replay.seen == []


def test_start_after_end_is_refused(conn: Connection, cred: StaticCredential) -> None:
    with pytest.raises(InputError, match="after end"):
        activity_log(SUBSCRIPTION, time.time(), time.time() - DAY, credential=cred,
                     connection=conn, progress=False)


# ---------------------------------------------------------------------- inventory
def test_inventory_asks_resource_graph_page_by_page(
        replay: Replay, conn: Connection, cred: StaticCredential) -> None:
    vms = inventory(SUBSCRIPTION, credential=cred, connection=conn, progress=False)
    seen = replay.routes("graph")
    assert [s.method for s in seen] == ["POST", "POST"]
    assert {s.query["api-version"] for s in seen} == {GRAPH_API}
    first, second = (s.body for s in seen)
    assert first["subscriptions"] == [SUBSCRIPTION]
    assert "microsoft.compute/virtualmachines" in first["query"]
    assert first["options"]["$top"] == 1000
    assert first["options"]["resultFormat"] == "objectArray"
    assert "$skipToken" not in first["options"]
    assert second["options"]["$skipToken"] == str(PAGE["graph"])
    assert vms.meta["method"] == "resource-graph"
    assert replay.routes("compute") == []
    assert [vm["name"] for vm in vms] == [vm.name for vm in FLEET]
    assert {vm["type"] for vm in vms} == {"Microsoft.Compute/virtualMachines"}
    powers = [vm["properties"]["instanceView"]["statuses"][0]["code"] for vm in vms]
    assert powers == [f"PowerState/{vm.power}" for vm in FLEET]


def _check_inventory(vms: list[dict[str, object]]) -> None:
    inv = read_inventory({"value": vms})
    assert inv.problems == []
    for spec in FLEET:
        info = inv.get(spec.id(SUBSCRIPTION).upper())
        assert info is not None
        assert (info.size, info.os, info.region, info.priority) == (
            spec.size, spec.os, spec.location, spec.priority)


def test_inventory_from_resource_graph_reads_as_an_inventory(
        replay: Replay, conn: Connection, cred: StaticCredential) -> None:
    _check_inventory(inventory(SUBSCRIPTION, credential=cred, connection=conn, progress=False))


def test_inventory_falls_back_to_compute_list_all_with_status_only(
        replay: Replay, conn: Connection, cred: StaticCredential) -> None:
    replay.graph_enabled = False
    vms = inventory([SUBSCRIPTION], credential=cred, connection=conn, progress=False)
    assert vms.meta["method"] == "compute"
    assert any("Resource Graph failed (400 BadRequest)" in n for n in vms.notes)
    seen = replay.routes("compute")
    # statusOnly=true first (two pages), then the full models (two pages) joined by id
    assert [s.query.get("statusOnly") for s in seen] == ["true", "true", None, None]
    assert seen[1].query["$skiptoken"] == str(PAGE["compute"])
    _check_inventory(vms)
    for vm, spec in zip(vms, FLEET, strict=True):
        assert vm["properties"]["instanceView"]["statuses"][1]["code"] == \
            f"PowerState/{spec.power}"


def test_inventory_method_compute_skips_resource_graph(
        replay: Replay, conn: Connection, cred: StaticCredential) -> None:
    vms = inventory(SUBSCRIPTION, credential=cred, connection=conn, method="compute",
                    progress=False)
    assert replay.routes("graph") == []
    assert len(vms) == len(FLEET)


# ---------------------------------------------------------------------- prices
def test_retail_prices_sends_no_credential_and_follows_next_page_link(
        replay: Replay, conn: Connection, tmp_path: Path) -> None:
    prices = retail_prices(["eastus"], currency="USD", cache_dir=tmp_path, connection=conn,
                           progress=False)
    seen = replay.routes("prices")
    assert all("authorization" not in s.headers for s in seen)
    first = seen[0].query
    assert first["currencyCode"] == "'USD'"
    assert first["api-version"] == "2023-01-01-preview"
    assert first["$filter"] == ("serviceName eq 'Virtual Machines' and priceType eq "
                                "'Consumption' and armRegionName eq 'eastus'")
    assert len(seen) == 2 and seen[1].query["$skip"] == str(PAGE["prices"])
    # the Reservation item was filtered out by the API, every Consumption item kept
    assert len(prices.items) == 4
    table = prices.table()
    assert table.lookup("Standard_D2s_v5", "windows").license == pytest.approx(0.188 - 0.096)
    assert table.lookup("Standard_D2s_v5", "linux", "spot").compute == pytest.approx(0.0192)
    assert table.date == prices.pages[0]["fetched"]


def test_retail_prices_by_size_and_the_disk_cache(
        replay: Replay, conn: Connection, tmp_path: Path) -> None:
    first = retail_prices(["westeurope"], ["Standard_D4s_v5"], cache_dir=tmp_path,
                          connection=conn, progress=False)
    assert replay.routes("prices")[0].query["$filter"].endswith(
        " and armRegionName eq 'westeurope' and armSkuName eq 'Standard_D4s_v5'")
    assert [i["retailPrice"] for i in first.items] == [0.214, 0.398]
    asked = len(replay.seen)
    again = retail_prices("westeurope", ["Standard_D4s_v5"], cache_dir=tmp_path,
                          connection=conn, progress=False)
    assert len(replay.seen) == asked and again.requests == 0
    assert again.items == first.items
    assert "from the cache, fetched" in again.notes[0]
    assert first.files == again.files and first.files[0].parent == tmp_path
    refreshed = retail_prices("westeurope", ["Standard_D4s_v5"], cache_dir=tmp_path,
                              connection=conn, progress=False, refresh=True)
    assert refreshed.requests == 1 and len(replay.seen) == asked + 1


def test_an_unreadable_or_stale_cache_file_is_fetched_again(
        replay: Replay, conn: Connection, tmp_path: Path) -> None:
    from datetime import timedelta

    first = retail_prices("eastus", ["Standard_D4s_v5"], cache_dir=tmp_path, connection=conn,
                          progress=False)
    first.files[0].write_text("{not json", encoding="utf-8")
    second = retail_prices("eastus", ["Standard_D4s_v5"], cache_dir=tmp_path,
                           connection=conn, progress=False)
    assert second.requests == 1 and second.items == first.items
    third = retail_prices("eastus", ["Standard_D4s_v5"], cache_dir=tmp_path, connection=conn,
                          progress=False, max_age=timedelta(0))
    assert third.requests == 1


def test_a_currency_is_asked_for(replay: Replay, conn: Connection, tmp_path: Path) -> None:
    prices = retail_prices("eastus", cache_dir=tmp_path, currency="EUR", connection=conn,
                           progress=False)
    assert replay.routes("prices")[0].query["currencyCode"] == "'EUR'"
    assert prices.pages[0]["BillingCurrency"] == "EUR"
    assert prices.files[0].name.startswith("EUR-eastus-all-")


def test_the_network_guard_refuses_anything_but_loopback() -> None:
    import socket

    with socket.socket() as s, pytest.raises(ConnectionRefusedError, match="test guard"):
        s.connect(("192.0.2.1", 443))  # TEST-NET-1: refused before any packet is sent
