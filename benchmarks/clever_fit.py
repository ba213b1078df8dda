"""CLEVER's reverse-Weibull fit: feint's profile likelihood against ``scipy.stats.weibull_min.fit``.

    python -m benchmarks clever_fit [--inputs 16] [--seed 0]

Both fit the same law to the same batch maxima (CLEVER, Algorithm 8 of the ART v0.2.2 paper,
§7.3, untargeted, L2, r = 2, 50 batches of 20, on the seeded digits CNN).  For every
(input, class) set the script prints how each fit ended and where its end point (the Lipschitz
estimate) lies relative to the largest observation, and compares the log-likelihoods where both
converged.  The three-parameter Weibull likelihood is unbounded as the end point approaches the
largest observation when the shape is below 1 (Smith 1985, *Biometrika* 72), so a fit that ends
there with a shape below 1 has found that boundary, not an interior maximum; its "estimate" is
the sample maximum.  This is a diagnostic, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import collections
import warnings


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks clever_fit", description=__doc__.splitlines()[0])
    p.add_argument("--inputs", type=int, default=16, help="first test images (default 16, as the main table)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    import numpy as np
    import torch

    torch.set_num_threads(1)
    from feint.rng import make_seed
    from feint_framework_torch.testing import digits_cnn
    from feint_metric_clever.clever import _batch_maxima
    from feint_metric_clever.weibull import fit_reverse_weibull, reverse_weibull_logpdf

    clf, _, (x, _) = digits_cnn()
    x = x[:args.inputs]
    pred = clf.predict(x).argmax(axis=1)
    k = clf.nb_classes
    labels = np.array([[c] + [t for t in range(k) if t != c] for c in pred])
    maxima = _batch_maxima(clf, x, labels, 50, 20, 2.0, 2, 10, make_seed(args.seed), 128).reshape(-1, 50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = {"profile": fit_reverse_weibull(maxima, method="profile"),
                "scipy": fit_reverse_weibull(maxima, method="scipy")}
    top = maxima.max(axis=1)
    print(f"{len(maxima)} (input, class) sets of {maxima.shape[1]} batch maxima, {args.inputs} inputs")
    print("fit outcomes (profile, scipy):", dict(collections.Counter(zip(fits["profile"].status, fits["scipy"].status))))
    for name, f in fits.items():
        ok = f.ok
        above = f.loc[ok] / top[ok] - 1
        at_max = above < 1e-4
        print(f"{name:8s}: {ok.sum():3d} fits; end point within 1e-4 of the largest observation in {at_max.sum()} "
              f"({(f.shape[ok][at_max] < 1).sum()} with shape < 1); median end point {100 * np.median(above):.1f} % "
              f"above it; median shape {np.median(f.shape[ok]):.2f}")
    both = fits["profile"].ok & fits["scipy"].ok

    def loglik(f, i):
        return reverse_weibull_logpdf(maxima[i], f.loc[i], f.shape[i], f.scale[i]).sum()

    rows = np.flatnonzero(both)
    diff = np.array([loglik(fits["profile"], i) - loglik(fits["scipy"], i) for i in rows])
    if diff.size:
        s = fits["scipy"]
        boundary = (s.loc[rows] / top[rows] - 1 < 1e-4) & (s.shape[rows] < 1)
        higher = diff < -1e-3
        print(f"both converged on {both.sum()} sets: log-likelihood profile - scipy, median {np.median(diff):.2f}; "
              f"scipy higher on {higher.sum()} ({(higher & boundary).sum()} of them with its end point on the largest "
              f"observation and shape < 1, where the likelihood is unbounded), profile higher on {(diff > 1e-3).sum()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
