"""The LifecycleExplorer widget: drive a simulated VM by clicking its operations."""

from __future__ import annotations

import json
from html import escape
from typing import Any

import ipywidgets as w

from ..billing.editions import billing_category
from ..billing.meter import bill
from ..engine import VM, Timing
from ..errors import VmlifeError
from ..render.html import bill_table_html
from ..render.palette import INK, swatch_html
from ..timeutil import TimeLike, iso

__all__ = ["LifecycleExplorer"]

_DEFAULT_START = "2024-01-01T08:00:00Z"


class LifecycleExplorer(w.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """The lifecycle diagram with the VM's current state highlighted, and a button per operation.

    Buttons are enabled only when the operation is allowed now; a disabled button's tooltip
    says why (the lifecycle's rule or a plugin's guard). Plugins' operations appear on their
    own. Each click runs the operation after the waiting time chosen ("then wait"), so the
    running bill grows as a real VM's would.

    Args:
        vm: the VM to explore; default a new VM with no state yet (create it first).
        scope: the diagram: "power", "provisioning", "os", "lifecycle" or an axis id.
        edition: the billing edition that colours the diagram and prices the bill.
        start: the simulated clock's start for a new VM.
        timing: the timing model for a new VM.
        **attributes: attributes of a new VM (``os="windows"``, ``hibernation_enabled=True``).
    """

    def __init__(
        self,
        vm: VM | None = None,
        *,
        scope: str = "power",
        edition: str | None = None,
        start: TimeLike = _DEFAULT_START,
        timing: Timing | None = None,
        **attributes: Any,
    ) -> None:
        self._start, self._timing, self._attributes = start, timing, attributes
        self.vm = vm if vm is not None else self._new_vm()
        self.scope = scope
        lc = self.vm.lifecycle
        eds = sorted(lc.editions.values(), key=lambda e: e.order)
        self.edition_picker = w.Dropdown(
            options=[(f"{e.id} ({e.date})", e.id) for e in eds],
            value=lc.edition(edition).id,
            description="Edition",
        )
        self.wait_hours = w.BoundedFloatText(
            value=1.0, min=0.0, max=24 * 365, step=0.5, description="then wait (h)",
            style={"description_width": "initial"}, layout=w.Layout(width="180px"),
        )
        self.buttons: dict[str, w.Button] = {}
        for op in lc.operations.values():
            button = w.Button(description=op.id, layout=w.Layout(width="auto"))
            button.add_class("vmlife-op")
            button.add_class(f"vmlife-op-{op.id}")
            button.on_click(self._clicked)
            self.buttons[op.id] = button
        self.reset_button = w.Button(description="reset", button_style="warning",
                                     icon="undo", layout=w.Layout(width="auto"))
        self.reset_button.on_click(lambda _b: self.reset())
        self.diagram = w.HTML()
        self.diagram.add_class("vmlife-diagram")
        self.state_label = w.HTML()
        self.state_label.add_class("vmlife-state")
        self.message = w.HTML()
        self.statuses = w.HTML()
        self.bill_view = w.HTML()
        self.history = w.HTML()
        self.edition_picker.observe(lambda _c: self.refresh(), names="value")
        tabs = w.Tab(children=[self.statuses, self.bill_view, self.history])
        for i, title in enumerate(("Instance view", "Running bill", "History")):
            tabs.set_title(i, title)
        super().__init__([
            w.HBox([self.edition_picker, self.wait_hours, self.reset_button]),
            self.state_label,
            w.HBox(list(self.buttons.values()), layout=w.Layout(flex_flow="row wrap")),
            self.message,
            self.diagram,
            tabs,
        ])
        self.add_class("vmlife-explorer")
        self.refresh()

    def _new_vm(self) -> VM:
        return VM("explorer", start=self._start, timing=self._timing, **self._attributes)

    # ------------------------------------------------------------------ actions
    def run(self, operation: str, **params: Any) -> None:
        """Run ``operation`` now (as a click does) and refresh; errors are shown, not raised."""
        try:
            self.vm.do(operation, **params)
            self.vm.wait(self.wait_hours.value * 3600)
            self.message.value = ""
        except VmlifeError as exc:
            self.message.value = (
                f'<span style="color:{INK["failure"]}">{escape(str(exc))}</span>'
            )
        self.refresh()

    def reset(self) -> None:
        """Start again with a new VM."""
        self.vm = self._new_vm()
        self.message.value = ""
        self.refresh()

    def _clicked(self, button: w.Button) -> None:
        self.run(button.description)

    # ------------------------------------------------------------------ views
    def diagram_svg(self) -> str:
        """The diagram's SVG with the current state highlighted, scaled to the output's width."""
        from ..render import diagram
        from ..render.html import inline_svg

        svg = inline_svg(diagram(self.vm, self.scope, edition=self.edition_picker.value).svg())
        # Graphviz writes a fixed size in points; let the picture shrink to fit the notebook
        return svg.replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1)

    def refresh(self) -> None:
        """Update every view from the VM."""
        vm = self.vm
        for op_id, button in self.buttons.items():
            reasons = vm.why_not(op_id)  # what vm.allowed() asks, once per operation
            button.disabled = bool(reasons)
            button.tooltip = ("; ".join(reasons) if reasons
                              else vm.lifecycle.operation(op_id).description)
        category = billing_category(vm.state, vm.lifecycle.edition(self.edition_picker.value))
        chip = f" {swatch_html(category, category)}" if category else ""
        self.state_label.value = (
            f"<b>{escape(vm.name)}</b>: {escape(vm.state.describe())}{chip} "
            f"<small>at {escape(iso(vm.clock) or '')}</small>"
        )
        try:
            self.diagram.value = self.diagram_svg()
        except VmlifeError as exc:  # no Graphviz engine: say what to install
            self.diagram.value = f"<pre>{escape(str(exc))}</pre>"
        self.statuses.value = (
            f"<pre>{escape(json.dumps(vm.statuses(), indent=2), quote=False)}</pre>"
        )
        if vm.timeline.start is not None:
            current = bill(vm.timeline, edition=self.edition_picker.value, end=vm.clock)
            self.bill_view.value = bill_table_html(current)
        else:
            self.bill_view.value = "<i>No VM yet: nothing billed.</i>"
        from ..render.html import timeline_html

        self.history.value = timeline_html(vm.timeline)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        allowed = ", ".join(self.vm.allowed()) or "(none)"
        bundle["text/html"] = (
            f'<div class="vmlife-explorer-static">{self.state_label.value}'
            f"<p>Allowed now: {escape(allowed)}</p>{self.diagram.value}</div>"
        )
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return f"LifecycleExplorer({self.vm.name!r}: {self.vm.state.describe()})"

