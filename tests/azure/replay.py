"""A local replay of the Azure APIs vmlife.azure calls, over HTTPS on 127.0.0.1.

It answers, in Azure's wire format, the routes the real SDK clients send:

* ``GET /subscriptions/{id}/providers/Microsoft.Insights/eventtypes/management/values``
  (Activity Log; azure-mgmt-monitor): checks ``api-version=2015-04-01`` and that ``$filter``
  has one of the shapes the operation allows, applies it (time range and scope) and
  ``$select``, newest first, in pages linked by ``nextLink``;
* ``GET /subscriptions/{id}/providers/Microsoft.Compute/virtualMachines`` (List All;
  azure-mgmt-compute), with ``statusOnly=true`` answering only the instance views, in pages;
* ``POST /providers/Microsoft.ResourceGraph/resources`` (azure-mgmt-resourcegraph): the VM
  rows in pages linked by ``$skipToken``;
* ``GET /api/retail/prices`` (Retail Prices API, no credential): applies ``$filter``'s ``eq``
  clauses, pages linked by ``NextPageLink``.

ARM routes want ``Authorization: Bearer <TOKEN>``; :data:`EXPIRED` gets the 401
``ExpiredAuthenticationToken`` Azure Resource Manager answers for an expired token. Faults
(:meth:`Replay.fail`, :meth:`Replay.drop`) make the next matching requests answer 429 with
Retry-After, 403 AuthorizationFailed, 500, or close the connection. Every request is kept in
:attr:`Replay.seen` so tests can assert what the SDK sent.

Shapes: the Activity Log event fields are those of the REST example
``GetActivityLogsFiltered.json`` (Azure REST API specs, ``specification/monitor/
resource-manager/Microsoft.Insights/stable/2015-04-01/examples``); Resource Graph pages those of
``ResourcesFirstPageQuery.json`` / ``ResourcesNextPageQuery.json`` (``.../Microsoft.ResourceGraph/
stable/2022-10-01/examples``); VMs those of ``VirtualMachine_ListBySubscription_ByLocation.json``
(``.../Microsoft.Compute/ComputeRP/stable/2024-07-01/examples/virtualMachineExamples``); price
items and pages those of the "Azure Retail Prices overview" documentation. Values are ours.

Run it alone (for the notebooks): ``python -m tests.azure.replay --info FILE`` writes
``{"url", "ca", "subscription", "pid", "token", "costs"}`` to FILE (``costs`` is a FOCUS
export of the fleet, :func:`focus_costs`) and serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import ssl
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

SUBSCRIPTION = "3f2a9c1e-5b7d-4e8a-9c6f-1d2e3b4a5c6d"
TENANT = "9b1c2d3e-4f5a-4b6c-8d7e-0f1a2b3c4d5e"
TOKEN = "vmlife-replay-token"
EXPIRED = "vmlife-replay-expired-token"
ACTIVITY_API = "2015-04-01"
GRAPH_API = "2021-03-01"
PAGE = {"activity": 10, "compute": 2, "graph": 2, "prices": 2}

_FILTER = re.compile(
    r"^eventTimestamp ge '(?P<ge>[^']+)' and eventTimestamp le '(?P<le>[^']+)'"
    r"(?: and (?P<field>resourceUri|resourceGroupName|resourceProvider|correlationId) "
    r"eq '(?P<value>[^']+)')?$"
)
_EQ = re.compile(r"(\w+) eq '([^']*)'")


def _iso(t: float) -> str:
    dt = datetime.fromtimestamp(t, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0Z"


def _epoch(text: str) -> float:
    text = text.strip().replace("Z", "+00:00")
    m = re.match(r"(.*\.\d{1,6})\d*(.*)", text)
    if m:
        text = m.group(1) + m.group(2)
    dt = datetime.fromisoformat(text)
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()


# ---------------------------------------------------------------------- the fleet
@dataclass(frozen=True)
class VMSpec:
    name: str
    group: str
    location: str
    size: str
    os: str
    power: str
    priority: str = "Regular"
    license_type: str | None = None

    def id(self, sub: str) -> str:
        return (f"/subscriptions/{sub}/resourceGroups/{self.group}/providers/"
                f"Microsoft.Compute/virtualMachines/{self.name}")


FLEET = (
    VMSpec("web-1", "rg-web", "eastus", "Standard_D2s_v5", "Linux", "deallocated"),
    VMSpec("win-2", "rg-web", "westeurope", "Standard_D4s_v5", "Windows", "deallocated"),
    VMSpec("spot-3", "rg-batch", "eastus", "Standard_D2s_v5", "Linux", "running",
           priority="Spot"),
)
_DISPLAY = {"running": "VM running", "deallocated": "VM deallocated", "stopped": "VM stopped"}


def vm_model(vm: VMSpec, sub: str) -> dict[str, Any]:
    """A VM as List All answers it (fields of VirtualMachine_ListBySubscription_ByLocation)."""
    os_profile: dict[str, Any] = {"computerName": vm.name, "adminUsername": "azureuser",
                                  "secrets": [], "allowExtensionOperations": True}
    if vm.os == "Windows":
        os_profile["windowsConfiguration"] = {"provisionVMAgent": True,
                                              "enableAutomaticUpdates": True}
    else:
        os_profile["linuxConfiguration"] = {"disablePasswordAuthentication": True}
    props: dict[str, Any] = {
        "vmId": str(uuid.uuid5(uuid.NAMESPACE_URL, vm.name)),
        "hardwareProfile": {"vmSize": vm.size},
        "storageProfile": {
            "imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts",
                               "sku": "server", "version": "latest"}
            if vm.os == "Linux" else
            {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
             "sku": "2022-datacenter-azure-edition", "version": "latest"},
            "osDisk": {"osType": vm.os, "name": f"{vm.name}_OsDisk_1", "createOption":
                       "FromImage", "caching": "ReadWrite", "diskSizeGB": 30 if vm.os ==
                       "Linux" else 127,
                       "managedDisk": {"storageAccountType": "Premium_LRS",
                                       "id": f"/subscriptions/{sub}/resourceGroups/{vm.group}/"
                                             f"providers/Microsoft.Compute/disks/"
                                             f"{vm.name}_OsDisk_1"}},
            "dataDisks": [],
        },
        "osProfile": os_profile,
        "networkProfile": {"networkInterfaces": [{"id": f"/subscriptions/{sub}/resourceGroups/"
                                                  f"{vm.group}/providers/Microsoft.Network/"
                                                  f"networkInterfaces/{vm.name}-nic"}]},
        "provisioningState": "Succeeded",
        "priority": vm.priority,
    }
    if vm.priority == "Spot":
        props["evictionPolicy"] = "Deallocate"
        props["billingProfile"] = {"maxPrice": -1}
    if vm.license_type:
        props["licenseType"] = vm.license_type
    return {"properties": props, "type": "Microsoft.Compute/virtualMachines",
            "location": vm.location, "tags": {"env": "test"}, "id": vm.id(sub),
            "name": vm.name}


def vm_status(vm: VMSpec, sub: str) -> dict[str, Any]:
    """A VM as List All with statusOnly=true answers it: id, name and instance view."""
    return {"name": vm.name, "id": vm.id(sub), "type": "Microsoft.Compute/virtualMachines",
            "location": vm.location, "properties": {"instanceView": {"statuses": [
                {"code": "ProvisioningState/succeeded", "level": "Info",
                 "displayStatus": "Provisioning succeeded"},
                {"code": f"PowerState/{vm.power}", "level": "Info",
                 "displayStatus": _DISPLAY[vm.power]}]}}}


def graph_row(vm: VMSpec, sub: str) -> dict[str, Any]:
    """A Resource Graph row: lower-case type, ARM properties plus ``extended``."""
    model = vm_model(vm, sub)
    props = dict(model["properties"])
    props["extended"] = {"instanceView": {"powerState": {
        "code": f"PowerState/{vm.power}", "level": "Info", "displayStatus": _DISPLAY[vm.power]}}}
    return {"id": model["id"], "name": vm.name, "type": "microsoft.compute/virtualmachines",
            "location": vm.location, "resourceGroup": vm.group, "subscriptionId": sub,
            "tags": model["tags"], "zones": None, "sku": None, "plan": None, "identity": None,
            "properties": props}


def _event(sub: str, rid: str, op: str, status: str, sub_status: str, t: float, corr: str,
           method: str) -> dict[str, Any]:
    """An Activity Log event with the fields of GetActivityLogsFiltered.json."""
    eid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{rid}{op}{status}{t}"))
    group = rid.split("/")[4]
    provider = rid.split("/providers/")[1].split("/")[0]
    rtype = "/".join(rid.split("/providers/")[1].split("/")[:2])
    codes = {"Created": 201, "OK": 200, "Accepted": 202}
    return {
        "authorization": {"action": op, "scope": rid},
        "caller": "alice@contoso.com",
        "channels": "Operation",
        "claims": {"aud": "https://management.core.windows.net/",
                   "iss": f"https://sts.windows.net/{TENANT}/",
                   "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":
                       "alice@contoso.com"},
        "correlationId": corr,
        "description": "",
        "eventDataId": eid,
        "eventName": {"value": "BeginRequest" if status == "Started" else "EndRequest",
                      "localizedValue": "Begin request" if status == "Started" else
                      "End request"},
        "category": {"value": "Administrative", "localizedValue": "Administrative"},
        "eventTimestamp": _iso(t),
        "id": f"{rid}/events/{eid}/ticks/{int(t * 10_000_000) + 621355968000000000}",
        "level": "Informational",
        "operationId": corr,
        "operationName": {"value": op, "localizedValue": op},
        "resourceGroupName": group,
        "resourceProviderName": {"value": provider, "localizedValue": provider},
        "resourceType": {"value": rtype, "localizedValue": rtype},
        "resourceId": rid,
        "status": {"value": status, "localizedValue": status},
        "subStatus": {"value": sub_status, "localizedValue":
                      f"{sub_status} (HTTP Status Code: {codes[sub_status]})" if sub_status
                      else ""},
        "submissionTimestamp": _iso(t + 9),
        "subscriptionId": sub,
        "tenantId": TENANT,
        "httpRequest": {"clientRequestId": str(uuid.uuid5(uuid.NAMESPACE_URL, corr)),
                        "clientIpAddress": "203.0.113.24", "method": method},
        "properties": {"eventCategory": "Administrative", "entity": rid, "message": op,
                       "hierarchy": f"{TENANT}/{sub}",
                       **({"statusCode": sub_status} if sub_status else {})},
    }


def _operation(sub: str, rid: str, verb: str, t: float, *, created: bool = False
               ) -> list[dict[str, Any]]:
    kind = ("Microsoft.Compute/disks" if "/disks/" in rid else
            "Microsoft.Compute/virtualMachines/extensions" if "/extensions/" in rid else
            "Microsoft.Compute/virtualMachines")
    op = f"{kind}/{verb}" if verb in ("write", "delete") else f"{kind}/{verb}/action"
    method = {"write": "PUT", "delete": "DELETE"}.get(verb, "POST")
    corr = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{rid}{verb}{t}"))
    answer = "Created" if created else ("OK" if verb == "write" else "Accepted")
    return [
        _event(sub, rid, op, "Started", "", t, corr, method),
        _event(sub, rid, op, "Accepted", answer, t + 1, corr, method),
        _event(sub, rid, op, "Succeeded", "OK" if verb != "write" or not created else
               "Created", t + 95, corr, method),
    ]


def activity_events(sub: str, now: float) -> list[dict[str, Any]]:
    """The fleet's last ten days, ending in the power states :data:`FLEET` lists."""
    day = 86400.0
    midnight = now - now % day
    web, win, spot = (vm.id(sub) for vm in FLEET)
    out: list[dict[str, Any]] = []
    out += _operation(sub, web, "start", midnight - 10 * day + 8 * 3600)  # outside 7 days
    out += _operation(sub, web, "deallocate", midnight - 10 * day + 18 * 3600)
    for d in range(6, 0, -1):  # web-1 works 08:00-18:00 each of the last six days
        out += _operation(sub, web, "start", midnight - d * day + 8 * 3600)
        out += _operation(sub, web, "deallocate", midnight - d * day + 18 * 3600)
    out += _operation(sub, win, "start", midnight - 5 * day + 9 * 3600)
    out += _operation(sub, win, "powerOff", midnight - 3 * day + 17 * 3600)
    out += _operation(sub, win, "deallocate", midnight - 2 * day + 9 * 3600)
    out += _operation(sub, spot, "write", midnight - 4 * day + 10 * 3600, created=True)
    disk = f"/subscriptions/{sub}/resourceGroups/rg-batch/providers/Microsoft.Compute/disks/data-1"
    out += _operation(sub, disk, "write", midnight - 4 * day + 9 * 3600, created=True)
    out += _operation(sub, f"{spot}/extensions/monitor", "write",
                      midnight - 4 * day + 11 * 3600, created=True)
    out.sort(key=lambda e: e["eventTimestamp"], reverse=True)  # Azure sends newest first
    return out


