"""``python -m benchmarks [COMMAND] [OPTIONS]``: the benchmarks' one command.

Commands (each is also a script, ``python benchmarks/<command>.py``):

  attacks    (default) every installed attack and metric against the model-pass floor, with
             ``--peers`` beside ART, torchattacks and foolbox; writes results/<date>.json and
             the README table
  adapters   framework adapter overhead: loss_gradient against each framework's own pass
  clever     CLEVER batched against a per-input loop
  defences   clean and robust accuracy of every defence (non-adaptive, BPDA, BPDA+EOT) and cost

Every other ``benchmarks/<name>.py`` with a ``main(argv)`` is a command too.

``python -m benchmarks COMMAND --help`` gives a command's options.
"""

from __future__ import annotations

import importlib
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: modules of this package that are parts of the attacks command, not commands
_PARTS = {"__init__", "__main__", "cases", "floor", "peers", "report"}


def commands() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if p.stem not in _PARTS and not p.stem.startswith("_"))


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help") and len(argv) == 1:
        print(__doc__.strip())
        print("\ncommands here:", ", ".join(commands()))
        print("\noptions of the default command:\n")
        from benchmarks.attacks import _parser

        _parser().print_help()
        return 0
    if argv and not argv[0].startswith("-"):
        name, rest = argv[0], argv[1:]
        if name not in commands():
            print(f"python -m benchmarks: unknown command {name!r}; commands: {', '.join(commands())}", file=sys.stderr)
            return 2
    else:
        name, rest = "attacks", argv
    if name == "attacks":
        from benchmarks.attacks import main as attacks_main

        return attacks_main(rest)
    # a self-contained script: its main(argv) when it has one, else run it as its own __main__
    sys.argv = [str(HERE / f"{name}.py"), *rest]
    try:
        module = importlib.import_module(f"benchmarks.{name}")
        if callable(getattr(module, "main", None)):
            code = module.main(rest)
        else:
            runpy.run_module(f"benchmarks.{name}", run_name="__main__", alter_sys=True)
            code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return int(code or 0)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
