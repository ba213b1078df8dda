"""Facade: ``from feint.classifiers import <Name>`` resolves registered frameworks lazily.

Names are the objects' names in their plugins (``PyTorchClassifier``) or their
registry names; nothing is imported until a name is asked for.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    from feint._facade import resolve

    return resolve("framework", name, __name__)


def __dir__() -> list[str]:
    from feint._facade import names

    return names("framework")