def _price(region: str, size: str, windows: bool, spot: bool, price: float,
           kind: str = "Consumption") -> dict[str, Any]:
    series = size.split("_")[1]  # D2s
    meter = f"{series} {size.split('_')[2]}" + (" Spot" if spot else "")
    product = "Virtual Machines Dsv5 Series" + (" Windows" if windows else "")
    item: dict[str, Any] = {
        "currencyCode": "USD", "tierMinimumUnits": 0.0, "retailPrice": price,
        "unitPrice": price, "armRegionName": region,
        "location": {"eastus": "US East", "westeurope": "EU West"}[region],
        "effectiveStartDate": "2024-01-01T00:00:00Z",
        "meterId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{region}{meter}{product}{kind}")),
        "meterName": meter, "productId": "DZH318Z0D1L7", "skuId": "DZH318Z0D1L7/0056",
        "availabilityId": None, "productName": product, "skuName": meter,
        "serviceName": "Virtual Machines", "serviceId": "DZH313Z7MMC8",
        "serviceFamily": "Compute", "unitOfMeasure": "1 Hour", "type": kind,
        "isPrimaryMeterRegion": True, "armSkuName": size,
    }
    if kind == "Reservation":
        item["reservationTerm"] = "1 Year"
    return item


def focus_costs(sub: str, now: float) -> str:
    """A FOCUS cost export (CSV, the columns vmlife.io.costs reads, FOCUS 1.0 names) of the
    fleet's compute hours per VM and UTC day, for the days before today.

    The hours are those :func:`activity_events` implies, except one: web-1 is charged 12 h
    three days ago where its log shows 10 h (as if it had been started outside the log), so
    a reconciliation has something to explain.
    """
    day = 86400.0
    midnight = now - now % day
    prices = {"web-1": 0.096, "win-2": 0.398, "spot-3": 0.0192}
    hours: dict[tuple[str, int], float] = {}
    for d in range(6, 0, -1):
        hours[("web-1", d)] = 12.0 if d == 3 else 10.0
    hours.update({("win-2", 5): 15.0, ("win-2", 4): 24.0, ("win-2", 3): 24.0,
                  ("win-2", 2): 9.0})
    hours.update({("spot-3", 4): 14.0, ("spot-3", 3): 24.0, ("spot-3", 2): 24.0,
                  ("spot-3", 1): 24.0})
    head = ("ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,ResourceName,"
            "ServiceName,ConsumedQuantity,ConsumedUnit,PricingQuantity,PricingUnit,"
            "PricingCategory,BilledCost,EffectiveCost,BillingCurrency,x_SkuMeterName")
    lines = [head]
    specs = {vm.name: vm for vm in FLEET}
    for (name, d), h in sorted(hours.items(), key=lambda kv: (-kv[0][1], kv[0][0])):
        vm = specs[name]
        lo = datetime.fromtimestamp(midnight - d * day, tz=timezone.utc)
        hi = datetime.fromtimestamp(midnight - (d - 1) * day, tz=timezone.utc)
        cost = round(h * prices[name], 6)
        meter = vm.size.split("_", 1)[1].replace("_", " ") + (" Spot" if vm.priority ==
                                                                  "Spot" else "")
        lines.append(",".join([
            f"{lo:%Y-%m-%dT%H:%M:%SZ}", f"{hi:%Y-%m-%dT%H:%M:%SZ}", "Usage",
            vm.id(sub).lower(), name, "Virtual Machines", f"{h:g}", "Hours", f"{h:g}",
            "1 Hour", "Dynamic" if vm.priority == "Spot" else "Standard", f"{cost:g}",
            f"{cost:g}", "USD", meter]))
    return "\n".join(lines) + "\n"


