"""``vmlife pull``: a subscription's VMs, Activity Log and prices into a folder.

Imports no Azure SDK module until the command runs (``vmlife --help`` stays light).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from ..cli import dump, say, table
from ..timeutil import time_arg

__all__ = ["add_commands"]


def cmd_pull(args: argparse.Namespace, out: TextIO) -> int:
    from ._connection import Connection

    conn = Connection(
        resource_manager=args.arm_endpoint,
        prices=args.prices_endpoint,
        verify=args.ca_bundle if args.ca_bundle else True,
    )

    def report(line: str) -> None:
        if not args.quiet:
            say(f"vmlife: {line}", sys.stderr)

    try:
        result = _pull(args, conn, report)
    except ImportError as exc:
        from ..errors import RunError

        raise RunError(str(exc)) from None
    if args.json:
        dump(result.manifest, out)
        return 0
    m = result.manifest
    print(f"Pulled subscription {m['subscription']} from {m['start']} to {m['end']} into "
          f"{result.folder}:", file=out)
    table(
        [
            ("inventory.json", f"{result.vms} VMs", m["inventory"]["method"]),
            ("activity_log.json", f"{result.events} events", "Activity Log"),
            (f"prices/ ({len(m['prices']['files'])} files)", f"{result.prices} prices",
             ", ".join(m["prices"]["regions"]) or "-"),
        ],
        ("file", "holds", "from"),
        out,
    )
    total = sum(result.requests.values())
    print(f"\nRequests: {total} ("
          + ", ".join(f"{k} {v}" for k, v in result.requests.items())
          + f"); {len(result.retries)} retried.", file=out)
    for note in result.notes:
        say(f"Note: {note}", out)
    print(f"\nNext: vmlife report {result.folder}", file=out)
    return 0


def _pull(args: argparse.Namespace, conn: Any, report: Any) -> Any:
    from .pull import pull

    return pull(
        args.subscription,
        days=args.days,
        out=args.output,
        resource_group=args.resource_group,
        end=args.end,
        currency=args.currency,
        connection=conn,
        price_cache=args.price_cache,
        progress=not args.quiet,
        report=report,
    )


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "pull",
        help="pull a subscription's VMs, Activity Log and prices from Azure into a folder",
        description="Ask Azure for a subscription's VMs (Resource Graph, else Compute List All), "
        "their Activity Log of the last N days and their pay-as-you-go prices (Retail Prices "
        "API), and write DIR/inventory.json, DIR/activity_log.json, DIR/prices/*.json and "
        "DIR/pull.json. 'vmlife bill DIR' and 'vmlife report DIR' read the folder. Needs the "
        "'azure' extra (pip install \"vmlife[azure]\") and a credential DefaultAzureCredential "
        "finds ('az login', AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, managed "
        "identity). Roles: Reader on the subscription (Monitoring Reader is enough for the "
        "Activity Log).",
        epilog="Azure keeps the Activity Log for 90 days; older days cannot be pulled. Throttled "
        "(429) and failed (5xx, network) requests are retried with backoff and reported on "
        "standard error.",
    )
    p.add_argument("--subscription", required=True, metavar="ID", help="subscription id")
    p.add_argument("--days", type=float, default=30,
                   help="days of Activity Log back from now (default 30; Azure keeps 90)")
    p.add_argument("-o", "--output", default="vmlife-pull", metavar="DIR",
                   help="folder to write (default: vmlife-pull)")
    p.add_argument("--resource-group", metavar="NAME",
                   help="only this resource group's Activity Log")
    p.add_argument("--end", type=time_arg, help="end of the period (ISO 8601; default now)")
    p.add_argument("--currency", default="USD", help="price currency (default USD)")
    p.add_argument("--price-cache", metavar="DIR",
                   help="Retail Prices cache folder (default ~/.cache/vmlife/prices)")
    p.add_argument("--arm-endpoint", default="https://management.azure.com", metavar="URL",
                   help="Azure Resource Manager endpoint (default: the public cloud's)")
    p.add_argument("--prices-endpoint", default="https://prices.azure.com", metavar="URL",
                   help="Retail Prices API host (default https://prices.azure.com)")
    p.add_argument("--ca-bundle", metavar="PEM",
                   help="trust these certificate authorities instead of the system's")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bars, no retry lines on standard error")
    p.add_argument("--json", action="store_true", help="print pull.json")
    p.set_defaults(func=cmd_pull)
