"""Loading plugins: the default plugins, pip-installed ones, and throwaway ones for a test.

Plugins are loaded lazily, once, the first time something needs the lifecycle:

1. the default plugins in :data:`DEFAULT_PLUGINS` (the Azure lifecycle itself; they are
   registered exactly like any other plugin and are always loaded);
2. the entry points in group ``vmlife`` of installed distributions, filtered by the environment
   variable ``VMLIFE_LOAD_PLUGINS``: unset loads all, empty loads none (the bare core), and a
   comma-separated list loads only those entry-point names.

``VMLIFE_TRACE=1`` writes every hook call to standard error.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pluggy

from . import hookspecs
from .errors import PluginError

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "get_plugin_manager",
    "hookimpl",
    "list_plugins",
    "reads",
    "registered",
    "reset",
]

hookimpl = pluggy.HookimplMarker("vmlife")

_F = TypeVar("_F", bound=Callable[..., Any])

#: The attribute :func:`reads` sets on a hook implementation.
READS_ATTRIBUTE = "vmlife_reads"


@dataclass(frozen=True)
class Reads:
    """What a ``guard_operation`` or ``adjust_operation`` implementation reads (see :func:`reads`).

    Attributes:
        axes: the state axes it reads from ``vm.state``.
        attributes: the VM attributes it reads from ``vm.attributes``.
    """

    axes: frozenset[str]
    attributes: frozenset[str]


def reads(*, axes: Iterable[str] = (), attributes: Iterable[str] = ()) -> Callable[[_F], _F]:
    """Declare what a ``guard_operation`` or ``adjust_operation`` implementation reads.

    A declared hook promises that its answer depends only on the operation, its parameters,
    the VM's state on ``axes`` and the VM's ``attributes`` named (read with
    ``vm.attributes.get(name)``), and on nothing else of the VM (not its name, clock or
    timeline). vmlife then asks it once per distinct (state, operation, parameters, values of
    the attributes every declared hook reads) and remembers the answer on the lifecycle, which
    never changes once built: operations that repeat cost a dictionary look-up instead of a
    pluggy call per hook. The memo is keyed by the whole composite state, which holds every
    declared axis; the axes are checked against the lifecycle when it is assembled.

    An undeclared implementation is asked every time, and so are all the others of the same
    hook while one is undeclared: existing plugins keep working unchanged.

    Example::

        @vmlife.hookimpl
        @vmlife.reads(axes=("power",), attributes=("priority",))
        def guard_operation(vm, operation):
            if operation.id == "evict" and vm.attributes.get("priority") != "spot":
                return "only spot VMs are evicted"
            return None
    """
    declared = Reads(frozenset(axes), frozenset(attributes))
    for name in (*declared.axes, *declared.attributes):
        if not isinstance(name, str) or not name:
            raise TypeError(f"reads() takes names (non-empty strings), not {name!r}")

    def mark(function: _F) -> _F:
        setattr(function, READS_ATTRIBUTE, declared)
        return function

    return mark


def declared_reads(function: Callable[..., Any]) -> Reads | None:
    """What :func:`reads` declared for a hook implementation, or None."""
    found = getattr(function, READS_ATTRIBUTE, None)
    return found if isinstance(found, Reads) else None

#: Entry-point group that pip-installed plugins declare.
ENTRY_POINT_GROUP = "vmlife"

#: Modules registered first, always. The core knows nothing else special about them.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "vmlife.default_plugins.azure",
    "vmlife.default_plugins.editions",
)

_lock = threading.RLock()
_pm: pluggy.PluginManager | None = None
_generation = 0
_dists: dict[str, tuple[str, str]] = {}


def tracing() -> bool:
    """True when ``VMLIFE_TRACE`` asks for every hook call to be written to standard error."""
    return bool(os.environ.get("VMLIFE_TRACE"))


def generation() -> int:
    """A counter bumped whenever the set of registered plugins changes."""
    return _generation


def _bump() -> None:
    global _generation
    _generation += 1


def wanted_entry_points() -> list[Any]:
    """The entry points of group ``vmlife`` that ``VMLIFE_LOAD_PLUGINS`` selects, by name."""
    # imported here, not at module level: it is a fifth of `import vmlife`'s time
    from importlib import metadata

    raw = os.environ.get("VMLIFE_LOAD_PLUGINS")
    eps = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    if raw is None:
        return sorted(eps, key=lambda e: e.name)
    names = [n.strip() for n in raw.split(",") if n.strip()]
    by_name = {e.name: e for e in eps}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise PluginError(
            f"VMLIFE_LOAD_PLUGINS names {', '.join(missing)}, which no installed distribution "
            f"provides; installed vmlife plugins: {', '.join(sorted(by_name)) or '(none)'}",
            plugin=missing[0],
        )
    return [by_name[n] for n in names]


def _load(pm: pluggy.PluginManager) -> None:
    for modname in DEFAULT_PLUGINS:
        module = importlib.import_module(modname)
        pm.register(module, name=modname)
    for ep in wanted_entry_points():
        dist = ep.dist
        dist_name = dist.metadata["Name"] if dist is not None else "?"
        dist_version = dist.version if dist is not None else "?"
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        plugin = load_entry_point(ep)
        register_named(pm, plugin, ep.name, dist_name)
        _dists[ep.name] = (dist_name, dist_version)
    _check_pending(pm)


def load_entry_point(ep: Any) -> Any:
    """Import the plugin an entry point names.

    Raises:
        PluginError: naming the entry point and its distribution when the import fails.
    """
    dist = ep.dist
    dist_name = dist.metadata["Name"] if dist is not None else "?"
    dist_version = dist.version if dist is not None else "?"
    try:
        return ep.load()
    except Exception as exc:
        raise PluginError(
            f"plugin {ep.name!r} (distribution {dist_name} {dist_version}) failed to import: "
            f"{type(exc).__name__}: {exc}. Uninstall it, or leave it out with "
            f"VMLIFE_LOAD_PLUGINS=<the plugins you want>",
            plugin=ep.name,
            distribution=dist_name,
        ) from exc


def register_named(
    pm: pluggy.PluginManager, plugin: Any, name: str, distribution: str | None = None
) -> None:
    """``pm.register(plugin, name)``, with pluggy's errors turned into a named PluginError."""
    try:
        pm.register(plugin, name=name)
    except ValueError as exc:  # the name or the object is registered already
        raise PluginError(f"plugin {name!r}: {exc}", plugin=name,
                          distribution=distribution) from exc
    except pluggy.PluginValidationError as exc:  # e.g. an argument the hook does not have
        raise PluginError(f"plugin {name!r}: {exc}", plugin=name,
                          distribution=distribution) from exc