def _disk_price(region: str, tier: str, monthly: float) -> dict[str, Any]:
    """A managed disk's monthly meter, as the Retail Prices API lists Premium SSD tiers."""
    return {
        "currencyCode": "USD", "tierMinimumUnits": 0.0, "retailPrice": monthly,
        "unitPrice": monthly, "armRegionName": region,
        "location": {"eastus": "US East", "westeurope": "EU West"}[region],
        "effectiveStartDate": "2024-01-01T00:00:00Z",
        "meterId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{region}{tier}")),
        "meterName": f"{tier} Disk", "productId": "DZH318Z0BP04",
        "skuId": "DZH318Z0BP04/0084", "availabilityId": None,
        "productName": "Premium SSD Managed Disks", "skuName": tier,
        "serviceName": "Storage", "serviceId": "DZH317F1HKN0", "serviceFamily": "Storage",
        "unitOfMeasure": "1/Month", "type": "Consumption", "isPrimaryMeterRegion": True,
        "armSkuName": f"Premium_SSD_Managed_Disk_{tier.split()[0]}",
    }


PRICES = [
    _disk_price("eastus", "P4 LRS", 5.28),
    _disk_price("westeurope", "P10 LRS", 21.68),
    _price("eastus", "Standard_D2s_v5", False, False, 0.096),
    _price("eastus", "Standard_D2s_v5", True, False, 0.188),
    _price("eastus", "Standard_D2s_v5", False, True, 0.0192),
    _price("eastus", "Standard_D2s_v5", False, False, 495.0, "Reservation"),
    _price("eastus", "Standard_D4s_v5", False, False, 0.192),
    _price("westeurope", "Standard_D4s_v5", False, False, 0.214),
    _price("westeurope", "Standard_D4s_v5", True, False, 0.398),
    _price("westeurope", "Standard_D2s_v5", False, False, 0.107),
]


