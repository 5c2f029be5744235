"""Plugins loaded through fake entry points by tests/test_plugins.py."""

from __future__ import annotations

from typing import Any

import vmlife


class _Alpha:
    @vmlife.hookimpl
    def register_operations(self, register: Any) -> None:
        pass


class _Beta:
    @vmlife.hookimpl
    def register_states(self, register: Any) -> None:
        pass


alpha = _Alpha()
beta = _Beta()


class _Lock:
    @vmlife.hookimpl
    def register_states(self, register: Any) -> None:
        register(vmlife.Axis("lock", "LockState"))


class _Typo:
    @vmlife.hookimpl
    def gaurd_operation(self, operation: Any) -> None:  # misspelled on purpose
        return None


class _Orphan:
    @vmlife.hookimpl
    def register_states(self, register: Any) -> None:
        register(vmlife.State("ghost", "ghosts", "GhostState/Ghost", "Ghost"))


lock_one = _Lock()
lock_two = _Lock()
typo = _Typo()
orphan = _Orphan()
