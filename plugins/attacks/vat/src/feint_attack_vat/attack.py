"""The Virtual Adversarial Method (paper 000 §5.9, Algorithm 7)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from feint import Attack
from feint._params import Integer, Options, Real
from feint.errors import CapabilityError
from feint_attack_vat._functional import as_probabilities, feasible, kl_gradient_fd, step_to_norm, unit

__all__ = ["VirtualAdversarialMethod"]

METHODS = ("auto", "gradient", "finite_diff")


class VirtualAdversarialMethod(Attack):
    """Virtual Adversarial Method: the L2 step of size eps that most changes the model's own output distribution.

    The direction ``d`` (unit L2 norm) is the one maximising ``KL(F(x) || F(x + d))``, found
    from a random Gaussian start by ``max_iter`` power iterations: ``d`` is replaced by the
    normalised gradient of ``KL(F(x) || F(.))`` at ``x + xi * d``; the output is
    ``clip(x + eps * d)`` (Algorithm 7).  No label is used; ``y``, when given, only serves the
    success count of :meth:`run`.

    Two ways to get the gradient (``method``):

    * ``'gradient'``: ``KL(p || F(x')) = sum_k p_k log p_k - sum_k p_k log F_k(x')`` differs from
      the cross-entropy of ``F(x')`` with soft labels ``p = F(x)`` by a constant, so
      ``loss_gradient(x', p)`` is its gradient: one forward + one backward pass per iteration.
    * ``'finite_diff'``: the box's coordinate-wise forward differences of width ``finite_diff``
      (lines 5-10), one forward pass per input component and iteration; for classifiers
      without gradients.  In float32 a width of ``1e-6`` is below the resolution of the
      probabilities: use float64 models or a width near ``1e-3``.
    * ``'auto'`` (default): ``'gradient'`` when the classifier has ``loss_gradient``, else
      ``'finite_diff'``.

    Both give the same direction up to the finite-difference error.

    Choices where the paper leaves room:

    * The box evaluates the KL at ``x + d`` with ``||d||_2 = 1`` and sets ``d_new = d + grad``;
      the released ART code starts ``d_new`` from zero (a plain power iteration).  We follow the
      code, and take the gradient at ``x + xi * d`` as Miyato et al. do; the default ``xi=1`` is
      the box's point (Miyato et al.'s ``xi=1e-6`` drowns in float32 rounding: on the digits CNN
      it finds directions of lower KL).  The point is clipped into ``clip_values``, which the
      classifier requires.
    * ``p = F(x)`` and the KL use probabilities: classifier outputs that are not probability
      rows (a model whose outputs are logits) are turned into probabilities with a softmax.
    * Components of the gradient that point out of ``clip_values`` where the input is already on
      the bound are set to zero before normalising (line 14 would clip them away), and the length
      that clipping still takes off elsewhere is put back: the output is ``clip(x + t * d)`` with
      ``t >= eps`` solved exactly per sample (:func:`~feint_attack_vat._functional.step_to_norm`),
      so the perturbation has L2 norm ``eps`` whenever the box allows it (else the longest step
      along ``d`` the box allows).  Where the gradient is exactly zero (saturated outputs) ``d``
      keeps its previous value.
    * Clean probabilities are computed once per call and reused for the labels of :meth:`run`.

    Spec: ``vat``, ``vat(eps=0.5, max_iter=2)``, ``vat(method='finite_diff', finite_diff=1e-3)``.

    Parameters
    ----------
    classifier : Classifier
        Needs ``predict``; ``loss_gradient`` for ``method='gradient'``.
    max_iter : int, default 1
        Number of power iterations ``i_max`` (0 keeps the random direction).
    finite_diff : float, default 1e-6
        Finite-difference width ``zeta`` of ``method='finite_diff'``.
    eps : float, default 0.1
        L2 norm of the perturbation (0 returns the input).
    xi : float, default 1.0
        Radius at which the KL gradient is taken, ``x + xi * d`` (Miyato et al.'s ``xi``; 1 is the
        box's point).
    method : {'auto', 'gradient', 'finite_diff'}, default 'auto'
        How the KL gradient is computed.
    batch_size, random_state, verbose
        As for every attack (:class:`feint.Attack`).

    References
    ----------
    Miyato et al., "Distributional smoothing with virtual adversarial training", ICLR 2016.
    Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §5.9, Algorithm 7.
    """

    name: ClassVar[str] = "vat"
    requires = frozenset({"predict"})

    @classmethod
    def threat_model(cls) -> str:
        """White-box: it uses the model's gradients whenever the classifier has them."""
        return "white-box"
    supports_targeted: ClassVar[bool] = False
    norm_param: ClassVar[str | None] = None
    eps_param: ClassVar[str | None] = "eps"
    _parameter_constraints: ClassVar[dict] = {
        "max_iter": [Integer(0, None)],
        "finite_diff": [Real(0, None, "neither")],
        "eps": [Real(0, None, "left")],
        "xi": [Real(0, None, "neither")],
        "method": [Options(METHODS)],
    }

    def __init__(self, classifier, max_iter: int = 1, finite_diff: float = 1e-6, eps: float = 0.1,
                 xi: float = 1.0, method: str = "auto", batch_size: int = 128, random_state=None,
                 verbose: bool = True) -> None:
        super().__init__(classifier)
        self._init_params(locals())
        self._clean = None

    def _check_params(self, params) -> None:
        if params["method"] == "gradient" and "loss_gradient" not in self.classifier.provides:
            raise CapabilityError(type(self).__name__, frozenset({"predict", "loss_gradient"}),
                                  frozenset(self.classifier.provides), type(self.classifier).__name__)

    def budget(self):
        """``(eps, 2)``: every perturbation has L2 norm at most ``eps``."""
        return float(self.eps), 2.0

    @property
    def uses_gradients(self) -> bool:
        """Whether the KL gradient comes from ``loss_gradient`` (else from finite differences)."""
        if self.method == "auto":
            return "loss_gradient" in self.classifier.provides
        return self.method == "gradient"

    # -- helpers ----------------------------------------------------------------------------------
    def _probs(self, x: np.ndarray) -> np.ndarray:
        return as_probabilities(self.classifier.predict(x, batch_size=self.batch_size))

    def _resolve_labels(self, x, y, seed):
        # p = F(x) is needed anyway: one pass gives it and the labels of run()
        self._clean = self._probs(x)
        if y is not None:
            return super()._resolve_labels(x, y, seed)
        return self._clean.argmax(axis=1).astype(np.int64)

    def _kl_gradient(self, x_eval: np.ndarray, p: np.ndarray) -> np.ndarray:
        if self.uses_gradients:
            return self.classifier.loss_gradient(x_eval, p.astype(x_eval.dtype), batch_size=self.batch_size)
        return kl_gradient_fd(self._probs, x_eval, p, float(self.finite_diff), self.classifier.clip_values)

    # -- Algorithm 7 ------------------------------------------------------------------------------
    def _generate_batch(self, x, y, rng):
        if self.eps == 0:
            return x
        clean = self._clean
        p = clean[rng.indices] if clean is not None and len(clean) > rng.indices.max(initial=-1) else self._probs(x)
        cv = self.classifier.clip_values
        d = unit(rng.normal(0.0, 1.0, x.shape[1:], dtype=x.dtype))               # lines 1-2
        for _ in range(int(self.max_iter)):                                      # lines 4-13
            x_eval = self._clip(x + x.dtype.type(self.xi) * d)
            g = feasible(self._kl_gradient(x_eval, p), x_eval, cv)
            d = unit(g.astype(x.dtype), fallback=d)
        # line 14; step_to_norm takes any length of d, gives the components of d that point out of the
        # box no length, and a row whose feasible part is zero gets no step
        return step_to_norm(x, d, float(self.eps), cv)