# ---------------------------------------------------------------------- the server
@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None
    route: str = ""
    status: int = 0


@dataclass
class Fault:
    route: str
    status: int | None  # None: close the connection without answering
    times: int = 1
    retry_after: str | None = None
    code: str = ""
    message: str = ""
    after: int = 0  # let this many matching requests through first


@dataclass
class Replay:
    """The replay server; :meth:`start` it, use :attr:`url` and :attr:`ca_file`."""

    ca_file: str
    cert_pem: bytes
    key_pem: bytes
    subscription: str = SUBSCRIPTION
    now: float = field(default_factory=time.time)
    seen: list[Seen] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    graph_enabled: bool = True
    url: str = ""
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def make(cls, folder: str | Path, **kw: Any) -> Replay:
        """A server with a fresh test CA whose certificate is written to ``folder/ca.pem``."""
        import trustme

        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        ca_file = str(Path(folder) / "ca.pem")
        ca.cert_pem.write_to_path(ca_file)
        chain = b"".join(blob.bytes() for blob in cert.cert_chain_pems)
        return cls(ca_file, chain, cert.private_key_pem.bytes(), **kw)

    def start(self) -> Replay:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as tmp:
            cf, kf = Path(tmp) / "c.pem", Path(tmp) / "k.pem"
            cf.write_bytes(self.cert_pem)
            kf.write_bytes(self.key_pem)
            ctx.load_cert_chain(cf, kf)
        replay = self

        class Handler(_Handler):
            server_replay = replay

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        self._server = server
        self.url = f"https://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def fail(self, route: str, status: int, *, times: int = 1, retry_after: str | None = None,
             code: str = "", message: str = "", after: int = 0) -> None:
        """The next ``times`` requests to ``route`` (activity, compute, graph, prices), after
        letting ``after`` through, answer ``status`` with an ARM error body."""
        self.faults.append(Fault(route, status, times, retry_after, code, message, after))

    def drop(self, route: str, *, times: int = 1) -> None:
        """The next ``times`` requests to ``route`` get their connection closed unanswered."""
        self.faults.append(Fault(route, None, times))

    def take_fault(self, route: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.route == route and f.times > 0:
                    if f.after > 0:
                        f.after -= 1
                        return None
                    f.times -= 1
                    return f
        return None

    def routes(self, route: str) -> list[Seen]:
        """What was received on one route, in order."""
        return [s for s in self.seen if s.route == route]


class _Handler(BaseHTTPRequestHandler):
    server_replay: Replay
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    # ------------------------------------------------------------------ plumbing
    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self._seen.status = status

    def _arm_error(self, status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> None:
        self._send(status, {"error": {"code": code, "message": message}}, headers)

    def _handle(self) -> None:
        r = self.server_replay
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        body = None
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            body = json.loads(self.rfile.read(length))
        path = parts.path
        sub = r.subscription
        route = ("activity" if path == f"/subscriptions/{sub}/providers/Microsoft.Insights/"
                 "eventtypes/management/values" else
                 "compute" if path == f"/subscriptions/{sub}/providers/Microsoft.Compute/"
                 "virtualMachines" else
                 "graph" if path == "/providers/Microsoft.ResourceGraph/resources" else
                 "prices" if path == "/api/retail/prices" else "unknown")
        self._seen = Seen(self.command, path, query, {k.lower(): v for k, v in
                                                      self.headers.items()}, body, route)
        with r._lock:
            r.seen.append(self._seen)
        if route == "unknown":
            self._arm_error(404, "NotFound", f"no such route in the replay: {path}")
            return
        if route != "prices" and not self._authorised():
            return
        fault = r.take_fault(route)
        if fault is not None:
            if fault.status is None:
                self.close_connection = True
                self.connection.shutdown(2)
                self._seen.status = -1
                return
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            code, message = fault.code, fault.message
            if not code:
                code, message = _FAULTS.get(fault.status, ("Error", "replayed fault"))
            self._arm_error(fault.status, code, message.format(sub=sub), headers)
            return
        getattr(self, f"_{route}")(query, body)

    def _authorised(self) -> bool:
        auth = self.headers.get("Authorization", "")
        challenge = {"WWW-Authenticate": f'Bearer authorization_uri="https://login.windows.net/'
                     f'{TENANT}", error="invalid_token", error_description="The authentication '
                     'failed because of missing \'Authorization\' header."'}
        if not auth.startswith("Bearer "):
            self._arm_error(401, "AuthenticationFailed",
                            "Authentication failed. The 'Authorization' header is missing.",
                            challenge)
            return False
        token = auth[len("Bearer "):]
        if token == EXPIRED:
            now = datetime.now(timezone.utc)
            self._arm_error(
                401, "ExpiredAuthenticationToken",
                f"The access token expiry UTC time '{now:%m/%d/%Y %I:%M:%S %p}' is earlier "
                f"than current UTC time '{now:%m/%d/%Y %I:%M:%S %p}'.",
                {"WWW-Authenticate": f'Bearer authorization_uri="https://login.windows.net/'
                 f'{TENANT}", error="invalid_token", error_description="The access token '
                 'has expired."'})
            return False
        if token != TOKEN:
            self._arm_error(401, "InvalidAuthenticationToken",
                            "The access token is invalid.", challenge)
            return False
        return True

    def _base(self) -> str:
        return self.server_replay.url

    def _page(self, items: list[Any], query: dict[str, str], key: str, size: int
              ) -> tuple[list[Any], int | None]:
        start = int(query.get(key) or 0)
        chunk = items[start:start + size]
        return chunk, (start + size if start + size < len(items) else None)

    # ------------------------------------------------------------------ routes
    def _activity(self, query: dict[str, str], _body: Any) -> None:
        r = self.server_replay
        if query.get("api-version") != ACTIVITY_API:
            self._arm_error(400, "InvalidApiVersionParameter",
                            f"The api-version '{query.get('api-version')}' is invalid.")
            return
        m = _FILTER.match(query.get("$filter", ""))
        if m is None:
            self._arm_error(400, "BadRequest", "The $filter is not valid: "
                            f"{query.get('$filter')!r}")
            return
        lo, hi = _epoch(m["ge"]), _epoch(m["le"])
        events = [e for e in activity_events(r.subscription, r.now)
                  if lo <= _epoch(e["eventTimestamp"]) <= hi]
        fld, value = m["field"], (m["value"] or "").lower()
        if fld == "resourceUri":
            events = [e for e in events if e["resourceId"].lower() == value]
        elif fld == "resourceGroupName":
            events = [e for e in events if e["resourceGroupName"].lower() == value]
        elif fld == "resourceProvider":
            events = [e for e in events if e["resourceProviderName"]["value"].lower() == value]
        select = query.get("$select")
        if select:
            keep = set(select.split(","))
            events = [{k: v for k, v in e.items() if k in keep} for e in events]
        chunk, nxt = self._page(events, query, "$skipToken", PAGE["activity"])
        page: dict[str, Any] = {"value": chunk}
        if nxt is not None:
            q = {"api-version": ACTIVITY_API, "$filter": query["$filter"]}
            if select:
                q["$select"] = select
            page["nextLink"] = (f"{self._base()}/subscriptions/{r.subscription}/providers/"
                                f"Microsoft.Insights/eventtypes/management/values?"
                                f"{urlencode(q, quote_via=quote)}&$skipToken={nxt}")
        self._send(200, page)

    def _compute(self, query: dict[str, str], _body: Any) -> None:
        r = self.server_replay
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(-preview)?", query.get("api-version", "")):
            self._arm_error(400, "MissingApiVersionParameter",
                            "The api-version query parameter (?api-version=) is required.")
            return
        status_only = query.get("statusOnly") == "true"
        vms = [vm_status(v, r.subscription) if status_only else vm_model(v, r.subscription)
               for v in FLEET]
        chunk, nxt = self._page(vms, query, "$skiptoken", PAGE["compute"])
        page: dict[str, Any] = {"value": chunk}
        if nxt is not None:
            q = {"api-version": query["api-version"]}
            if status_only:
                q["statusOnly"] = "true"
            page["nextLink"] = (f"{self._base()}/subscriptions/{r.subscription}/providers/"
                                f"Microsoft.Compute/virtualMachines?{urlencode(q)}"
                                f"&$skiptoken={nxt}")
        self._send(200, page)

    def _graph(self, query: dict[str, str], body: Any) -> None:
        r = self.server_replay
        if query.get("api-version") != GRAPH_API:
            self._arm_error(400, "InvalidApiVersionParameter",
                            f"The api-version '{query.get('api-version')}' is invalid.")
            return
        if not r.graph_enabled:
            self._arm_error(400, "BadRequest", "Please provide below info when asking for "
                            "support: timestamp = ..., correlationId = ....")
            return
        if not isinstance(body, dict) or r.subscription not in body.get("subscriptions", []) \
                or "microsoft.compute/virtualmachines" not in body.get("query", ""):
            self._arm_error(400, "BadRequest", "The query is not the one the replay knows.")
            return
        options = body.get("options") or {}
        rows = [graph_row(v, r.subscription) for v in FLEET]
        chunk, nxt = self._page(rows, {"skip": options.get("$skipToken") or "0"}, "skip",
                                PAGE["graph"])
        page: dict[str, Any] = {"totalRecords": len(rows), "count": len(chunk),
                                "resultTruncated": "false", "facets": [], "data": chunk}
        if nxt is not None:
            page["$skipToken"] = str(nxt)
        self._send(200, page)

    def _prices(self, query: dict[str, str], _body: Any) -> None:
        if "authorization" in self._seen.headers:
            self._arm_error(400, "BadRequest", "the Retail Prices API takes no credential")
            return
        if query.get("currencyCode") != "'USD'":
            self._send(200, {"BillingCurrency": query.get("currencyCode", "").strip("'"),
                             "CustomerEntityId": "Default", "CustomerEntityType": "Retail",
                             "Items": [], "NextPageLink": None, "Count": 0})
            return
        # the filter's priceType is the items' "type" (Azure Retail Prices overview)
        clauses = [("type" if k == "priceType" else k, v)
                   for k, v in _EQ.findall(query.get("$filter", ""))]
        items = [i for i in PRICES if all(str(i.get(k)) == v for k, v in clauses)]
        chunk, nxt = self._page(items, query, "$skip", PAGE["prices"])
        link = None
        if nxt is not None:
            q = {k: v for k, v in query.items() if k != "$skip"}
            link = f"{self._base()}/api/retail/prices?{urlencode(q, quote_via=quote)}&$skip={nxt}"
        self._send(200, {"BillingCurrency": "USD", "CustomerEntityId": "Default",
                         "CustomerEntityType": "Retail", "Items": chunk,
                         "NextPageLink": link, "Count": len(chunk)})


_FAULTS = {
    429: ("SubscriptionRequestsThrottled",
          "Number of 'read' requests for subscription '{sub}' actor 'alice@contoso.com' "
          "exceeded. Please try again after '1' seconds after additional tokens are "
          "available."),
    403: ("AuthorizationFailed",
          "The client 'alice@contoso.com' with object id '5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9'"
          " does not have authorization to perform action "
          "'Microsoft.Insights/eventtypes/values/read' over scope '/subscriptions/{sub}' or "
          "the scope is invalid. If access was recently granted, please refresh your "
          "credentials."),
    500: ("InternalServerError", "Encountered internal server error. Diagnostic information: "
          "timestamp '20240304T080000Z', subscription id '{sub}', tracking id "
          "'0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0'."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable."),
}


@dataclass
class StaticCredential:
    """A credential that hands out fixed tokens: ``tokens`` in turn, the last one forever."""

    tokens: tuple[str, ...] = (TOKEN,)
    asked: list[tuple[str, ...]] = field(default_factory=list)

    def get_token(self, *scopes: str, **_kw: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.asked.append(scopes)
        token = self.tokens[min(len(self.asked), len(self.tokens)) - 1]
        return AccessToken(token, int(time.time()) + 3600)


@dataclass
class FailingCredential:
    """A credential that cannot give a token (no 'az login', nothing in the environment)."""

    def get_token(self, *scopes: str, **_kw: Any) -> Any:
        from azure.identity import CredentialUnavailableError

        raise CredentialUnavailableError("Please run 'az login' to set up an account")


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM; write what a client needs to know to ``--info``."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--info", required=True, help="file to write the server's facts to")
    p.add_argument("--folder", help="where to write ca.pem (default: beside --info)")
    args = p.parse_args(argv)
    folder = args.folder or os.path.dirname(os.path.abspath(args.info))
    replay = Replay.make(folder).start()
    costs = os.path.join(folder, "costs_focus.csv")
    with open(costs, "w", encoding="utf-8") as fh:
        fh.write(focus_costs(replay.subscription, replay.now))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    tmp = args.info + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"url": replay.url, "ca": replay.ca_file, "subscription": replay.subscription,
                   "pid": os.getpid(), "token": TOKEN, "costs": costs}, fh)
    os.replace(tmp, args.info)
    stop.wait()
    replay.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
