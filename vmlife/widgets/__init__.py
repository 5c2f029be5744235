"""Jupyter widgets: a thin shell over vmlife's pure functions.

Only this package imports ipywidgets. Each widget also has a static representation (HTML and a
PNG or SVG picture), so a notebook run headless, rendered on GitHub or checked by nbval still
shows something real.
"""

from __future__ import annotations

try:
    import ipywidgets  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        'vmlife.widgets needs ipywidgets and matplotlib: pip install "vmlife[notebook]"'
    ) from exc

from .billing import BillingTimeline
from .explorer import LifecycleExplorer

__all__ = ["BillingTimeline", "LifecycleExplorer"]
