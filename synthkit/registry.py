"""The plugin registry: one pluggy PluginManager, loaded from the ``synthkit`` entry-point group.

A plugin that fails to import or to register is recorded in ``failures()`` and skipped; every other
plugin keeps working.

Thread-safe: ``get_registry()`` publishes the registry only once its entry points have loaded, and
``entries()`` collects under a lock and publishes the full answer at once, so threads that ask at the
same time (a Dask worker with several threads) all see every installed plugin.
"""

from __future__ import annotations

import importlib
import threading
import warnings
from dataclasses import dataclass, field
from importlib import metadata

import pluggy

from synthkit import hookspecs
from synthkit.errors import PluginError
from synthkit.quiet import quiet_startup

ENTRY_POINT_GROUP = "synthkit"
KINDS = ("detectors", "generators", "datasets")


@dataclass
class PluginInfo:
    """What one plugin is and what it registered."""

    name: str
    package: str | None = None
    version: str | None = None
    registered: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    commands: list[str] = field(default_factory=list)


@dataclass
class PluginFailure:
    """A plugin that could not be imported or could not register."""

    name: str
    package: str | None
    error: str


class Registry:
    """Holds the plugin manager and what every plugin registered, by kind and name."""

    def __init__(self):
        self.pm = pluggy.PluginManager("synthkit")
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.failures: list[PluginFailure] = []
        self._entries: dict[str, dict[str, tuple[object, str]]] | None = None
        self._lock = threading.RLock()

    # -- loading -------------------------------------------------------------------------------
    def load_entry_points(self) -> None:
        """Import every plugin module of the entry-point group; record the ones that fail."""
        with self._lock:
            self._load_entry_points()
            self._entries = None

    def _load_entry_points(self) -> None:
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            package = dist.metadata["Name"] if dist is not None else None
            version = dist.version if dist is not None else None
            if ep.name in self.infos or self.pm.has_plugin(ep.name):
                self._fail(
                    ep.name, package, "another installed plugin already uses this entry-point name"
                )
                continue
            try:
                module = ep.load()
                self.pm.register(module, name=ep.name)
            except Exception as exc:  # a broken third-party plugin must not break synthkit
                self._fail(ep.name, package, f"import failed: {type(exc).__name__}: {exc}")
                continue
            self.infos[ep.name] = PluginInfo(ep.name, package, version)

    def register_plugin(self, obj, name: str | None = None) -> str:
        """Register a plugin object in-process (a module or any object with hook implementations)."""
        with self._lock:
            name = self.pm.register(obj, name=name)
            self.infos[name] = PluginInfo(name, getattr(obj, "__name__", None), None)
            self._entries = None
        return name

    def unregister_plugin(self, name: str) -> None:
        """Remove a plugin registered with ``register_plugin``."""
        with self._lock:
            self.pm.unregister(name=name)
            self.infos.pop(name, None)
            self.failures = [f for f in self.failures if f.name != name]
            self._entries = None

    def _fail(self, name: str, package: str | None, error: str) -> None:
        self.failures.append(PluginFailure(name, package, error))
        warnings.warn(
            f"synthkit plugin {name!r} ({package or 'in-process'}) skipped: {error}", stacklevel=3
        )

    # -- what plugins registered --------------------------------------------------------------
    def entries(self, kind: str) -> dict[str, tuple[object, str]]:
        """``{name: (object, plugin_name)}`` for ``kind`` in detectors, generators, datasets."""
        entries = self._entries
        if entries is None:
            with self._lock:
                if self._entries is None:
                    self._entries = self._collect()  # published whole, never half-collected
                entries = self._entries
        return entries[kind]

    def _collect(self) -> dict[str, dict[str, tuple[object, str]]]:
        from synthkit.dataset import Dataset

        collected: dict[str, dict[str, tuple[object, str]]] = {k: {} for k in KINDS}
        for info in self.infos.values():
            info.registered = {k: [] for k in KINDS}
        failed: set[str] = set()
        for kind in KINDS:
            caller = getattr(self.pm.hook, f"synthkit_register_{kind}")
            for impl in caller.get_hookimpls():
                plugin_name = impl.plugin_name
                if plugin_name in failed:
                    continue
                found: dict[str, object] = {}

                def register(name, obj, _found=found):
                    _found[str(name)] = obj

                try:
                    impl.function(register=register)
                    for name, obj in found.items():
                        _check_registered(kind, name, obj, Dataset)
                except Exception as exc:
                    failed.add(plugin_name)
                    info = self.infos.get(plugin_name)
                    self._fail(
                        plugin_name,
                        info.package if info else None,
                        f"synthkit_register_{kind} failed: {type(exc).__name__}: {exc}",
                    )
                    continue
                for name, obj in found.items():
                    if name in collected[kind]:
                        other = collected[kind][name][1]
                        warnings.warn(
                            f"synthkit plugin {plugin_name!r} registers {kind[:-1]} {name!r}, which "
                            f"{other!r} already registered; keeping {other!r}'s",
                            stacklevel=2,
                        )
                        continue
                    collected[kind][name] = (obj, plugin_name)
                    self.infos.setdefault(plugin_name, PluginInfo(plugin_name)).registered[
                        kind
                    ].append(name)
        # a plugin that failed in one hook is skipped altogether, so its half-registration never shows
        for kind in KINDS:
            collected[kind] = {n: v for n, v in collected[kind].items() if v[1] not in failed}
        for name in failed:
            self.infos.pop(name, None)
        return collected

    def add_commands(self, cli) -> None:
        """Let every plugin add its click commands to ``cli``; a failing plugin is reported and skipped."""
        for impl in self.pm.hook.synthkit_register_commands.get_hookimpls():
            before = set(cli.commands)
            try:
                impl.function(cli=cli)
            except Exception as exc:
                for added in set(cli.commands) - before:
                    cli.commands.pop(added)
                info = self.infos.get(impl.plugin_name)
                self._fail(
                    impl.plugin_name,
                    info.package if info else None,
                    f"synthkit_register_commands failed: {type(exc).__name__}: {exc}",
                )
                continue
            if impl.plugin_name in self.infos:
                self.infos[impl.plugin_name].commands.extend(sorted(set(cli.commands) - before))

    def get(self, kind: str, name: str):
        """The object registered under ``name``, or a PluginError listing what is installed."""
        entries = self.entries(kind)
        if name not in entries:
            available = ", ".join(sorted(entries)) or "none"
            singular = kind[:-1]
            raise PluginError(
                f"unknown {singular} {name!r}; installed {kind}: {available}"
                + (" (run `synthkit plugins` to see what failed to load)" if self.failures else "")
            )
        return entries[name][0]


