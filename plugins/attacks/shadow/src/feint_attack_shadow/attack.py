"""The Shadow attack class (Ghiasi, Shafahi & Goldstein 2020)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from feint import Attack
from feint._params import Integer, Real
from feint.errors import InvalidInputError
from feint_attack_shadow._functional import colour_penalty, dissimilarity_penalty, total_variation

__all__ = ["ShadowAttack"]


class ShadowAttack(Attack):
    """Shadow attack: large but smooth, colour-preserving perturbations that fool the classifier.

    Follows Ghiasi, Shafahi & Goldstein (2020, §4): instead of an Lp ball, the perturbation
    ``delta`` maximises, by gradient ascent with step ``learning_rate`` for ``nb_steps`` steps,

    ``E_eps[L(x + delta + eps, y)] - lambda_tv TV(delta) - lambda_c C(delta) - lambda_s Dissim(delta)``

    where ``L`` is the cross-entropy of the label (untargeted; targeted: minus the cross-entropy
    of the target), ``eps ~ N(0, sigma^2)`` is the Gaussian noise of randomised smoothing (the
    expectation is estimated with ``sample_size`` draws per image and step; ``sigma=0`` attacks
    the classifier itself), and the penalties are

    - ``TV``: squared anisotropic total variation, summed over channels (smoothness);
    - ``C = ||(mean |delta_c|)_c||_2^2``: the change of each colour channel's mean (no global
      colour shift);
    - ``Dissim = sum_{a<b} ||delta_a - delta_b||_2``: differences between the channels'
      perturbations (pixels get lighter or darker without changing hue; 0 for grey images).

    ``delta`` starts uniform in ``[-(x_max - x_min) / 2, (x_max - x_min) / 2]`` (as the authors'
    code), and is projected after every step so that ``x + delta`` stays inside ``clip_values``.
    Works on one image or a batch (each image has its own perturbation and noise draws, made in
    ``(C, H, W)`` order whatever the layout, so a channels-last model gets the same attack).

    Spec: ``shadow``, ``shadow(sigma=0.0, nb_steps=100)``, ``shadow(lambda_tv=0.0)``.

    Parameters
    ----------
    classifier : Classifier
        Needs ``predict`` and ``loss_gradient``; inputs must be images: ``(n, C, H, W)``
        (``channel_index=1``), ``(n, H, W, C)`` (``channel_index=3``) or ``(n, H, W)``.
    sigma : float, default 0.5
        Standard deviation of the smoothing noise (0: no noise).
    nb_steps : int, default 300
        Gradient-ascent steps.
    learning_rate : float, default 0.1
        Step size of the ascent.
    lambda_tv : float, default 0.3
        Weight of the total-variation penalty.
    lambda_c : float, default 1.0
        Weight of the colour-mean penalty.
    lambda_s : float, default 0.5
        Weight of the channel-dissimilarity penalty.
    sample_size : int, default 400
        Noise draws per image and step (ART's ``batch_size``); ignored when ``sigma=0``.
    targeted, target, batch_size, random_state, verbose
        As for every attack (:class:`feint.Attack`).  ``batch_size`` counts images; one step
        sends ``batch_size * sample_size`` noisy copies to ``loss_gradient``.

    Notes
    -----
    Choices: parameter names and defaults are ART's (``sample_size`` is ART's ``batch_size``,
    renamed because ``batch_size`` means images in feint).  ``TV`` and ``C`` are the squared
    forms ART uses; ``Dissim`` is the paper's sum of L2 norms.  The noisy copies are clipped
    into ``clip_values`` before they reach the classifier (gradients pass straight through the
    clip).  The paper does not bound ``delta``; the attack returns the last iterate, which may
    have a large Lp norm by design.  The gradient of the penalties is analytic, so no framework
    is needed.

    References
    ----------
    Ghiasi, Shafahi & Goldstein, "Breaking certified defenses: semantic adversarial examples
    with spoofed robustness certificates", ICLR 2020.
    """

    name: ClassVar[str] = "shadow"
    requires = frozenset({"predict", "loss_gradient"})
    norm_param: ClassVar[str | None] = None
    eps_param: ClassVar[str | None] = None
    _parameter_constraints: ClassVar[dict] = {
        "sigma": [Real(0, None, "left")],
        "nb_steps": [Integer(0, None)],
        "learning_rate": [Real(0, None, "neither")],
        "lambda_tv": [Real(0, None, "left")],
        "lambda_c": [Real(0, None, "left")],
        "lambda_s": [Real(0, None, "left")],
        "sample_size": [Integer(1, None)],
    }

    def __init__(self, classifier, sigma: float = 0.5, nb_steps: int = 300, learning_rate: float = 0.1,
                 lambda_tv: float = 0.3, lambda_c: float = 1.0, lambda_s: float = 0.5, sample_size: int = 400,
                 targeted: bool = False, target=None, batch_size: int = 16, random_state=None,
                 verbose: bool = True) -> None:
        super().__init__(classifier)
        shape = classifier.input_shape
        if shape is not None and len(shape) not in (2, 3):
            raise InvalidInputError(
                f"ShadowAttack works on images: inputs of shape (n, C, H, W), (n, H, W, C) or (n, H, W). "
                f"Got a classifier with input_shape {tuple(shape)} instead.")
        self._init_params(locals())

    # -- layout -----------------------------------------------------------------------------
    def _to_nchw(self, a: np.ndarray) -> np.ndarray:
        if a.ndim == 3:
            return a[:, None]
        if a.ndim == 4 and self.classifier.channel_index == 3:
            return a.transpose(0, 3, 1, 2)
        if a.ndim == 4:
            return a
        raise InvalidInputError(f"ShadowAttack needs image inputs (3-D or 4-D batches). Got shape {a.shape} instead.")

    def _from_nchw(self, a: np.ndarray, ndim: int) -> np.ndarray:
        if ndim == 3:
            return a[:, 0]
        return a.transpose(0, 2, 3, 1) if self.classifier.channel_index == 3 else a

    def penalty_gradient(self, delta: np.ndarray) -> np.ndarray:
        """Gradient of ``lambda_tv TV + lambda_c C + lambda_s Dissim`` for ``(n, C, H, W)`` perturbations."""
        g = np.zeros_like(delta)
        for lam, fn in ((self.lambda_tv, total_variation), (self.lambda_c, colour_penalty),
                        (self.lambda_s, dissimilarity_penalty)):
            if lam:
                g += np.float32(lam) * fn(delta)[1].astype(delta.dtype)
        return g

    # -- algorithm ----------------------------------------------------------------------------
    def _generate_batch(self, x, y, rng):
        n = len(x)
        if n == 0 or self.nb_steps == 0:
            return x
        canonical = self._to_nchw(x[:1]).shape[1:]  # validates the layout; draws are made in (C, H, W)
        lo, hi = self.classifier.clip_values if self.classifier.clip_values is not None else (-np.inf, np.inf)
        span = float(hi - lo) if np.isfinite(hi - lo) else 1.0
        sign = np.float32(-1.0 if self.is_targeted else 1.0)
        noisy = self.sigma > 0
        s = int(self.sample_size) if noisy else 1
        y_rep = np.repeat(y, s)

        delta = self._from_nchw(rng.uniform(-span / 2, span / 2, canonical, dtype=x.dtype), x.ndim)
        delta = self._clip(x + delta) - x
        for _ in range(int(self.nb_steps)):
            x_adv = x + delta
            if noisy:
                eps = rng.normal(0.0, float(self.sigma), (s, *canonical), dtype=x.dtype).reshape(n * s, *canonical)
                eps = self._from_nchw(eps, x.ndim).reshape(n, s, *x.shape[1:])
                inputs = self._clip((x_adv[:, None] + eps).reshape(n * s, *x.shape[1:]))
            else:
                inputs = x_adv
            g = self.classifier.loss_gradient(inputs, y_rep, batch_size=max(len(inputs), 1))
            g = g.reshape(n, s, *x.shape[1:]).mean(axis=1) * sign
            g -= self._from_nchw(self.penalty_gradient(self._to_nchw(delta)), x.ndim)
            delta = self._clip(x + delta + np.float32(self.learning_rate) * g) - x
        return x + delta
