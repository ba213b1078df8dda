"""The plugin manager, isolated hook-plugin loading, and run events (tasks) with progress."""

from __future__ import annotations

import itertools
import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pluggy

from feint import hookspecs

__all__ = ["Task", "get_plugin_manager", "hookimpl", "notify", "task"]

log = logging.getLogger("feint.hooks")
hookimpl = pluggy.HookimplMarker("feint")
_PM: pluggy.PluginManager | None = None
_ids = itertools.count(1)


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, with hook modules from ``feint.plugins`` loaded."""
    global _PM
    if _PM is None:
        pm = pluggy.PluginManager("feint")
        pm.add_hookspecs(hookspecs)
        from feint import progress

        pm.register(progress, name="feint.progress")
        if os.environ.get("FEINT_DISABLE_PLUGIN_AUTOLOAD") != "1":
            _load_hook_plugins(pm)
        _PM = pm
    return _PM


def _load_hook_plugins(pm: pluggy.PluginManager) -> None:
    """Load ``feint.plugins`` entry points one by one; a broken one is one warning."""
    import warnings
    from importlib.metadata import entry_points

    from feint.errors import FeintPluginWarning

    for ep in entry_points(group="feint.plugins"):
        try:
            module = ep.load()
            pm.register(module, name=f"{ep.name}")
        except Exception as exc:  # noqa: BLE001
            dist = getattr(ep.dist, "name", "?")
            warnings.warn(f"feint: skipped hook plugin '{dist}' ({ep.group}:{ep.name} = {ep.value}): "
                          f"{type(exc).__name__}: {exc}", FeintPluginWarning, stacklevel=2)


def register_components_from_hooks(registry) -> None:
    """Call ``feint_register_components`` on every hook plugin (isolated)."""
    notify("feint_register_components", registry=registry)


def notify(hook_name: str, **kwargs: Any) -> list[Any]:
    """Call every implementation of an observer hook; log and skip the ones that fail."""
    pm = get_plugin_manager()
    caller = getattr(pm.hook, hook_name)
    results = []
    for impl in reversed(caller.get_hookimpls()):
        try:
            args = [kwargs[a] for a in impl.argnames]
            out = impl.function(*args)
        except Exception:  # noqa: BLE001 - an observer never ends a run
            log.warning("hook %s of plugin %r failed; skipped", hook_name, impl.plugin_name, exc_info=True)
            continue
        if out is not None:
            results.append(out)
    return results


@dataclass
class Task:
    """A unit of work announced to observers: an attack run, a training loop, a pipeline cell."""

    kind: str
    name: str
    total: int | None = None
    unit: str = "batch"
    parent: Task | None = None
    verbose: bool = True
    meta: dict[str, Any] = field(default_factory=dict)
    done: int = 0
    started: float = 0.0
    ended: float | None = None
    error: BaseException | None = None
    id: int = field(default_factory=lambda: next(_ids))

    def advance(self, n: int = 1) -> None:
        """Report ``n`` more completed steps."""
        self.done += n
        notify("feint_task_progress", task=self, advance=n)

    @property
    def depth(self) -> int:
        return 0 if self.parent is None else self.parent.depth + 1


_current: list[Task] = []


@contextmanager
def task(kind: str, name: str, total: int | None = None, *, unit: str = "batch",
         verbose: bool = True, **meta: Any):
    """Context manager that announces a task's start and end to the observer hooks."""
    t = Task(kind, name, total, unit, _current[-1] if _current else None, verbose, dict(meta))
    t.started = time.perf_counter()
    _current.append(t)
    notify("feint_task_start", task=t)
    try:
        yield t
    except BaseException as exc:
        t.error = exc
        raise
    finally:
        t.ended = time.perf_counter()
        _current.remove(t)
        notify("feint_task_end", task=t)
