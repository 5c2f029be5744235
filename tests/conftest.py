"""Test isolation: tests never see pip-installed plugins unless they ask for them.

``VMLIFE_LOAD_PLUGINS`` is set to empty (the bare core plus vmlife's default plugins) before
anything loads plugins, and the autouse ``bare_core`` fixture (from :mod:`vmlife.testing`)
keeps it so for every test; a test that wants a plugin registers it with
``vmlife.registered(...)`` or sets ``VMLIFE_LOAD_PLUGINS`` itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["VMLIFE_LOAD_PLUGINS"] = ""

from vmlife.testing import bare_core  # noqa: F401  (autouse: no installed plugins)

DATA = Path(__file__).parent / "data"



@pytest.fixture
def data() -> Path:
    return DATA
