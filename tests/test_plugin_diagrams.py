"""Diagrams and notes with plugins (issue 16 point 5): the "no state" node of a plugin axis, edge
colours of mixed labels, and the hibernation note only where hibernation is modelled."""

from __future__ import annotations

import re
from typing import Any

import vmlife_hibernation

import vmlife
from vmlife.io.activity_log import GUEST_SHUTDOWN_NOTE, HIBERNATION_NOTE, read_activity_log
from vmlife.render import diagram

PLUGIN_INK = "#5B3F8C"


def hibernation_dot() -> str:
    with vmlife.registered(vmlife_hibernation, name="hibernation"):
        return diagram(vmlife.lifecycle(), "hibernation").render("dot").decode()


def test_a_plugin_axis_enters_and_leaves_one_no_state_node() -> None:
    dot = hibernation_dot()
    assert "_end_" not in dot  # leaving the hibernation axis does not delete the VM
    start = re.search(r"(s_hibernation__start_) \[.*tooltip=\"([^\"]*)\"", dot)
    assert start is not None and start.group(2) == "no Hibernation state"
    assert "s_hibernation__hibernated -> s_hibernation__start_ [label=<start, redeploy, " \
        "delete>]" in dot
    assert "s_hibernation__start_ -> s_hibernation__hibernated" in dot
    assert "no VM yet" not in dot


def test_the_vm_axes_keep_no_vm_yet_and_deleted() -> None:
    dot = diagram(vmlife.lifecycle(), "power").render("dot").decode()
    assert 'tooltip="no VM yet"' in dot and 'tooltip="deleted"' in dot


def test_a_mixed_edge_colours_only_the_plugins_operations() -> None:
    dot = hibernation_dot()
    [edge] = [line for line in dot.splitlines() if "-> s_hibernation__hibernated" in line]
    assert "fontcolor" not in edge  # deallocate is vmlife's own: the label keeps the ink colour
    assert f'deallocate,<BR/><FONT COLOR="{PLUGIN_INK}">hibernate [hibernation]</FONT>' in edge


class Maintenance:
    @vmlife.hookimpl
    def register_states(self, register: Any) -> None:
        register(vmlife.Axis("maintenance", "MaintenanceState", "Maintenance"))
        register(vmlife.State("done", "maintenance", "MaintenanceState/done", "Done"))

    @vmlife.hookimpl
    def register_operations(self, register: Any) -> None:
        register(vmlife.Operation(
            "perform_maintenance", (vmlife.Phase({"maintenance": "done"}),),
            sources=frozenset({"running"}), final={"maintenance": "done"}))


def test_an_edge_of_plugin_operations_only_takes_the_plugin_colour() -> None:
    with vmlife.registered(Maintenance(), name="maint"):
        dot = diagram(vmlife.lifecycle(), "maintenance").render("dot").decode()
    [edge] = [line for line in dot.splitlines() if "-> s_maintenance__done" in line]
    assert f'fontcolor="{PLUGIN_INK}"' in edge and "<FONT" not in edge


AL = "Microsoft.Compute/virtualMachines"
LOG = [
    {"correlationId": "c", "eventDataId": f"e{i}", "eventTimestamp": t,
     "operationName": {"value": f"{AL}/deallocate/action"}, "status": {"value": s},
     "resourceId": f"/subscriptions/s/resourceGroups/rg/providers/{AL}/web-1"}
    for i, (s, t) in enumerate([("Started", "2024-03-04T18:00:00Z"),
                                ("Succeeded", "2024-03-04T18:01:30Z")])
]


def test_the_hibernation_note_only_when_hibernation_is_modelled() -> None:
    assert read_activity_log(LOG).notes == [GUEST_SHUTDOWN_NOTE]
    with vmlife.registered(vmlife_hibernation, name="hibernation"):
        assert read_activity_log(LOG).notes == [GUEST_SHUTDOWN_NOTE, HIBERNATION_NOTE]
