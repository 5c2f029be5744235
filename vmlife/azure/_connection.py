"""Where and how vmlife talks to Azure, and what each call cost. Imports no Azure SDK module."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PUBLIC_CLOUD", "Connection", "Pulled", "Retry", "sdk"]

INSTALL = 'pip install "vmlife[azure]"'


def sdk(module: str) -> Any:
    """Import an Azure SDK module, or say which extra to install.

    Raises:
        ImportError: the module is missing (the message says ``pip install "vmlife[azure]"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{module} is not installed; vmlife.azure needs the 'azure' extra: "
                          f"{INSTALL}") from exc


@dataclass(frozen=True)
class Connection:
    """Where vmlife connects and how hard it tries.

    The defaults are Azure's public cloud. A sovereign cloud, a proxy that re-signs TLS or a
    local test server changes the endpoints and ``verify``.

    Attributes:
        resource_manager: the Azure Resource Manager endpoint; Activity Log, Compute and
            Resource Graph requests go there (``https://management.azure.com`` in the public
            cloud, ``https://management.chinacloudapi.cn`` in Azure China).
        prices: the Retail Prices API host (``https://prices.azure.com``), asked without a
            credential.
        verify: TLS verification: True for the system's certificate authorities, or the path
            of a CA bundle (PEM) to trust instead.
        retry_total: at most this many retries of one request. Retried are HTTP 408, 429, 500,
            502, 503 and 504 answers and network errors (the Azure SDK's ``RetryPolicy``; an
            answer with a ``Retry-After`` header is retried after that many seconds).
        retry_backoff: the exponential backoff factor in seconds when no ``Retry-After`` is
            given: the n-th consecutive retry waits ``retry_backoff * 2**(n-1)`` (the first is
            immediate).
        retry_backoff_max: the longest wait between two tries, in seconds.
        timeout: seconds to wait for a connection, and for each answer.
    """

    resource_manager: str = "https://management.azure.com"
    prices: str = "https://prices.azure.com"
    verify: bool | str = True
    retry_total: int = 6
    retry_backoff: float = 0.8
    retry_backoff_max: float = 60.0
    timeout: float = 120.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``pull.json``)."""
        return {
            "resource_manager": self.resource_manager,
            "prices": self.prices,
            "verify": self.verify,
        }


#: Azure's public cloud with vmlife's retry settings.
PUBLIC_CLOUD = Connection()


@dataclass(frozen=True)
class Retry:
    """One retried request.

    Attributes:
        call: the call it belonged to (``"Activity Log"``, ``"Resource Graph"`` ...).
        reason: what failed: ``"429 Too Many Requests"``, ``"500 Internal Server Error"``,
            ``"network error: ..."``, ``"401 ExpiredAuthenticationToken"``.
        wait: seconds waited before trying again.
        why_wait: ``"Retry-After"`` when Azure said how long to wait, else ``"backoff"``.
    """

    call: str
    reason: str
    wait: float
    why_wait: str = "backoff"

    def __str__(self) -> str:
        told = " as Retry-After asked" if self.why_wait == "Retry-After" else ""
        return f"{self.call}: {self.reason}; tried again after {self.wait:g} s{told}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"call": self.call, "reason": self.reason, "wait": self.wait,
                "why_wait": self.why_wait}


class Pulled(list[dict[str, Any]]):
    """What one call brought back from Azure: a list of items in Azure's REST shape (dicts with
    Azure's own keys, as the REST API returns them), plus what getting them cost.

    Attributes:
        call: the call's name.
        requests: HTTP requests sent (every page and every retry counts).
        retries: the retried requests, in order.
        notes: what a person should know about the answer (retention, fallbacks, cache use).
        meta: call-specific facts (the ``$filter`` sent, the period, the method used).
    """

    def __init__(
        self,
        items: Iterable[dict[str, Any]] = (),
        *,
        call: str,
        requests: int = 0,
        retries: Iterable[Retry] = (),
        notes: Iterable[str] = (),
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(items)
        self.call = call
        self.requests = requests
        self.retries = list(retries)
        self.notes = list(notes)
        self.meta: dict[str, Any] = dict(meta or {})

    def __repr__(self) -> str:
        return (f"<Pulled {self.call}: {len(self)} items in {self.requests} requests, "
                f"{len(self.retries)} retries>")


@dataclass
class Ledger:
    """Counts requests and retries for one call while it runs (internal)."""

    call: str
    report: Callable[[str], None] | None = None
    requests: int = 0
    retries: list[Retry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def retried(self, retry: Retry) -> None:
        self.retries.append(retry)
        if self.report is not None:
            self.report(str(retry))

    def note(self, text: str) -> None:
        self.notes.append(text)
        if self.report is not None:
            self.report(f"{self.call}: {text}")

    def pulled(self, items: Iterable[dict[str, Any]], **meta: Any) -> Pulled:
        return Pulled(items, call=self.call, requests=self.requests, retries=self.retries,
                      notes=self.notes, meta=meta)
