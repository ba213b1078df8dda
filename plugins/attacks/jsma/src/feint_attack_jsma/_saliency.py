"""The pieces of JSMA as plain functions (paper 000 §5.4, Algorithm 2).

``logit_gradients`` gives, per sample, the gradient of the target logit ``Z_y`` and of the sum of
the other logits ``sum_{k != y} Z_k``; ``best_pairs`` runs Algorithm 2's search over all pairs of
a batch at once.  For the probabilities ``F`` the sum of the others is ``1 - F_y``, so its
gradient is ``-grad F_y`` and the search reduces to ``best_pairs_opposed`` (two extreme
components, O(N) instead of O(N^2)).

Both searches optionally respect an L0 budget: given the components already ``modified`` and the
``room`` left (how many more may change), only pairs adding at most ``room`` new components
qualify.
"""

from __future__ import annotations

import numpy as np

__all__ = ["best_pairs", "best_pairs_opposed", "logit_gradients"]

#: number of classes up to which one class_gradient over all classes is used (see logit_gradients)
ALL_CLASSES_UP_TO = 4
#: elements of the (samples, N, N) pair tables computed at once (bounds memory, not results)
PAIR_TABLE_ELEMENTS = 1 << 22
#: the gain given to components outside the search space in best_pairs_opposed: far below any
#: gradient, and twice it still finite in float32, so a pair with one of them never qualifies
_OUT = 1e30


def logit_gradients(classifier, x: np.ndarray, y: np.ndarray, batch_size: int):
    """Gradients of ``Z_y`` and of ``sum_{k != y} Z_k`` w.r.t. ``x``, each flattened to ``(n, N)``.

    Two exact formulations, chosen by cost:

    * ``K <= 4`` classes, or no ``loss_gradient``: one ``class_gradient`` over all K classes
      (1 forward + K backward passes), summed.
    * otherwise three calls with one backward each (3 forward + 3 backward, whatever K is).
      ``a = grad Z_y`` comes from ``class_gradient(label=y, logits=True)``.  The contract's
      ``loss_gradient(x, t)`` is the gradient of the cross-entropy ``-sum_k t_k log F_k`` for a
      probability row ``t``, i.e. ``J^T (F - t)`` with ``J`` the logit Jacobian.  With ``t = e_y``
      and ``t = 1/K`` the unknown ``J^T F`` cancels in the difference:
      ``G(e_y) - G(1/K) = S / K - a`` with ``S = grad sum_k Z_k``, so ``S = K (G(e_y) - G(1/K) + a)``.

    The second form relies on ``loss_gradient`` being the softmax cross-entropy the contract
    specifies; with a randomised defence each call draws its own transformation.
    """
    n = x.shape[0]
    k = int(classifier.nb_classes)
    rows = np.arange(n)
    if k <= ALL_CLASSES_UP_TO or "loss_gradient" not in classifier.provides:
        g = classifier.class_gradient(x, label=None, logits=True, batch_size=batch_size).reshape(n, k, -1)
        a = g[rows, y]
        return a, g.sum(axis=1) - a
    a = classifier.class_gradient(x, label=y, logits=True, batch_size=batch_size).reshape(n, -1)
    g_y = classifier.loss_gradient(x, y, batch_size=batch_size).reshape(n, -1)
    uniform = np.full((n, k), 1.0 / k, dtype=classifier.np_dtype)
    g_u = classifier.loss_gradient(x, uniform, batch_size=batch_size).reshape(n, -1)
    total = k * (g_y.astype(np.float64) - g_u + a)
    return a, (total - a).astype(a.dtype)


