"""The Azure SDK side of vmlife.azure: clients, a retry policy that reports, errors a person can
act on, and pages that survive an expired token.

This module imports the Azure SDK at module level; the public modules import it only inside
the functions that need it, so ``import vmlife.azure`` (and ``vmlife --help``) stay light.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.paging import ItemPaged
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import RetryPolicy

from .. import __version__
from ..errors import AzureAccessError, AzureError, VmlifeError
from ._connection import Connection, Ledger, Retry

__all__ = ["Call", "client_kwargs", "default_credential", "pages", "rest_dict", "translate"]

USER_AGENT = f"vmlife/{__version__}"
T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """What a call is, for messages: its name, the request it sends, and the access it needs.

    Attributes:
        name: e.g. ``"Activity Log"``.
        request: the REST operation, e.g. ``"GET .../providers/Microsoft.Insights/eventtypes/
            management/values"``.
        action: the Azure RBAC action the call needs, when it needs one.
        role: the narrowest built-in role granting it.
        scope: where the role must be assigned.
    """

    name: str
    request: str
    action: str | None = None
    role: str | None = None
    scope: str | None = None


class ReportingRetryPolicy(RetryPolicy):  # type: ignore[type-arg]
    """The SDK's retry policy (Retry-After, exponential backoff), telling a :class:`Ledger`
    about every retry it makes."""

    def __init__(self, ledger: Ledger, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ledger = ledger
        self._reason = "retry"

    def increment(
        self,
        settings: dict[str, Any],
        response: PipelineRequest[Any] | PipelineResponse[Any, Any] | None = None,
        error: Exception | None = None,
    ) -> bool:
        if error is not None:
            self._reason = f"network error: {_first_line(str(error))}"
        elif isinstance(response, PipelineResponse):
            http = response.http_response
            self._reason = f"{http.status_code} {http.reason or ''}".strip()
        return super().increment(settings, response=response, error=error)

    def sleep(self, settings: dict[str, Any], transport: Any,
              response: PipelineResponse[Any, Any] | None = None) -> None:
        after = self.get_retry_after(response) if response is not None else None
        wait = after if after is not None else self.get_backoff_time(settings)
        self._ledger.retried(Retry(self._ledger.call, self._reason, round(float(wait), 3),
                                   "Retry-After" if after is not None else "backoff"))
        super().sleep(settings, transport, response)


def retry_policy(conn: Connection, ledger: Ledger) -> ReportingRetryPolicy:
    return ReportingRetryPolicy(
        ledger,
        retry_total=conn.retry_total,
        retry_backoff_factor=conn.retry_backoff,
        retry_backoff_max=conn.retry_backoff_max,
    )


def client_kwargs(conn: Connection, ledger: Ledger) -> dict[str, Any]:
    """Keyword arguments for an Azure management client: endpoint, TLS, retries, a hook
    counting every HTTP answer (retries included), timeouts and vmlife's user agent."""

    def count(_response: PipelineResponse[Any, Any]) -> None:
        ledger.requests += 1

    return {
        "base_url": conn.resource_manager,
        "connection_verify": conn.verify,
        "retry_policy": retry_policy(conn, ledger),
        "raw_response_hook": count,
        "connection_timeout": conn.timeout,
        "read_timeout": conn.timeout,
        "user_agent": USER_AGENT,
    }


def default_credential(credential: Any) -> Any:
    """The credential given, or ``DefaultAzureCredential()`` (environment variables, workload
    identity, managed identity, Azure CLI, Azure PowerShell, Azure Developer CLI, in that
    order: azure-identity's own chain)."""
    if credential is not None:
        return credential
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def rest_dict(model: Any) -> dict[str, Any]:
    """A model from an Azure management SDK as Azure's REST JSON (Azure's own keys)."""
    if isinstance(model, dict):
        return model
    serialize = getattr(model, "serialize", None)
    if callable(serialize):  # msrest-style models (azure-mgmt-monitor, -resourcegraph)
        out = serialize(keep_readonly=True)
    else:  # TypeSpec models (azure-mgmt-compute >= 34) are mappings over the JSON
        out = model.as_dict()
    if not isinstance(out, dict):  # pragma: no cover - every SDK model serializes to a dict
        raise TypeError(f"cannot turn {type(model).__name__} into JSON")
    return out


# ---------------------------------------------------------------------- paging
def _renew(exc: ClientAuthenticationError, renewed: bool, call: Call, ledger: Ledger,
           then: str) -> None:
    """After a 401: note the retry (the SDK's authentication policy has dropped its cached
    token, so the credential is asked afresh), or raise the translated error when this is
    not a 401 or a token was already renewed."""
    if renewed or exc.status_code != 401:
        raise translate(exc, call, ledger) from None
    code, _ = error_code(exc)
    ledger.retried(Retry(call.name, f"401 {code or 'Unauthorized'}", 0.0))
    ledger.note(f"Azure refused the access token (401); asked the credential for a new token "
                f"and {then}")


