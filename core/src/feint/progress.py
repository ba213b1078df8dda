"""The built-in progress bar: a tqdm bar per task, implemented on the task hooks.

Shown only on a terminal; silenced by ``verbose=False`` on the component or by the environment
variable ``FEINT_PROGRESS=0`` (``feint evaluate --quiet`` sets it).
"""

from __future__ import annotations

import os
import sys

from feint.hooks import hookimpl

_bars: dict[int, object] = {}


def _enabled(task) -> bool:
    if os.environ.get("FEINT_PROGRESS", "1") in ("0", "false", "no", "off"):
        return False
    if not task.verbose:
        return False
    return sys.stderr.isatty() or os.environ.get("FEINT_PROGRESS") == "force"


@hookimpl
def feint_task_start(task) -> None:
    if not _enabled(task):
        return
    from tqdm.auto import tqdm

    _bars[task.id] = tqdm(total=task.total, desc=f"{task.kind} {task.name}", unit=task.unit,
                          leave=task.parent is None, position=task.depth, file=sys.stderr,
                          dynamic_ncols=True)


@hookimpl
def feint_task_progress(task, advance) -> None:
    bar = _bars.get(task.id)
    if bar is not None:
        bar.update(advance)


@hookimpl
def feint_task_end(task) -> None:
    bar = _bars.pop(task.id, None)
    if bar is not None:
        bar.close()
