"""Hook specifications of feint (pluggy project name ``"feint"``).

A plugin that only adds hooks registers a module in the entry-point group ``feint.plugins``;
its functions are marked with :data:`feint.hookimpl`.  Observer hooks (``feint_task_*``) are
called one implementation at a time: a failing observer is logged and skipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from feint.hooks import Task
    from feint.registry import Registry

hookspec = pluggy.HookspecMarker("feint")


# -- registration ------------------------------------------------------------------------------
@hookspec
def feint_register_components(registry: Registry) -> None:
    """Register extra components, aliases or presets in process.

    Called once, when the default registry is first built, after entry points are discovered.
    Use ``registry.register(kind, name, obj, aliases=..., suffix_param=...)``.
    """


# -- model adaptation --------------------------------------------------------------------------
@hookspec(firstresult=True)
def feint_adapt_model(model: Any, kwargs: dict[str, Any]) -> Any:
    """Wrap a raw model (a ``torch.nn.Module``, a Keras model...) into a feint ``Classifier``.

    Called by :func:`feint.classifier`.  Return the classifier, or ``None`` if the model is not
    one this plugin handles; the first non-``None`` answer wins.  Implementations should test
    ``type(model).__module__`` before importing their framework.
    """


# -- run events (observers) --------------------------------------------------------------------
@hookspec
def feint_task_start(task: Task) -> None:
    """Called when an attack, trainer, metric or pipeline starts a unit of work.

    ``task.kind`` is ``"attack"``, ``"trainer"``, ``"metric"`` or ``"pipeline"``; ``task.total``
    is the number of steps it will report (or ``None``); ``task.parent`` the enclosing task.
    """


@hookspec
def feint_task_progress(task: Task, advance: int) -> None:
    """Called when ``task`` has completed ``advance`` more steps (``task.done`` is updated)."""


@hookspec
def feint_task_end(task: Task) -> None:
    """Called when ``task`` ends, normally or by an exception (``task.error`` is then set)."""


# -- reports -----------------------------------------------------------------------------------
@hookspec
def feint_report_write(report: dict[str, Any], outdir: str) -> list[str] | None:
    """Write an evaluation report in some format into ``outdir``.

    Called by ``feint evaluate`` after the grid has run, with the machine-readable report dict.
    Return the paths written (or ``None``).  Every implementation is called.
    """
