"""The built-in billing editions, one per published revision of Azure's billing rules.

Power-state billing, as each document words it (``*``: "Some Azure resources, such as Disks and
Networking, incur charges"):

============  ======================  ===========  ===========  ===========  ===========
state         000 draft               001 page     2018-08      2021-03      003 (2023)
============  ======================  ===========  ===========  ===========  ===========
creating      --                      --           --           --           Not Billed*
starting      Not Billed              Not billed   Not billed   Billed       Billed
running       Billed (Hw + Software)  Billed       Billed       Billed       Billed
stopping      Billed (Hw + Software)  Billed       Billed       Billed       Billed
stopped       Billed (Hardware only)  Billed*      Not billed*  Billed       Billed
deallocating  Billed (Hardware only)  Not billed*  Not billed*  Not billed*  Not billed*
deallocated   Not billed              Not billed   Not billed*  Not billed*  Not billed*
============  ======================  ===========  ===========  ===========  ===========

Readings (modelling choices, stated here and in the docs):

* "Billed" without a split bills compute and licence.
* 001's footnote on Stopped ("Software licenses on the instance do not incur charges") makes
  Stopped compute-only under 001.
* The 2018-08 include and the 03/2021 page are not in ``shared/spec``; their rows follow
  DESIGN.md's description (2018-08: like 001 but Stopped "Not billed*"; 2021-03: the first to
  bill Starting, otherwise like 2023 without the Creating row).
* OS-provisioning substates happen while the power state is running and bill as running
  (000/001: "Customers will be billed for the deployed VM on the infrastructure").

Real histories, the same under every edition (vmlife's choices where the documents are silent;
README "Billing that holds on real histories"):

* A VM's state before its first Activity Log event (inferred or given) holds from the billing
  period's start when that is earlier (``read_activity_log(start=...)``, ``bill --start``):
  its disks bill, and compute too when it was running.
* A failed or canceled operation's span from Started to Failed/Canceled is its transitional
  provisioning state with the power state unchanged, so each edition bills that power state;
  then ``ProvisioningState/failed/<code>`` or ``ProvisioningState/canceled``.
* A reading with no power state, or ``PowerState/unknown``, bills as the last known power state
  under each edition's rule for it (not as free), and the bill lists it. None of these
  documents has a row for an unknown power state.
* A restart keeps compute (and licence) billed in every edition: the VM never leaves its host,
  so its Stopping and Starting phases bill as the running state it started from. Under draft,
  2018-08 and lifecycle, where Starting is "Not billed", this differs from billing each phase by
  its row: a reboot is one compute run, floored once. Resizing a running VM restarts it
  (Azure's "Resize a virtual machine" page) and is held the same way.
"""

from __future__ import annotations

from typing import Any

from vmlife.billing.editions import Edition, Rule
from vmlife.plugins import hookimpl

BOTH = frozenset({"compute", "license"})
HW = frozenset({"compute"})
NONE: frozenset[str] = frozenset()
STAR = "Disks and networking continue to incur charges."
LICENCE_NOTE = "Software licenses on the instance do not incur charges."


def _r(bills: frozenset[str], wording: str, note: str = "") -> Rule:
    return Rule(bills, wording, note)


DRAFT = Edition(
    "draft",
    "Virtual Machines Lifecycle and States (earliest draft)",
    "undated",
    "shared/spec/000_19616a5bca8b8f3d.txt",
    {
        "power.starting": _r(NONE, "Not Billed"),
        "power.running": _r(BOTH, "Billed (Hardware + Software)"),
        "power.stopping": _r(BOTH, "Billed (Hardware + Software)"),
        "power.stopped": _r(HW, "Billed (Hardware only)"),
        "power.deallocating": _r(HW, "Billed (Hardware only)"),
        "power.deallocated": _r(NONE, "Not billed", "Network and storage are billed."),
    },
    order=0,
    notes=("Splits billing into hardware and software.",),
)

LIFECYCLE = Edition(
    "lifecycle",
    "Virtual machines lifecycle and states",
    "2018-2020 (undated)",
    "shared/spec/001_9667a8261b43a96a.txt",
    {
        "power.starting": _r(NONE, "Not billed"),
        "power.running": _r(BOTH, "Billed"),
        "power.stopping": _r(BOTH, "Billed"),
        "power.stopped": _r(HW, "Billed*", f"{STAR} {LICENCE_NOTE}"),
        "power.deallocating": _r(NONE, "Not billed*", STAR),
        "power.deallocated": _r(NONE, "Not billed"),
    },
    order=2,
    notes=("Stopped is read as compute only, by the footnote on software licences.",),
)

INCLUDE_2018 = Edition(
    "2018-08",
    "virtual-machines-common-states-lifecycle include",
    "2018-08",
    "public 08/2018 revision of the include, as described in DESIGN.md (not in shared/spec)",
    {
        "power.starting": _r(NONE, "Not billed"),
        "power.running": _r(BOTH, "Billed"),
        "power.stopping": _r(BOTH, "Billed"),
        "power.stopped": _r(NONE, "Not billed*", STAR),
        "power.deallocating": _r(NONE, "Not billed*", STAR),
        "power.deallocated": _r(NONE, "Not billed*", STAR),
    },
    order=1,
)

PAGE_2021 = Edition(
    "2021-03",
    "States and billing status",
    "2021-03",
    "public 03/2021 revision of the page, as described in DESIGN.md (not in shared/spec)",
    {
        "power.starting": _r(BOTH, "Billed"),
        "power.running": _r(BOTH, "Billed"),
        "power.stopping": _r(BOTH, "Billed"),
        "power.stopped": _r(BOTH, "Billed"),
        "power.deallocating": _r(NONE, "Not billed*", STAR),
        "power.deallocated": _r(NONE, "Not billed*", STAR),
    },
    order=3,
    notes=("The first revision to bill Starting.",),
)

PAGE_2023 = Edition(
    "2023-10",
    "States and billing status of Azure Virtual Machines",
    "2023-10-31",
    "shared/spec/003_563d7b8f50dc6bf6.txt",
    {
        "power.creating": _r(NONE, "Not Billed*", STAR),
        "power.starting": _r(BOTH, "Billed"),
        "power.running": _r(BOTH, "Billed"),
        "power.stopping": _r(BOTH, "Billed"),
        "power.stopped": _r(BOTH, "Billed"),
        "power.deallocating": _r(NONE, "Not billed*", STAR),
        "power.deallocated": _r(NONE, "Not billed*", STAR),
    },
    order=4,
    notes=("Adds the Creating power state; Starting is billed.",),
)

EDITIONS = (DRAFT, INCLUDE_2018, LIFECYCLE, PAGE_2021, PAGE_2023)


@hookimpl
def register_editions(register: Any) -> None:
    for edition in EDITIONS:
        register(edition)
