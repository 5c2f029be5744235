"""Fixtures for the tests that drive the real Azure SDK clients against the local replay.

Every test module here is marked ``azure`` (``pytest -m azure`` runs them alone). No request
leaves the machine: the SDK clients are pointed at the replay (``Connection``), trust only the
replay's test CA and get their token from a static credential (or, for the command line, from
a fake ``az`` through DefaultAzureCredential), and a guard refuses any socket connection to an
address that is not loopback, so a request that escaped would fail the test.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("azure.mgmt.monitor")
pytest.importorskip("trustme")

from vmlife.azure import Connection

from .replay import Replay, StaticCredential


def _loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if not isinstance(host, str):
        return True  # AF_UNIX and friends
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every connection that is not to loopback."""
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address):
            raise ConnectionRefusedError(f"test guard: no connection to {address!r}")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def replay(tmp_path: Path) -> Iterator[Replay]:
    server = Replay.make(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def conn(replay: Replay) -> Connection:
    """The replay's endpoints, its CA, and quick backoff (Retry-After is still obeyed)."""
    return Connection(resource_manager=replay.url, prices=replay.url, verify=replay.ca_file,
                      retry_total=3, retry_backoff=0.01, retry_backoff_max=0.05, timeout=10)


@pytest.fixture
def cred() -> StaticCredential:
    return StaticCredential()