_FAILED = (HttpResponseError, ServiceRequestError, ServiceResponseError)


def pages(make: Callable[[], ItemPaged[T]], call: Call, ledger: Ledger) -> Iterator[list[T]]:
    """Every page of an SDK pager, each as a list, following ``nextLink`` to the end.

    A 401 answer (an expired or revoked token) makes the SDK's authentication policy drop its
    cached token; the listing then goes on from the page it stopped at, once, with a token the
    credential is asked for afresh. Any other failure is translated by :func:`translate`.
    """
    token: str | None = None
    renewed = False
    while True:
        try:
            by_page: Any = make().by_page(continuation_token=token)
            for page in by_page:
                items = list(page)
                token = by_page.continuation_token
                yield items
            return
        except ClientAuthenticationError as exc:
            _renew(exc, renewed, call, ledger, "went on from the page it stopped at")
            renewed = True
        except _FAILED as exc:
            raise translate(exc, call, ledger) from None


def once(send: Callable[[], T], call: Call, ledger: Ledger) -> T:
    """Send one request (a Resource Graph page), renewing the token once on a 401."""
    renewed = False
    while True:
        try:
            return send()
        except ClientAuthenticationError as exc:
            _renew(exc, renewed, call, ledger, "sent the request again")
            renewed = True
        except _FAILED as exc:
            raise translate(exc, call, ledger) from None


# ---------------------------------------------------------------------- errors
def error_code(exc: Exception) -> tuple[str | None, str]:
    """Azure's error code and message from a failed answer (ARM's ``{"error": {"code",
    "message"}}`` body, or the exception's own text)."""
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None)
    message = getattr(err, "message", None)
    if code is None:
        response = getattr(exc, "response", None)
        try:
            body = json.loads(response.text()) if response is not None else None
        except (ValueError, AttributeError, TypeError):
            body = None
        if isinstance(body, dict):
            inner: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else body
            code = inner.get("code") if isinstance(inner.get("code"), str) else None
            text = inner.get("message")
            message = text if isinstance(text, str) else message
    return code, _first_line(message or getattr(exc, "message", None) or str(exc))


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:400]


def translate(exc: Exception, call: Call, ledger: Ledger) -> VmlifeError:
    """A failed Azure call as a vmlife error naming the call, the answer and the fix."""
    status = getattr(exc, "status_code", None)
    code, message = error_code(exc)
    tries = len(ledger.retries)
    after = f" after {tries} retr{'y' if tries == 1 else 'ies'}" if tries else ""
    what = f"{call.name} ({call.request})"
    if isinstance(exc, ClientAuthenticationError) and status is None:
        return AzureAccessError(
            f"{what}: no Azure credential gave a token: {message}. Sign in with 'az login', "
            "or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service "
            "principal, or pass credential= to vmlife.azure",
            call=call.name, code=code,
        )
    if status == 401:
        return AzureAccessError(
            f"{what}: Azure refused the access token (401 {code or 'Unauthorized'}: {message}), "
            "also after asking the credential for a new one. Sign in again ('az login'), check "
            "that this machine's clock is right, and that the token is for this cloud's "
            "Resource Manager",
            call=call.name, status=401, code=code,
        )
    if status == 403:
        role = call.role or "Reader"
        scope = call.scope or "the subscription"
        needs = f" ('{call.action}')" if call.action else ""
        return AzureAccessError(
            f"{what} was refused (403 {code or 'Forbidden'}): {message}. The signed-in "
            f"identity needs the '{role}' role{needs} on {scope}: az role assignment create "
            f"--assignee <user, group or app id> --role \"{role}\" --scope {scope} (a new "
            "role assignment can take a few minutes to apply)",
            call=call.name, status=403, code=code, role=role, scope=scope,
        )
    if status == 404:
        return AzureError(
            f"{what}: not found (404 {code or 'NotFound'}: {message}). Check the subscription "
            "id ('az account list') and the resource group or VM name",
            call=call.name, status=404, code=code, retries=tries,
        )
    if status == 429:
        return AzureError(
            f"{what}: still throttled by Azure (429 {code or 'TooManyRequests'}){after}: "
            f"{message}. Wait a few minutes and try again, or ask for fewer days",
            call=call.name, status=429, code=code, retries=tries,
        )
    if status is not None and status >= 500:
        return AzureError(
            f"{what}: Azure answered {status} {code or ''}{after}: {message}. This is on "
            "Azure's side; try again later".replace(" :", ":"),
            call=call.name, status=status, code=code, retries=tries,
        )
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        host = urlsplit(call.request.split(" ", 1)[-1]).netloc or "Azure"
        return AzureError(
            f"{what}: could not reach {host}{after}: {message}. Check the network, any proxy "
            "(HTTPS_PROXY) and TLS trust (Connection.verify)",
            call=call.name, retries=tries,
        )
    return AzureError(f"{what}: Azure answered {status} {code or ''}: {message}",
                      call=call.name, status=status, code=code, retries=tries)
