"""The folder ``vmlife pull`` writes, read as one input by ``bill`` and ``report``.

A *pull folder* holds (see :mod:`vmlife.azure.pull`)::

    activity_log.json   required: an Activity Log in the REST shape ({"value": [...]})
    inventory.json      optional: the VMs (ARM List shape), read by vmlife.io.inventory
    prices/*.json       optional: Retail Prices API pages, read in name order
    pull.json           optional: what was pulled, when ("format": "vmlife.pull")

Nothing in the folder is modified. Reading it gives the Activity Log's timelines, each VM's
attributes (size, OS, region, priority, ...) from the inventory, joined by resource id
(:mod:`vmlife.io.inventory`), and a price table by region from the price pages
(:func:`vmlife.billing.prices.load_prices`). A folder made by hand with the same file names
reads the same way.

Example:
    >>> from vmlife.io.folder import is_pull_folder
    >>> is_pull_folder("no-such-folder")
    False
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from ..billing.prices import PriceTable
    from ..timeutil import TimeLike
    from .history import Reconstruction
    from .inventory import Inventory

__all__ = [
    "ACTIVITY_LOG",
    "INVENTORY",
    "MANIFEST",
    "PRICES",
    "FolderInput",
    "PullFolder",
    "is_pull_folder",
    "read_folder",
    "read_folder_input",
]

ACTIVITY_LOG = "activity_log.json"
INVENTORY = "inventory.json"
PRICES = "prices"
MANIFEST = "pull.json"
FORMAT = "vmlife.pull"


def is_pull_folder(source: object) -> bool:
    """Whether ``source`` names a folder (the only folders vmlife reads are pull folders)."""
    return isinstance(source, str | os.PathLike) and os.path.isdir(source)


@dataclass(frozen=True)
class PullFolder:
    """The files of a pull folder.

    Attributes:
        path: the folder.
        activity_log: its Activity Log file.
        inventory: its inventory file, when there is one.
        prices: its price files, in name order.
        manifest: the content of ``pull.json`` (empty when the folder has none).
    """

    path: Path
    activity_log: Path
    inventory: Path | None = None
    prices: tuple[Path, ...] = ()
    manifest: Mapping[str, Any] = field(default_factory=dict)

    def read_inventory(self, *, strict: bool = False) -> Inventory | None:
        """The inventory (:func:`vmlife.io.inventory.read_inventory`), or None."""
        from .inventory import read_inventory

        return None if self.inventory is None else read_inventory(self.inventory, strict=strict)

    def price_table(self) -> PriceTable | None:
        """The prices of the folder's price pages, by region
        (:func:`vmlife.billing.prices.load_prices` on ``prices/``), or None without any.

        Raises:
            InputError: a price file that is not a Retail Prices API page (naming it).
        """
        from ..billing.prices import load_prices

        if not self.prices:
            return None
        table = load_prices(self.path / PRICES)
        info = self.manifest.get("prices")
        fetched = info.get("fetched") if isinstance(info, Mapping) else None
        if table.date is None and isinstance(fetched, str):
            table.date = fetched
        return table


@dataclass
class FolderInput:
    """A pull folder read for billing (see :func:`read_folder_input`).

    Attributes:
        history: the timelines, anomalies and notes of its Activity Log.
        prices: its price table, or None when it has no price files.
        inventory: its inventory (or the one given instead), or None.
        start, end: the period pulled (``pull.json``), or None: a bill of the folder starts
            and ends there unless told otherwise, so a VM's last state bills up to the pull.
    """

    history: Reconstruction
    prices: PriceTable | None
    inventory: Inventory | None = None
    start: str | None = None
    end: str | None = None


def read_folder(path: str | os.PathLike[str]) -> PullFolder:
    """The files of a pull folder, checked.

    Raises:
        InputError: not a folder, no ``activity_log.json`` in it, or a ``pull.json`` that is
            not a vmlife pull manifest (each naming the folder and the file).
    """
    from .source import read_json

    folder = Path(path)
    if not folder.is_dir():
        raise InputError("not a folder", source=str(folder))
    log = folder / ACTIVITY_LOG
    if not log.is_file():
        raise InputError(
            f"a folder given as input must hold {ACTIVITY_LOG} (as 'vmlife pull -o DIR' "
            "writes it)", source=str(folder), field=ACTIVITY_LOG,
        )
    manifest: Mapping[str, Any] = {}
    if (folder / MANIFEST).is_file():
        data = read_json(folder / MANIFEST).value
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise InputError(f"not a vmlife pull manifest (expected \"format\": \"{FORMAT}\")",
                             source=str(folder / MANIFEST), field="format")
        manifest = data
    inv = folder / INVENTORY
    prices = tuple(sorted(p for p in (folder / PRICES).glob("*.json") if p.is_file()))
    return PullFolder(folder, log, inv if inv.is_file() else None, prices, manifest)


def read_folder_input(
    path: str | os.PathLike[str],
    *,
    format: str = "auto",
    initial: str | Mapping[str, str | None] | None = None,
    strict: bool = False,
    quiet: bool = False,
    start: TimeLike | None = None,
    inventory: Inventory | None = None,
) -> FolderInput:
    """A pull folder as ``bill`` and ``report`` read it: timelines, prices, inventory, period.

    The Activity Log is read with :func:`vmlife.io.history.read_input` (same arguments;
    ``start`` defaults to the start of the period pulled) with the folder's inventory, which
    gives each VM its attributes (size, OS, region, priority, ...) before the replay;
    ``inventory`` replaces the folder's own.

    Raises:
        InputError: as :func:`read_folder`, the readers and the price table raise it.
    """
    from .history import read_input

    folder = read_folder(path)
    period = [folder.manifest.get(k) for k in ("start", "end")]
    first, last = (p if isinstance(p, str) else None for p in period)
    inv = inventory if inventory is not None else folder.read_inventory(strict=strict)
    history = read_input(str(folder.activity_log), format=format, initial=initial,
                         strict=strict, quiet=quiet, start=start if start is not None else first,
                         inventory=inv)
    pulled = folder.manifest.get("pulled_at")
    what = f"pulled {pulled}" if isinstance(pulled, str) else "a pull folder"
    held = [ACTIVITY_LOG] + ([INVENTORY] if folder.inventory is not None else []) + (
        [f"{len(folder.prices)} price files"] if folder.prices else [])
    history.notes.append(f"Read {folder.path} ({what}): {', '.join(held)}.")
    return FolderInput(history, folder.price_table(), inv, first, last)
