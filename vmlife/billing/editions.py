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

How a composite state is billed under an edition: the rule of its power state decides; a
plugin axis with a rule of its own in the edition (say ``hibernation.hibernated``) overrides
it. A state the edition has no rule for (the Creating power state before 003, ``unknown``)
bills no compute or licence: a modelling choice, flagged by :meth:`Edition.rule_for`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..errors import UnknownNameError

__all__ = [
    "COMPONENTS",
    "BillingRules",
    "Component",
    "Edition",
    "Rule",
    "diff_editions",
]

Component = Literal["compute", "license", "other"]
#: All cost components, in display order.
COMPONENTS: tuple[Component, ...] = ("compute", "license", "other")
RULE_COMPONENTS: frozenset[str] = frozenset({"compute", "license"})


@dataclass(frozen=True)
class Rule:
    """Which of ``compute`` and ``license`` bill in one state.

    Attributes:
        bills: the components billed (a subset of ``{"compute", "license"}``).
        wording: the document's own words in its billing column ("Billed (Hardware only)").
        note: the footnote or remark that goes with it, if any.
    """

    bills: frozenset[str]
    wording: str
    note: str = ""

    def __post_init__(self) -> None:
        extra = set(self.bills) - RULE_COMPONENTS
        if extra:
            raise ValueError(
                f"a rule bills only compute and/or license, not {sorted(extra)} "
                f"('other' bills whenever the VM exists)"
            )

    @property
    def category(self) -> str:
        """``billed``, ``hardware only``, ``licence excluded`` or ``not billed``."""
        if self.bills == RULE_COMPONENTS:
            return "billed"
        if self.bills == {"compute"}:
            return "hardware only"
        if self.bills == {"license"}:
            return "licence only"
        return "not billed"


NOT_BILLED = Rule(frozenset(), "(no rule)", "The edition lists no rule for this state.")


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
    """

    id: str
    title: str
    date: str
    source: str
    rules: Mapping[str, Rule]
    order: int = 0
    notes: tuple[str, ...] = ()
    plugin: str = ""

    def rule_for(self, state_key: str) -> Rule:
        """The rule for ``"axis.state"``; :data:`NOT_BILLED` when the edition has none."""
        return self.rules.get(state_key, NOT_BILLED)

    def has_rule(self, state_key: str) -> bool:
        return state_key in self.rules


@dataclass(frozen=True)
class BillingRules:
    """Rules a plugin adds to existing editions, for its own states.

    Attributes:
        rules: ``"axis.state"`` -> :class:`Rule`.
        editions: the edition ids they apply to; ``None`` means every edition.
    """

    rules: Mapping[str, Rule]
    editions: tuple[str, ...] | None = None
    note: str = field(default="")


def diff_editions(a: Edition, b: Edition, states: Iterable[str] | None = None) -> list[str]:
    """The ``"axis.state"`` keys whose billing differs between two editions.

    A state differs if the billed components differ, or if one edition has a rule for it and
    the other has none (the Creating power state exists only in the 2023 revision).
    """
    keys = sorted(set(a.rules) | set(b.rules)) if states is None else list(states)
    return [
        k
        for k in keys
        if a.has_rule(k) != b.has_rule(k) or a.rule_for(k).bills != b.rule_for(k).bills
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
