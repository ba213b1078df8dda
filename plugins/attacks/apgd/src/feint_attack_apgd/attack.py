"""The Auto-PGD attack class (Croce & Hein 2020, Algorithm 1)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from feint import Attack
from feint._params import Integer, Options, Real
from feint.contracts.classifier import log_softmax
from feint.errors import InvalidParameterError
from feint.norms import normalize, parse_norm, project, random_ball
from feint_attack_apgd._functional import ce_loss, checkpoints, dlr_gradient_terms

__all__ = ["AutoProjectedGradientDescent"]

MOMENTUM = 0.75  # alpha of Algorithm 1


class AutoProjectedGradientDescent(Attack):
    """Auto-PGD: step-size-free PGD with momentum, checkpointed step halving and restarts.

    Follows Algorithm 1 of Croce & Hein (2020).  From a random point of the ``eps``-ball, the
    first step has size ``eta = 2 * eps`` along the steepest-ascent direction (sign of the
    gradient for Linf, the normalised gradient for L2); every later step mixes that update with
    momentum ``alpha = 0.75``::

        z      = P(x_k + eta * dir(grad f(x_k)))
        x_k+1  = P(x_k + 0.75 * (z - x_k) + 0.25 * (x_k - x_k-1))

    where ``P`` projects onto the ball and clips into ``clip_values``.  At the checkpoints
    ``w_j = ceil(p_j * max_iter)`` (``p_0 = 0``, ``p_1 = 0.22``,
    ``p_j+1 = p_j + max(p_j - p_j-1 - 0.03, 0.06)``) the step of a sample is halved, and its
    iterate restarted from the best point found so far, when (1) fewer than
    ``rho * (w_j - w_j-1)`` of the steps since the last checkpoint increased the loss, or (2)
    the step was not halved at the last checkpoint and the best loss has not improved since.

    Every sample stops as soon as it is adversarial (its first adversarial iterate is returned);
    the others run ``max_iter`` iterations per restart, ``nb_random_init`` restarts in all, and
    return the point of highest loss over all restarts.  Inputs already adversarial for the
    labels given are returned unchanged.

    Losses: ``'ce'`` (cross-entropy; targeted: minus the cross-entropy of the target) and
    ``'dlr'``, the Difference of Logits Ratio ``-(z_y - max_{i!=y} z_i) / (z_pi1 - z_pi3)``,
    targeted ``-(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2)``.  The DLR gradient is assembled
    from the logit gradients of the 3 (untargeted) or 5 (targeted) classes involved per sample,
    through ``class_gradient(label=(n, m) array, logits=True)``.

    Passes: with an adapter that implements ``output_gradient`` (torch), each iteration costs
    one forward and one backward pass: the logits (loss, success) and the objective's gradient
    come from the same forward pass, weighted by the loss's derivative in the logits (``F - e_y``
    for the cross-entropy, the DLR's few coefficients).  Otherwise ``predict`` and then
    ``loss_gradient`` / ``class_gradient`` for the samples not yet adversarial.

    Spec: ``apgd``, ``apgd(eps=8/255, loss_type='dlr')``, ``apgd(norm=2, eps=0.5, max_iter=50)``.

    Parameters
    ----------
    classifier : Classifier
        Needs ``predict`` and ``loss_gradient`` (``'ce'``) or ``class_gradient`` (``'dlr'``).
    norm : {inf, 2}, default inf
        Threat model.
    eps : float, default 0.3
        Radius of the ball (``0`` returns the input).
    max_iter : int, default 100
        Iterations ``N_iter`` per restart.
    loss_type : {'ce', 'dlr'}, default 'ce'
        Objective maximised.  ``'dlr'`` needs at least 3 classes (4 when targeted).
    nb_random_init : int, default 5
        Restarts from random points of the ball; each runs only on the samples not yet fooled.
    rho : float, default 0.75
        Fraction of loss-increasing steps below which a checkpoint halves the step (condition 1).
    targeted, target, batch_size, random_state, verbose
        As for every attack (:class:`feint.Attack`).

    Notes
    -----
    Choices where the paper leaves room: a checkpoint is evaluated after its ``w_j``-th step,
    counting the loss increases of the steps since the previous checkpoint (as the authors'
    code does); after a halving the momentum term is ``x_max - x_k`` (the paper sets
    ``x_k+1 = x_max`` and keeps the update rule); the random starts are uniform in the ball
    (:func:`feint.norms.random_ball`).  The targeted DLR loss needs the true class: the
    classifier's prediction on the clean input is used.  Names follow ART's
    ``AutoProjectedGradientDescent`` (``nb_random_init``, ``max_iter``) and AutoAttack
    (``rho``); ART's ``eps_step`` is not a parameter because the step size is adapted.

    References
    ----------
    Croce & Hein, "Reliable evaluation of adversarial robustness with an ensemble of diverse
    parameter-free attacks", ICML 2020.
    """

    name: ClassVar[str] = "apgd"
    requires = frozenset({"predict", "loss_gradient"})
    _parameter_constraints: ClassVar[dict] = {
        "norm": [Options((np.inf, 2, "inf"))],
        "eps": [Real(0, None, "left")],
        "max_iter": [Integer(1, None)],
        "loss_type": [Options(("ce", "dlr"))],
        "nb_random_init": [Integer(1, None)],
        "rho": [Real(0, 1, "both")],
    }

    def __init__(self, classifier, norm=np.inf, eps: float = 0.3, max_iter: int = 100, loss_type: str = "ce",
                 nb_random_init: int = 5, rho: float = 0.75, targeted: bool = False, target=None,
                 batch_size: int = 128, random_state=None, verbose: bool = True) -> None:
        super().__init__(classifier)
        self._init_params(locals())

    def _check_params(self, params) -> None:
        if params["loss_type"] == "dlr":
            if "class_gradient" not in getattr(self.classifier, "provides", ()):
                from feint.errors import CapabilityError

                raise CapabilityError(type(self).__name__ + "(loss_type='dlr')",
                                      frozenset({"predict", "class_gradient"}),
                                      frozenset(self.classifier.provides), type(self.classifier).__name__)
            targeted = bool(params.get("targeted")) or params.get("target") is not None
            need = 4 if targeted else 3
            k = self.classifier.nb_classes
            if k is not None and k < need:
                raise InvalidParameterError(
                    f"The 'loss_type' parameter of {type(self).__name__} cannot be 'dlr' for a classifier with "
                    f"{k} classes: the {'targeted ' if targeted else ''}DLR loss needs at least {need}. "
                    "Use loss_type='ce'.")

    # -- objective --------------------------------------------------------------------------
    def _loss(self, z, y, y_true):
        if self.loss_type == "ce":
            return ce_loss(z, y, self.is_targeted)
        return dlr_gradient_terms(z, y_true, y)[0] if self.is_targeted else dlr_gradient_terms(z, y)[0]

    def _gradient(self, x, z, y, y_true):
        """Gradient of the objective at ``x`` (``z``: its logits), from its own passes."""
        if self.loss_type == "ce":
            g = self.classifier.loss_gradient(x, y, batch_size=max(len(x), 1))
            return -g if self.is_targeted else g
        _, classes, coef = dlr_gradient_terms(z, y_true, y) if self.is_targeted else dlr_gradient_terms(z, y)
        jac = self.classifier.class_gradient(x, label=classes, logits=True, batch_size=max(len(x), 1))
        return np.einsum("nm,nm...->n...", coef.astype(x.dtype), jac)

    def _logit_weights(self, z, y, y_true):
        """The objective's gradient with respect to the logits ``z`` (the weights of
        ``output_gradient``), and the objective itself (the same as :meth:`_loss`)."""
        z64 = z.astype(np.float64)
        rows = np.arange(len(z))
        if self.loss_type == "ce":
            lsm = log_softmax(z64)
            loss = -lsm[rows, y]                                    # CE(z, y)
            w = np.exp(lsm)
            w[rows, y] -= 1.0                                       # d CE(z, y) / dz = F - e_y
            if self.is_targeted:
                w, loss = -w, -loss
        else:
            loss, classes, coef = (dlr_gradient_terms(z64, y_true, y) if self.is_targeted
                                   else dlr_gradient_terms(z64, y))
            w = np.zeros_like(z64)
            np.add.at(w, (rows[:, None], classes), coef)
        return w.astype(z.dtype), loss

    def _logits_and_gradient(self, x, y, y_true):
        """Logits at ``x``, the objective's gradient (zero where the goal is reached), the
        objective and whether the goal is reached, per sample.

        With an adapter's own ``output_gradient``: one forward and one backward pass for all of
        ``x``, and the objective comes with the weights.  Otherwise ``predict``, then
        ``loss_gradient`` (``'ce'``) or ``class_gradient`` of the DLR's few classes for the
        samples not yet adversarial.
        """
        if self.classifier.native_output_gradient:
            losses = []

            def weights(out, rows):
                whole = len(rows) == len(y)                         # one batch: rows is arange(n)
                w, loss = self._logit_weights(out, y if whole else y[rows], y_true if whole else y_true[rows])
                losses.append(loss)
                return w

            z, grad = self.classifier.output_gradient(x, weights, logits=True, batch_size=max(len(x), 1))
            succ = self._is_adversarial(z, y)
            grad[succ] = 0
            # one call of the weights on all of x saw exactly z; with EOT draws z is their mean
            f = losses[0] if len(losses) == 1 and len(losses[0]) == len(x) else self._loss(z, y, y_true)
            return z, grad, f, succ
        z = self._predict(x, logits=True)
        succ = self._is_adversarial(z, y)
        grad = np.zeros_like(x)
        todo = np.flatnonzero(~succ)
        if todo.size:
            grad[todo] = self._gradient(x[todo], z[todo], y[todo], y_true[todo])
        return z, grad, self._loss(z, y, y_true), succ

    # -- algorithm ----------------------------------------------------------------------------
    def _box(self, x0):
        """Linf: per component, the ball around ``x0`` intersected with ``clip_values`` (else None)."""
        if parse_norm(self.norm) != np.inf:
            return None
        e = x0.dtype.type(self.eps)
        lo, hi = x0 - e, x0 + e
        cv = self.classifier.clip_values
        if cv is not None:
            np.maximum(lo, x0.dtype.type(cv[0]), out=lo)
            np.minimum(hi, x0.dtype.type(cv[1]), out=hi)
        return lo, hi

    def _project(self, v, x0, box):
        """Onto the ball around ``x0`` and into ``clip_values``; ``v`` is a temporary (Linf: clipped in place)."""
        if box is None:
            return self._clip(x0 + project(v - x0, self.eps, self.norm))
        np.maximum(v, box[0], out=v)                                # the box is the ball within the range
        return np.minimum(v, box[1], out=v)

    def _generate_batch(self, x, y, rng):
        if self.eps == 0 or len(x) == 0:
            return x
        z = self._predict(x, logits=True)
        y_true = z.argmax(axis=1)
        done = self._is_adversarial(z, y)
        out = x.copy()
        best = np.full(len(x), -np.inf)
        for _ in range(int(self.nb_random_init)):
            idx = np.flatnonzero(~done)
            if idx.size == 0:
                break
            start = self._clip(x[idx] + random_ball(rng.subset(idx), x.shape[1:], self.eps, self.norm, x.dtype))
            found, x_res, f_res = self._apgd(x[idx], start, y[idx], y_true[idx])
            done[idx[found]] = True
            better = found | (f_res > best[idx])
            out[idx[better]] = x_res[better]
            best[idx[better]] = np.where(found[better], np.inf, f_res[better])
        return out

    def _apgd(self, x0, start, y, y_true):
        """One run of Algorithm 1; returns (fooled, x_out, best loss) per sample.

        The state of the samples still running is kept in compact arrays (row ``i`` belongs to
        sample ``idx[i]``) that shrink when samples succeed, so an iteration costs in proportion
        to the samples left, with no gathers from full-size arrays.
        """
        n = len(x0)
        shape = (-1,) + (1,) * (x0.ndim - 1)
        p = parse_norm(self.norm)
        ckpts = checkpoints(int(self.max_iter))

        z, grad, f, found = self._logits_and_gradient(start, y, y_true)
        x_out = start.copy()
        f_out = np.full(n, np.inf)
        idx = np.flatnonzero(~found)
        # per running sample: inputs, labels, iterates, gradient, loss, step, best point, counters
        x0, y, y_true = x0[idx], y[idx], y_true[idx]
        x_cur, grad, f = start[idx], grad[idx], f[idx]
        box = self._box(x0)
        x_prev = x_cur.copy()
        eta = np.full(len(idx), 2.0 * float(self.eps), dtype=x0.dtype)
        f_max, x_max, g_max = f.copy(), x_cur.copy(), grad.copy()
        increases = np.zeros(len(idx), dtype=np.int64)
        reduced_last = np.zeros(len(idx), dtype=bool)
        f_max_ckpt = f_max.copy()
        last_ckpt = 0

        for k in range(int(self.max_iter)):
            if idx.size == 0:
                break
            alpha = np.float32(1.0 if k == 0 else MOMENTUM)
            step = eta.reshape(shape) * normalize(grad, p)
            zk = self._project(x_cur + step, x0, box)
            x_new = self._project(x_cur + alpha * (zk - x_cur) + (1 - alpha) * (x_cur - x_prev), x0, box)
            x_prev, x_cur = x_cur, x_new

            last = k + 1 == self.max_iter
            if last:                                                # no step follows: no gradient
                z_new = self._predict(x_new, logits=True)
                f_new, succ = self._loss(z_new, y, y_true), self._is_adversarial(z_new, y)
            else:
                z_new, grad, f_new, succ = self._logits_and_gradient(x_new, y, y_true)
            increases += f_new > f
            f = f_new
            improved = (f > f_max) & ~succ
            f_max[improved] = f[improved]
            x_max[improved] = x_cur[improved]
            if not last:
                g_max[improved] = grad[improved]
            if succ.any():                                          # these stop: output, then drop their rows
                found[idx[succ]] = True
                x_out[idx[succ]] = x_new[succ]
                keep = ~succ
                idx, x0, y, y_true = idx[keep], x0[keep], y[keep], y_true[keep]
                box = None if box is None else (box[0][keep], box[1][keep])
                x_cur, x_prev, f, eta = x_cur[keep], x_prev[keep], f[keep], eta[keep]
                f_max, x_max, g_max = f_max[keep], x_max[keep], g_max[keep]
                increases, reduced_last, f_max_ckpt = increases[keep], reduced_last[keep], f_max_ckpt[keep]
                if not last:
                    grad = grad[keep]
            if last or idx.size == 0:
                break

            if k + 1 in ckpts:
                window = (k + 1) - last_ckpt
                cond1 = increases < self.rho * window
                cond2 = ~reduced_last & (f_max <= f_max_ckpt)
                h = cond1 | cond2
                eta[h] /= 2
                x_cur[h] = x_max[h]
                grad[h] = g_max[h]
                f[h] = f_max[h]
                reduced_last = h
                increases[:] = 0
                f_max_ckpt = f_max.copy()
                last_ckpt = k + 1

        x_out[idx] = x_max                                           # never fooled: the best point
        f_out[idx] = f_max
        return found, x_out, f_out
