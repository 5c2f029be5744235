"""Every failure mode: retried and reported, or a clear message naming the call and the fix."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from vmlife.azure import Connection, activity_log, inventory, retail_prices
from vmlife.errors import AzureAccessError, AzureError

from .replay import (
    EXPIRED,
    SUBSCRIPTION,
    TOKEN,
    FailingCredential,
    Replay,
    StaticCredential,
)

pytestmark = pytest.mark.azure

DAY = 86400.0


def _log(replay: Replay, conn: Connection, cred: object) -> list[dict[str, object]]:
    return activity_log(SUBSCRIPTION, replay.now - 7 * DAY, replay.now, credential=cred,
                        connection=conn, progress=False)


def _complete(replay: Replay, conn: Connection) -> int:
    """How many events the week holds when nothing fails (asked on a fresh credential)."""
    return len(_log(replay, conn, StaticCredential()))


# ---------------------------------------------------------------------- retried
def test_429_is_retried_after_the_retry_after_seconds_and_reported(
        replay: Replay, conn: Connection, cred: StaticCredential) -> None:
    replay.fail("activity", 429, retry_after="1", after=1)  # the second page is throttled
    lines: list[str] = []
    began = time.monotonic()
    events = activity_log(SUBSCRIPTION, replay.now - 7 * DAY, replay.now, credential=cred,
                          connection=conn, progress=False, report=lines.append)
    assert time.monotonic() - began >= 1.0
    assert [(r.reason, r.wait, r.why_wait) for r in events.retries] == [
        ("429 Too Many Requests", 1.0, "Retry-After")]
    assert lines == ["Activity Log: 429 Too Many Requests; tried again after 1 s as "
                     "Retry-After asked"]
    statuses = [s.status for s in replay.routes("activity")]
    assert statuses[:3] == [200, 429, 200]
    assert events.requests == len(statuses)
    replay.faults.clear()
    assert len(events) == _complete(replay, conn)


def test_a_500_then_success_is_retried(replay: Replay, conn: Connection,
                                       cred: StaticCredential) -> None:
    replay.fail("activity", 500)
    events = _log(replay, conn, cred)
    assert [r.reason for r in events.retries] == ["500 Internal Server Error"]
    assert [s.status for s in replay.routes("activity")][:2] == [500, 200]
    assert len(events) == _complete(replay, conn)


def test_a_dropped_connection_is_retried(replay: Replay, conn: Connection,
                                         cred: StaticCredential) -> None:
    replay.drop("activity")
    events = _log(replay, conn, cred)
    assert len(events.retries) == 1
    assert events.retries[0].reason.startswith("network error")
    assert len(events) == _complete(replay, conn)


def test_resource_graph_throttling_is_retried_too(
        replay: Replay, conn: Connection, cred: StaticCredential) -> None:
    replay.fail("graph", 429, retry_after="1")
    vms = inventory(SUBSCRIPTION, credential=cred, connection=conn, progress=False)
    assert vms.meta["method"] == "resource-graph"
    assert [r.why_wait for r in vms.retries] == ["Retry-After"]
    assert len(vms) == 3


def test_retail_prices_retry_a_503(replay: Replay, conn: Connection, tmp_path: Path) -> None:
    replay.fail("prices", 503, after=1)
    prices = retail_prices("eastus", cache_dir=tmp_path, connection=conn, progress=False)
    assert [r.reason for r in prices.retries] == ["503 Service Unavailable"]
    assert len(prices.items) == 4
    assert prices.requests == 3


# ---------------------------------------------------------------------- given up
def test_a_500_that_persists_names_the_call_and_the_retries(
        replay: Replay, conn: Connection, cred: StaticCredential) -> None:
    replay.fail("activity", 500, times=10)
    with pytest.raises(AzureError) as info:
        _log(replay, conn, cred)
    err = info.value
    assert (err.status, err.code, err.call, err.retries) == (500, "InternalServerError",
                                                            "Activity Log", 3)
    assert "Activity Log (GET https://127.0.0.1" in str(err)
    assert "after 3 retries" in str(err) and "try again later" in str(err)


def test_throttling_that_persists_says_to_wait(
        replay: Replay, conn: Connection, cred: StaticCredential) -> None:
    replay.fail("compute", 429, times=10, retry_after="0")
    with pytest.raises(AzureError, match=r"still throttled by Azure \(429 "
                       r"SubscriptionRequestsThrottled\) after \d retries.*fewer days"):
        inventory(SUBSCRIPTION, credential=cred, connection=conn, method="compute",
                  progress=False)


def test_an_unreachable_endpoint_says_so(cred: StaticCredential, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conn = Connection(resource_manager=f"https://127.0.0.1:{port}", retry_total=1,
                      retry_backoff=0.01, timeout=5)
    with pytest.raises(AzureError, match=rf"could not reach 127\.0\.0\.1:{port} after 1 "
                       r"retry.*HTTPS_PROXY") as info:
        activity_log(SUBSCRIPTION, time.time() - DAY, credential=cred, connection=conn,
                     progress=False)
    assert info.value.status is None


# ---------------------------------------------------------------------- access
def test_403_on_the_activity_log_names_monitoring_reader_and_the_scope(
        replay: Replay, conn: Connection, cred: StaticCredential) -> None:
    replay.fail("activity", 403)
    with pytest.raises(AzureAccessError) as info:
        _log(replay, conn, cred)
    err = info.value
    assert (err.status, err.code, err.role, err.scope) == (
        403, "AuthorizationFailed", "Monitoring Reader", f"/subscriptions/{SUBSCRIPTION}")
    text = str(err)
    assert "'Microsoft.Insights/eventtypes/values/read'" in text
    assert (f'az role assignment create --assignee <user, group or app id> --role "Monitoring '
            f'Reader" --scope /subscriptions/{SUBSCRIPTION}') in text
    assert len(replay.routes("activity")) == 1  # a refusal is not retried


def test_403_on_list_all_names_reader(replay: Replay, conn: Connection,
                                      cred: StaticCredential) -> None:
    replay.fail("compute", 403, code="AuthorizationFailed", message="does not have "
                "authorization to perform action 'Microsoft.Compute/virtualMachines/read'")
    with pytest.raises(AzureAccessError) as info:
        inventory(SUBSCRIPTION, credential=cred, connection=conn, method="compute",
                  progress=False)
    assert info.value.role == "Reader"
    assert "'Microsoft.Compute/virtualMachines/read'" in str(info.value)


def test_403_from_resource_graph_falls_back_to_compute(
        replay: Replay, conn: Connection, cred: StaticCredential) -> None:
    replay.fail("graph", 403)
    vms = inventory(SUBSCRIPTION, credential=cred, connection=conn, progress=False)
    assert vms.meta["method"] == "compute"
    assert vms.notes == ["Resource Graph refused (403 AuthorizationFailed); listed VMs with "
                         "Compute instead"]
    assert len(vms) == 3


def test_an_expired_token_is_renewed_once_and_the_listing_goes_on(
        replay: Replay, conn: Connection) -> None:
    # the server expires the token on the third page; the credential's next token is good
    replay.fail("activity", 401, after=2, code="ExpiredAuthenticationToken",
                message="The access token expiry UTC time is earlier than current UTC time.")
    cred = StaticCredential((TOKEN,))
    events = _log(replay, conn, cred)
    assert len(cred.asked) == 2
    assert [r.reason for r in events.retries] == ["401 ExpiredAuthenticationToken"]
    skips = [s.query.get("$skipToken") for s in replay.routes("activity")]
    assert skips[2] == skips[3] == "20"  # the refused page is asked again, not the first
    assert len(events) == _complete(replay, conn)
    assert len({e["eventDataId"] for e in events}) == len(events)


def test_a_credential_whose_token_azure_calls_expired_gets_a_new_one(
        replay: Replay, conn: Connection) -> None:
    cred = StaticCredential((EXPIRED, TOKEN))
    vms = inventory(SUBSCRIPTION, credential=cred, connection=conn, progress=False)
    assert len(vms) == 3 and len(cred.asked) == 2
    assert any("asked the credential for a new token" in n for n in vms.notes)


def test_a_token_refused_again_says_to_sign_in(replay: Replay, conn: Connection) -> None:
    cred = StaticCredential((EXPIRED,))
    with pytest.raises(AzureAccessError, match=r"401 ExpiredAuthenticationToken.*'az login'.*"
                       r"clock") as info:
        _log(replay, conn, cred)
    assert info.value.status == 401 and info.value.code == "ExpiredAuthenticationToken"
    assert len(replay.routes("activity")) == 2


def test_no_credential_says_how_to_sign_in(replay: Replay, conn: Connection) -> None:
    with pytest.raises(AzureAccessError, match=r"no Azure credential gave a token: Please run "
                       r"'az login'.*AZURE_CLIENT_SECRET.*credential=") as info:
        _log(replay, conn, FailingCredential())
    assert info.value.status is None
    assert replay.seen == []
