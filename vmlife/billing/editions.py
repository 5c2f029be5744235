"""Billing editions: each published revision of Azure's billing rules, as data.

Azure's "states and billing" page has changed over the years and its revisions disagree (is
Starting billed? is Stopped?). vmlife does not pick one silently: each revision is an
:class:`Edition` with an id, a date, its source document and, per state, a :class:`Rule` saying
which cost components bill, with the document's own wording and footnote kept.

Components:

* ``compute``: the hardware / instance meter.
* ``license``: software licences (Windows, SQL Server); zero-priced for Linux.
* ``other``: disks, public IPs and networking. Not part of any rule: it bills whenever the VM
  exists, from the start of create to the end of delete, whatever the power state (every
  revision's footnote: "Disks and Networking ... continue to incur charges").

How a composite state is billed under an edition: the rule of its power state decides. A state
on another axis (a plugin's) *inherits* that: a VM with maintenance scheduled bills as its power
state says. Only a state the edition lists in :attr:`Edition.overrides` replaces the power
state's rule while it holds: hibernation says "deallocated and hibernated: no compute, no
licence". A plugin chooses with :attr:`BillingRules.mode` (``"inherit"``, the default, or
``"override"``); ``vmlife plugins --check`` lists every override. A state the edition has no
rule for (the Creating power state before 003) bills no compute or licence: a modelling choice,
flagged by :meth:`Edition.rule_for`. Two holds apply on top of the rules, in every edition
(:mod:`vmlife.billing.meter`): a reading with no known power state (none, or ``unknown``) bills
like the last known one, and the steps of a restart bill like the running state it started
from (the VM stays on its host).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, get_args

from ..errors import UnknownNameError

if TYPE_CHECKING:  # pragma: no cover
    from ..model import VMState

__all__ = [
    "BILLED",
    "BILLED_WITHOUT_LICENCE",
    "CATEGORIES",
    "COMPONENTS",
    "HARDWARE_ONLY",
    "LICENCE_ONLY",
    "NOT_BILLED_CATEGORY",
    "UNKNOWN",
    "BillingRules",
    "Component",
    "Edition",
    "Mode",
    "Rule",
    "billing_category",
    "diff_editions",
]

Component = Literal["compute", "license", "other"]
#: How a plugin's billing rules compose with the power state's (see :class:`BillingRules`).
Mode = Literal["inherit", "override"]
MODES: tuple[str, ...] = get_args(Mode)
#: All cost components, in display order.
COMPONENTS: tuple[Component, ...] = ("compute", "license", "other")
RULE_COMPONENTS: frozenset[str] = frozenset({"compute", "license"})

#: Billing categories of a state under an edition (what the pictures colour by).
BILLED = "billed"
HARDWARE_ONLY = "hardware only"
BILLED_WITHOUT_LICENCE = "billed without licence"
LICENCE_ONLY = "licence only"
NOT_BILLED_CATEGORY = "not billed"
UNKNOWN = "unknown"
#: Every category, in legend order.
CATEGORIES: tuple[str, ...] = (
    BILLED, HARDWARE_ONLY, BILLED_WITHOUT_LICENCE, LICENCE_ONLY, NOT_BILLED_CATEGORY, UNKNOWN,
)


@dataclass(frozen=True)
class Rule:
    """Which of ``compute`` and ``license`` bill in one state.

    Attributes:
        bills: the components billed (a subset of ``{"compute", "license"}``).
        wording: the document's own words in its billing column ("Billed (Hardware only)").
        note: the footnote or remark that goes with it, if any.
        known: False only for :data:`NOT_BILLED`, the rule vmlife applies where the edition
            says nothing (its category is ``unknown``).
    """

    bills: frozenset[str]
    wording: str
    note: str = ""
    known: bool = True

    def __post_init__(self) -> None:
        extra = set(self.bills) - RULE_COMPONENTS
        if extra:
            raise ValueError(
                f"a rule bills only compute and/or license, not {sorted(extra)} "
                f"('other' bills whenever the VM exists)"
            )

    @property
    def category(self) -> str:
        """One of :data:`CATEGORIES`.

        ``hardware only`` and ``billed without licence`` bill the same component (compute)
        and differ in what the document says: the earliest draft splits its billing column
        into "Hardware + Software" and "Hardware only", while the lifecycle page bills Stopped
        ("Billed*") with a footnote that software licences do not incur charges. A compute-only
        rule whose wording names hardware is ``hardware only``; any other compute-only rule is
        ``billed without licence`` (a modelling choice: the documents give no name for it).
        The rule vmlife applies where an edition has none is ``unknown``.
        """
        if not self.known:
            return UNKNOWN
        if self.bills == RULE_COMPONENTS:
            return BILLED
        if self.bills == {"compute"}:
            return HARDWARE_ONLY if "hardware" in self.wording.lower() else BILLED_WITHOUT_LICENCE
        if self.bills == {"license"}:
            return LICENCE_ONLY
        return NOT_BILLED_CATEGORY


NOT_BILLED = Rule(
    frozenset(), "(no rule)", "The edition lists no rule for this state.", known=False
)


@dataclass(frozen=True)
class Edition:
    """One revision of Azure's billing rules.

    Attributes:
        id: short id used on the command line ("2023-10").
        title: the document's title.
        date: the revision's date as published ("2023-10-31"), or what is known.
        source: the document: a file under ``shared/spec/`` or a description.
        rules: ``"axis.state"`` -> :class:`Rule`.
        order: sort key, oldest first; the highest is the default edition.
        notes: remarks on the edition as a whole (footnotes, modelling choices).
        plugin: the plugin that registered it (filled in when assembled).
        overrides: ``"axis.state"`` keys, not on the power axis, whose rule replaces the power
            state's while that state holds (``hibernation.hibernated``). Filled in from
            :class:`BillingRules` with ``mode="override"``; an edition a plugin registers whole
            lists its own.
    """

    id: str
    title: str
    date: str
    source: str
    rules: Mapping[str, Rule]
    order: int = 0
    notes: tuple[str, ...] = ()
    plugin: str = ""
    overrides: frozenset[str] = frozenset()

    def rule_for(self, state_key: str) -> Rule:
        """The rule for ``"axis.state"``; :data:`NOT_BILLED` when the edition has none."""
        return self.rules.get(state_key, NOT_BILLED)

    def has_rule(self, state_key: str) -> bool:
        return state_key in self.rules


@dataclass(frozen=True)
class BillingRules:
    """Rules a plugin adds to existing editions, for its own states.

    A plugin's axis composes with the power state's billing in one of two ways, said here
    explicitly:

    * ``mode="inherit"`` (the default): the plugin's states bill as the power state they occur
      with. Register no rule for them at all (a maintenance axis: a running VM with maintenance
      scheduled bills as running). Rules for the plugin's own *power* states (a new
      ``power.*`` state) are allowed in this mode: they are the power axis's rules.
    * ``mode="override"``: while one of the listed states holds, its rule replaces the power
      state's for compute and licence (hibernation: deallocated and hibernated bills nothing).
      ``vmlife plugins --check`` reports every override, and ``diff_editions`` sees them.

    A rule for a non-power state with ``mode="inherit"`` is a
    :class:`~vmlife.errors.DefinitionError`: it would either change nothing or change a bill
    silently, and vmlife does not guess which was meant.

    Attributes:
        rules: ``"axis.state"`` -> :class:`Rule`.
        editions: the edition ids they apply to; ``None`` means every edition.
        note: a remark shown with the rules.
        mode: ``"inherit"`` or ``"override"`` (see above).
    """

    rules: Mapping[str, Rule]
    editions: tuple[str, ...] | None = None
    note: str = field(default="")
    mode: Mode = "inherit"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(
                f"BillingRules mode must be 'inherit' or 'override', not {self.mode!r}"
            )


def billing_category(state: VMState, edition: Edition) -> str | None:
    """The billing category of a composite state under an edition (None when there is no VM).

    The same precedence as the meter (:func:`vmlife.billing.meter.billed_components`): the
    power state's rule, replaced by the rule of a state on another axis that the edition lists
    in :attr:`Edition.overrides`. A VM with no power state, or one the edition has no rule for
    (``unknown``), is ``unknown``.
    """
    if not state.exists:
        return None
    power = state.power
    rule = edition.rule_for(f"power.{power}") if power is not None else NOT_BILLED
    if edition.overrides:
        for axis, sid in state.items():
            if axis != "power" and f"{axis}.{sid}" in edition.overrides:
                rule = edition.rule_for(f"{axis}.{sid}")
    return rule.category


def diff_editions(a: Edition, b: Edition, states: Iterable[str] | None = None) -> list[str]:
    """The ``"axis.state"`` keys whose billing differs between two editions.

    A state differs if the billed components differ, or if one edition has a rule for it and
    the other has none (the Creating power state exists only in the 2023 revision).
    """
    keys = sorted(set(a.rules) | set(b.rules)) if states is None else list(states)
    return [
        k
        for k in keys
        if a.has_rule(k) != b.has_rule(k)
        or a.rule_for(k).bills != b.rule_for(k).bills
        or (k in a.overrides) != (k in b.overrides)
    ]


def find_edition(editions: Mapping[str, Edition], edition_id: str | None) -> Edition:
    """The edition with this id; the newest (highest ``order``) for None."""
    if not editions:
        raise UnknownNameError("edition", edition_id, ())
    if edition_id is None:
        return max(editions.values(), key=lambda e: e.order)
    try:
        return editions[edition_id]
    except KeyError:
        raise UnknownNameError("edition", edition_id, editions) from None
