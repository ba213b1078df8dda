"""Facade: ``from feint.metrics import <Name>`` resolves registered metrics lazily.

Names are the objects' names in their plugins (``clever_u``) or their
registry names; nothing is imported until a name is asked for.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    from feint._facade import resolve

    return resolve("metric", name, __name__)


def __dir__() -> list[str]:
    from feint._facade import names

    return names("metric")
