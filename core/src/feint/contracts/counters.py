"""Counts of model passes, so attack cost can be compared with the cost of its passes."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["PassCounter"]


@dataclass
class PassCounter:
    """Forward and backward passes made by a classifier: framework calls and samples.

    ``forward`` / ``backward`` count framework calls (one per batch; a class gradient of m
    classes counts m backward calls), ``*_samples`` count the samples they carried.
    """

    forward: int = 0
    backward: int = 0
    forward_samples: int = 0
    backward_samples: int = 0

    def add_forward(self, n: int) -> None:
        self.forward += 1
        self.forward_samples += int(n)

    def add_backward(self, n: int, times: int = 1) -> None:
        self.backward += int(times)
        self.backward_samples += int(n) * int(times)

    def copy(self) -> PassCounter:
        return PassCounter(**asdict(self))

    def __sub__(self, other: PassCounter) -> PassCounter:
        return PassCounter(**{k: v - getattr(other, k) for k, v in asdict(self).items()})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def reset(self) -> None:
        self.forward = self.backward = self.forward_samples = self.backward_samples = 0
