"""``feint evaluate [CONFIG.toml] [--out DIR] [--quiet] [--resume] [--samples N]``."""

from __future__ import annotations

import sys

__all__ = ["run_evaluate"]


def run_evaluate(args) -> int:
    """Entry point used by ``feint.cli``; returns the exit status (1 when some cell failed)."""
    from feint.pipeline.report.tables import pct
    from feint.pipeline.run import evaluate

    report = evaluate(args.config, out=args.out, quiet=args.quiet, resume=args.resume, samples=args.samples)
    out = sys.stdout
    print(f"{report['title']}: {report['data']['n']} inputs, {report['summary']['cells']} cells "
          f"({report['summary']['run']} run, {report['summary']['resumed']} resumed) in "
          f"{report['timings']['total']:.1f} s", file=out)
    for c in report["clean"]:
        print(f"  clean accuracy {pct(c.get('clean_accuracy')):>7}  {c['defence']}", file=out)
    for c in report["attacks"]:
        if c["status"] == "done" and c["defence"] == "none":
            print(f"  success {pct(c['success_rate']):>7}  {c['attack']} ({c['target']}, no defence)", file=out)
    warned = [c for c in report["sanity"].get("checks", []) if c.get("status") == "warned"]
    for c in warned:
        print(f"  SANITY WARNING {c['name']}: {c['message']}", file=out)
    errors = report["summary"]["errors"]
    if errors:
        print(f"  {errors} cell(s) failed; see the reports", file=out)
    for path in report.get("outputs", []):
        print(f"wrote {path}", file=out)
    return 1 if errors else 0
