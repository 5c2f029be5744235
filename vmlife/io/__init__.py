"""Readers of real Azure inputs (instance views, ``az`` output, Activity Logs, snapshots)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .instance_view import read_instance_views, read_instance_views_file

__all__ = ["read_instance_views", "read_instance_views_file"]


def __getattr__(name: str) -> Any:
    # Imported on first use (PEP 562): ``vmlife.io.inventory`` and the other readers do not
    # need the instance-view reader (and the lifecycle it imports).
    if name in __all__:
        from . import instance_view

        value = getattr(instance_view, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'vmlife.io' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__} - {"Any", "TYPE_CHECKING"})
