"""Test helpers for vmlife and its plugins' test suites (needs pytest only: ``pip install
'vmlife[testing]'``; vmlife never imports this module).

Tests should not see whatever plugins happen to be pip-installed. In a ``conftest.py``::

    import os

    os.environ["VMLIFE_LOAD_PLUGINS"] = ""     # before anything loads plugins

    from vmlife.testing import bare_core  # noqa: F401  (an autouse fixture)

Each test then starts and ends with the bare core (vmlife's default plugins only); a test that
wants a plugin registers it with ``vmlife.registered(plugin)``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import plugins

__all__ = ["bare_core"]


@pytest.fixture(autouse=True)
def bare_core(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Load no installed plugins during the test, and forget loaded plugins before and after."""
    monkeypatch.setenv("VMLIFE_LOAD_PLUGINS", "")
    plugins.reset()
    yield
    plugins.reset()