def best_pairs(a: np.ndarray, b: np.ndarray, search: np.ndarray, increase: bool,
               modified: np.ndarray | None = None, room: np.ndarray | None = None):
    """Algorithm 2 for a batch: the pair ``{i, j}`` of ``search`` maximising ``|alpha * beta|``.

    ``alpha = a_i + a_j`` (target logit), ``beta = b_i + b_j`` (other logits).  For
    ``increase=True`` (theta > 0) a pair qualifies when ``alpha > 0`` and ``beta < 0``; for
    ``increase=False`` (theta < 0) when ``alpha < 0`` and ``beta > 0``.  With ``modified``
    (bool, like ``search``) and ``room`` (int per sample), a pair also needs at most ``room`` of
    its components outside ``modified``.

    Returns ``(score, i, j)``: per sample the best score (``-inf`` when no pair qualifies) and the
    two component indices.  Ties go to the smallest ``i * N + j`` with ``i < j``.  All pairs of a
    sample are compared at once; samples are taken in chunks of ``PAIR_TABLE_ELEMENTS / N**2`` to
    bound memory (the search costs O(N^2) per sample and iteration).
    """
    n, d = a.shape
    score = np.full(n, -np.inf, dtype=np.float64)
    first = np.zeros(n, dtype=np.int64)
    second = np.zeros(n, dtype=np.int64)
    upper = np.triu(np.ones((d, d), dtype=bool), k=1)
    chunk = max(1, PAIR_TABLE_ELEMENTS // max(d * d, 1))
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        aa = a[s:e, :, None] + a[s:e, None, :]
        bb = b[s:e, :, None] + b[s:e, None, :]
        ok = upper & search[s:e, :, None] & search[s:e, None, :]
        ok &= (aa > 0) & (bb < 0) if increase else (aa < 0) & (bb > 0)
        if room is not None:
            new = (~modified[s:e]).astype(np.int64)
            ok &= new[:, :, None] + new[:, None, :] <= room[s:e, None, None]
        table = np.where(ok, np.abs(aa * bb), -np.inf).reshape(e - s, -1)
        best = table.argmax(axis=1)
        score[s:e] = table[np.arange(e - s), best]
        first[s:e], second[s:e] = np.divmod(best, d)
    return score, first, second


def best_pairs_opposed(a: np.ndarray, search: np.ndarray, increase: bool,
                       modified: np.ndarray | None = None, room: np.ndarray | None = None):
    """:func:`best_pairs` for ``b = -a`` (the probability saliency map), in O(N) per sample.

    With ``beta = -alpha`` the conditions reduce to ``alpha > 0`` (``alpha < 0`` when decreasing)
    and ``|alpha * beta| = alpha**2``, so the best pair is the two largest (smallest) components
    of ``a`` in the search space, provided their sum has the right sign.  Under a budget
    (``modified``, ``room``): with ``room >= 2`` any pair; with ``room == 1`` the best modified
    component with the best other one (a pair with at least one modified component cannot beat
    it); with ``room == 0`` the two best modified components.
    """
    n = a.shape[0]
    rows = np.arange(n)
    # maximise gain_i + gain_j over the search space: components outside it get -_OUT, by
    # arithmetic (np.where with a scattered mask costs ~6x as much on the digits' 256 x 64)
    first_pool = np.multiply(a, search, dtype=a.dtype)
    if not increase:
        np.negative(first_pool, out=first_pool)
    first_pool -= np.subtract(1, search, dtype=a.dtype) * a.dtype.type(_OUT)
    second_pool = first_pool.copy()
    if room is not None:
        tight = np.flatnonzero(room < 2)                                # usually none: a pool each only then
        if tight.size:
            old = np.where(modified[tight], first_pool[tight], -np.inf)
            first_pool[tight] = old
            second_pool[tight[room[tight] < 1]] = old[room[tight] < 1]
    first = first_pool.argmax(axis=1)
    top = first_pool[rows, first]
    second_pool[rows, first] = -np.inf
    second = second_pool.argmax(axis=1)
    alpha = top + second_pool[rows, second]                            # (a sum's sign survives rounding)
    ok = alpha > 0                                         # also False when fewer than 2 qualify
    score = np.where(ok, np.square(alpha, dtype=np.float64), -np.inf)
    return score, np.minimum(first, second), np.maximum(first, second)
