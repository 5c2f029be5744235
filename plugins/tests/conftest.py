"""Test isolation for the cross-plugin tests: installed plugins load only when a test asks."""

from __future__ import annotations

import os

os.environ["VMLIFE_LOAD_PLUGINS"] = ""

from vmlife.testing import bare_core  # noqa: F401  (autouse: no installed plugins)

