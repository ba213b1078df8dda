"""The ``feint`` command: ``list``, ``info``, ``doctor`` and ``evaluate``.

``feint list`` reads installed metadata only and imports no plugin and no framework.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["main"]

FRAMEWORKS = ("torch", "tensorflow", "tensorflow-cpu", "keras", "jax", "jaxlib", "numpy", "scipy")


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def _cmd_list(args) -> int:
    from feint.registry import default_registry

    entries = default_registry().entries(args.kind, args.pattern or "*", include_shadowed=True)
    if args.format == "json":
        print(json.dumps([{"kind": e.kind, "name": e.name, "distribution": e.dist, "version": e.version,
                           "status": e.status_text, "summary": e.summary, "aliases": sorted(e.aliases)}
                          for e in entries], indent=2))
        return 0
    if not entries:
        print("no components installed" + (f" matching {args.pattern!r}" if args.pattern else ""))
        return 0
    rows = [[e.kind, e.name, e.dist or "(in-process)", e.version or "", e.status_text,
             (e.summary[:60] + "...") if len(e.summary) > 63 else e.summary] for e in entries]
    print(_table(rows, ["kind", "name", "distribution", "version", "status", "summary"]))
    return 0


def _cmd_info(args) -> int:
    import feint

    data = feint.info(args.name, args.kind)
    if args.format == "json":
        print(json.dumps(data, indent=2, default=str))
        return 0
    for key in ("kind", "name", "distribution", "version", "status", "summary", "object", "entry_point"):
        print(f"{key:>12}: {data[key]}")
    print(f"{'aliases':>12}: {', '.join(data['aliases']) or '-'}")
    if data["requires"]:
        print(f"{'requires':>12}: {', '.join(data['requires'])}")
    if data["provides"]:
        print(f"{'provides':>12}: {', '.join(data['provides'])}")
    print(f"{'parameters':>12}:")
    for k, v in data["parameters"].items():
        print(f"{'':>14}{k} = {v}")
    return 0


def versions() -> dict[str, str]:
    """Versions of python, feint-core and the frameworks, read from metadata (no import)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from feint._version import __version__

    out = {"python": platform.python_version(), "feint-core": __version__}
    for name in FRAMEWORKS:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def _cmd_doctor(args) -> int:
    import warnings

    from feint.errors import FeintPluginWarning
    from feint.registry import default_registry

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FeintPluginWarning)
        reg = default_registry()
        reg.try_load_all()
    print("versions:")
    for k, v in versions().items():
        print(f"  {k:<16} {v}")
    entries = reg.entries(include_shadowed=True)
    by_status: dict[str, list] = {}
    for e in entries:
        by_status.setdefault(e.status, []).append(e)
    print(f"plugins: {len(entries)} components, " + ", ".join(f"{len(v)} {k}" for k, v in sorted(by_status.items())))
    bad = 0
    for status in ("broken", "incompatible", "unavailable", "shadowed"):
        for e in by_status.get(status, []):
            bad += status in ("broken", "incompatible")
            print(f"  {status.upper():<12} {e.kind} {e.name!r} from {e.where()}: {e.reason}")
    messages = {str(w.message) for w in caught} | set(reg.problems())
    for m in sorted(messages):
        print(f"  warning: {m}")
    if not bad:
        print("all usable plugins import cleanly")
    return 1 if bad else 0


def _cmd_evaluate(args) -> int:
    try:
        from feint.pipeline.cli import run_evaluate
    except ImportError:
        print("feint evaluate: the pipeline module is not available in this feint-core", file=sys.stderr)
        return 2
    return run_evaluate(args)


def build_parser() -> argparse.ArgumentParser:
    from feint._version import __version__

    p = argparse.ArgumentParser(prog="feint", description="Adversarial robustness toolbox (plugins, attacks, "
                                "defences, metrics, evaluation).")
    p.add_argument("--version", action="version", version=f"feint-core {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="list installed components (imports nothing)")
    ls.add_argument("pattern", nargs="?", help="fnmatch pattern, e.g. '*pgd*'")
    ls.add_argument("--kind", choices=["attack", "defence", "framework", "metric"])
    ls.add_argument("--format", choices=["table", "json"], default="table")
    ls.set_defaults(func=_cmd_list)
    inf = sub.add_parser("info", help="describe one component (imports it)")
    inf.add_argument("name", help="name or spec, e.g. 'pgd' or 'featsqueeze5'")
    inf.add_argument("--kind", choices=["attack", "defence", "framework", "metric"])
    inf.add_argument("--format", choices=["text", "json"], default="text")
    inf.set_defaults(func=_cmd_info)
    doc = sub.add_parser("doctor", help="versions, and import every plugin to find broken ones")
    doc.set_defaults(func=_cmd_doctor)
    ev = sub.add_parser("evaluate", help="run an evaluation pipeline from a TOML config")
    ev.add_argument("config", nargs="?", help="config file (default: the built-in digits evaluation)")
    ev.add_argument("--out", help="output folder (overrides the config)")
    ev.add_argument("--quiet", action="store_true", help="no progress bars")
    ev.add_argument("--resume", action="store_true", help="skip cells already in the output folder")
    ev.add_argument("--samples", type=int, help="number of samples (overrides the config)")
    ev.set_defaults(func=_cmd_evaluate)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from feint.errors import FeintError

    try:
        return int(args.func(args) or 0)
    except FeintError as exc:
        print(f"feint {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