def known_hooks() -> list[str]:
    """The hooks vmlife specifies (the names a ``@vmlife.hookimpl`` function may have)."""
    return sorted(n for n in hookspecs.__all__ if n != "hookspec")


def unknown_hooks(pm: pluggy.PluginManager, plugin: Any) -> list[str]:
    """The hook implementations of ``plugin`` that match no vmlife hook (misspellings)."""
    known = set(known_hooks())
    return sorted(c.name for c in pm.get_hookcallers(plugin) or [] if c.name not in known)


def unknown_hook_message(name: str, hook: str) -> str:
    """``plugin 'x' implements 'register_state', which is no vmlife hook; did you mean ...``."""
    import difflib

    close = difflib.get_close_matches(hook, known_hooks(), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (
        f"plugin {name!r} implements {hook!r}, which is no vmlife hook{hint} "
        f"Known hooks: {', '.join(known_hooks())}"
    )


def _check_pending(pm: pluggy.PluginManager) -> None:
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        bad = unknown_hooks(pm, plugin)
        if bad:
            raise PluginError(unknown_hook_message(name, bad[0]), plugin=name, hook=bad[0])


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, loading plugins on first use."""
    global _pm
    if _pm is not None:
        return _pm
    with _lock:
        if _pm is None:
            pm = pluggy.PluginManager("vmlife")
            pm.add_hookspecs(hookspecs)
            if os.environ.get("VMLIFE_TRACE"):
                pm.trace.root.setwriter(sys.stderr.write)
                pm.enable_tracing()
            _load(pm)
            _pm = pm
            _bump()
    return _pm


def current_plugin_manager() -> pluggy.PluginManager | None:
    """The process-wide plugin manager if plugins are loaded already, else None (no loading)."""
    return _pm


def loaded_distributions() -> dict[str, tuple[str, str]]:
    """Entry-point name -> (distribution, version) of the plugins loaded from entry points."""
    return dict(_dists)


def reset() -> None:
    """Forget every loaded plugin; the next use loads them again (honours the environment)."""
    global _pm
    with _lock:
        _pm = None
        _dists.clear()
        _bump()


@contextmanager
def registered(plugin: Any, name: str | None = None) -> Iterator[Any]:
    """Register ``plugin`` for the duration of a ``with`` block, then always unregister it.

    Meant for tests and notebook cells::

        with vmlife.registered(MyPlugin()):
            vm = vmlife.VM("demo")
            ...

    Without ``name``, a module is named by its ``__name__`` and any other object by its class
    (``test_x.Maintenance``), so errors name it in words. A misspelled hook implementation
    raises :class:`~vmlife.PluginError` at once. A plugin that is registered already (an
    installed plugin loaded from its entry point, say) is left as it is, so the same cell runs
    with or without ``VMLIFE_LOAD_PLUGINS``.
    """
    pm = get_plugin_manager()
    if pm.is_registered(plugin):
        yield plugin
        return
    with _lock:
        register_named(pm, plugin, name or default_name(pm, plugin))
        _bump()
    try:
        _check_pending(pm)
        yield plugin
    finally:
        with _lock:
            if pm.is_registered(plugin):
                pm.unregister(plugin)
            _bump()


def default_name(pm: pluggy.PluginManager, plugin: Any) -> str:
    """A readable name for a plugin registered without one (pluggy would use its ``id()``).

    A module's ``__name__``; otherwise the class's module and name. A second object of the
    same class gets ``#2``, and so on.
    """
    if isinstance(plugin, type(sys)):
        base = plugin.__name__
    else:
        cls = plugin if isinstance(plugin, type) else type(plugin)
        base = f"{cls.__module__}.{cls.__qualname__}".replace(".<locals>", "")
    name, n = base, 1
    while pm.has_plugin(name) or pm.is_blocked(name):
        n += 1
        name = f"{base}#{n}"
    return name


@dataclass(frozen=True)
class PluginInfo:
    """What ``vmlife plugins`` shows for one plugin."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    default: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "hooks": list(self.hooks),
            "default": self.default,
        }


def list_plugins() -> list[PluginInfo]:
    """Every registered plugin with its distribution, version and implemented hooks."""
    return plugin_infos(get_plugin_manager(), _dists)


def plugin_infos(
    pm: pluggy.PluginManager, dists: dict[str, tuple[str, str]]
) -> list[PluginInfo]:
    """:class:`PluginInfo` for each plugin of ``pm``; ``dists``: name -> (dist, version)."""
    from . import __version__

    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        callers = pm.get_hookcallers(plugin) or []
        hooks = tuple(sorted(c.name for c in callers))
        default = name in DEFAULT_PLUGINS
        if default:
            dist, version = "vmlife", __version__
        elif name in dists:
            dist, version = dists[name]
        else:
            dist, version = None, None
        out.append(PluginInfo(name, dist, version, hooks, default))
    return out
