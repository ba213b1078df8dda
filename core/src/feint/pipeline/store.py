"""Per-cell results on disk (``<out>/cells/<cell id>.json``), so ``--resume`` skips finished cells."""

from __future__ import annotations

import json
import os
from pathlib import Path

from feint.pipeline.plan import Cell, jsonable

__all__ = ["CellStore"]


class CellStore:
    """Reads and writes one JSON file per finished cell.

    A stored cell is reused only with ``resume=True``, when its key (model, data, seed, component
    specs and plugin versions) equals the cell's and it did not end in an error.  Without
    ``resume`` the cell files of an earlier run are removed first.
    """

    def __init__(self, outdir: Path, resume: bool) -> None:
        self.dir = Path(outdir) / "cells"
        self.resume = resume
        if not resume and self.dir.is_dir():
            for f in self.dir.glob("*.json"):
                f.unlink()
        self.dir.mkdir(parents=True, exist_ok=True)

    def _path(self, cell: Cell) -> Path:
        return self.dir / f"{cell.id}.json"

    def get(self, cell: Cell) -> dict | None:
        if not self.resume:
            return None
        path = self._path(cell)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if data.get("key") != jsonable(cell.key) or data.get("result", {}).get("status") == "error":
            return None
        return data["result"]

    def put(self, cell: Cell, result: dict) -> None:
        path = self._path(cell)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"id": cell.id, "key": jsonable(cell.key), "result": jsonable(result)},
                                  allow_nan=False))
        os.replace(tmp, path)
