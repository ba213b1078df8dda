"""Facade: ``from feint.attacks import <Name>`` resolves registered attacks lazily.

Names are the objects' names in their plugins (``FastGradientMethod``) or their
registry names; nothing is imported until a name is asked for.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    from feint._facade import resolve

    return resolve("attack", name, __name__)


def __dir__() -> list[str]:
    from feint._facade import names

    return names("attack")
