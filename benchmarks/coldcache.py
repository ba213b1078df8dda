"""What a classifier call's own work costs right after a model pass, against the same work back to back.

    python -m benchmarks coldcache [--repeats 300]

The ``×replay`` ratios of the attacks whose passes are small (APGD's last iterations, JSMA,
NewtonFool, VAT on the digits CNN) are mostly the time feint spends between the passes, and that
time is not what a microbenchmark of the same code says.  This times four small pieces of work:
a pure-Python loop (``sum(range(200))``), one numpy reduction (``x.min()`` on 256 digits), and
``Classifier.check_x`` (copy the batch, one ``min`` and one ``max``) on 1 and on 256 digits; each
back to back, right after a plain-PyTorch forward+backward pass of the digits CNN on one image and
on 256 images, and right after numpy wrote 64 MB (no model at all).  After a pass the
interpreter's and numpy's code and data are no longer in the CPU caches, and the same few calls
take several times longer; the memory row shows that any work with a large enough footprint does
the same.  An attack pays that price for every step between two passes, whatever the step
computes, so what counts is the number of steps rather than their size; the replay (which runs
its passes back to back with almost nothing in between) does not pay it.  Nothing is asserted;
medians are printed.
"""

from __future__ import annotations

import argparse
import statistics
import time


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks coldcache", description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=300, help="timed calls per cell (default 300)")
    args = p.parse_args(argv)

    from benchmarks.floor import limit_threads, load_batch, replay_calls

    limit_threads(1)
    import numpy as np

    from feint_framework_torch import PyTorchClassifier

    batch = load_batch(256)
    clf = PyTorchClassifier((0.0, 1.0), batch.model, None, None, batch.x.shape[1:], 10)
    x1, x256 = batch.x[:1].copy(), batch.x.copy()
    big = np.zeros(64 << 18, dtype=np.float32)                   # 64 MB
    before = {"nothing (back to back)": lambda: None,
              "a forward+backward of 1 image": lambda: replay_calls(batch.model, batch.x, [(1, 1)]),
              "a forward+backward of 256 images": lambda: replay_calls(batch.model, batch.x, [(256, 1)]),
              "numpy writing 64 MB": lambda: big.fill(1.0)}
    pieces = {"python loop": lambda: sum(range(200)), "x.min(), 256": x256.min,
              "check_x, 1": lambda: clf.check_x(x1), "check_x, 256": lambda: clf.check_x(x256)}
    print(f"median time in microseconds, after {'':31s}" + "".join(f"{k:>16s}" for k in pieces))
    for label, run_before in before.items():
        times = {k: [] for k in pieces}
        for _ in range(max(1, args.repeats)):
            for k, piece in pieces.items():
                run_before()
                t0 = time.perf_counter()
                piece()
                times[k].append(time.perf_counter() - t0)
        print(f"{label:66s}" + "".join(f"{statistics.median(times[k]) * 1e6:16.1f}" for k in pieces))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