def _check_registered(kind: str, name: str, obj, dataset_cls) -> None:
    if kind == "datasets":
        if not isinstance(obj, dataset_cls):
            raise TypeError(
                f"dataset {name!r} is a {type(obj).__name__}, not a synthkit.Dataset instance"
            )
        return
    base_module, base_name = {
        "detectors": ("synthkit.base", "BaseDetector"),
        "generators": ("synthkit.base", "BaseGenerator"),
    }[kind]
    base = getattr(importlib.import_module(base_module), base_name)
    if not (isinstance(obj, type) and issubclass(obj, base)):
        raise TypeError(f"{kind[:-1]} {name!r} is {obj!r}, not a subclass of synthkit.{base_name}")


_registry: Registry | None = None
_registry_lock = threading.RLock()  # re-entrant: a plugin may ask for the registry while it loads


def get_registry() -> Registry:
    """The process-wide registry, with the installed entry points loaded on first use.

    The registry is published only after its entry points have loaded: a thread that asks while
    another is loading waits for it rather than seeing an empty registry.
    """
    global _registry
    registry = _registry
    if registry is None:
        with _registry_lock:
            registry = _registry
            if registry is None:
                quiet_startup()  # before any plugin can import TensorFlow (see synthkit.quiet)
                registry = Registry()
                registry.load_entry_points()
                _registry = registry
    return registry


def get_detector(name: str, **params):
    """A new, unfitted detector registered as ``name``, with ``params`` as hyper-parameters."""
    return _make("detectors", name, params)


def get_generator(name: str, **params):
    """A new, unfitted generator registered as ``name``, with ``params`` as hyper-parameters."""
    return _make("generators", name, params)


def _make(kind: str, name: str, params: dict):
    """An instance of the ``kind`` plugin ``name``, refusing parameters it does not declare."""
    from synthkit.parameters import parameter_names

    cls = get_registry().get(kind, name)
    valid = parameter_names(cls)
    # deprecated names (``renamed_parameters``) are taken: the class maps them, with a DeprecationWarning
    renamed = getattr(cls.__init__, "renamed_parameters", {})
    unknown = sorted(set(params) - set(valid) - set(renamed))
    if unknown:
        raise PluginError(
            f"unknown parameter {', '.join(unknown)} for {kind[:-1]} {name!r}; "
            f"valid parameters: {', '.join(valid) or 'none'}"
        )
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise PluginError(f"bad parameters for {kind[:-1]} {name!r}: {exc}") from None
