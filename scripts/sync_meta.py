"""Rewrite the first-party dependency list of the root pyproject.toml from plugins/*/*/pyproject.toml.

Usage: python scripts/sync_meta.py   (tests/test_repository.py checks the list is in step)
"""

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    names = sorted(tomllib.loads(p.read_text())["project"]["name"] for p in ROOT.glob("plugins/*/*/pyproject.toml"))
    block = "dependencies = [\n" + "".join(f'    "{n}",\n' for n in ["feint-core", *names]) + "]\n"
    path = ROOT / "pyproject.toml"
    text = path.read_text()
    new = re.sub(r"(# BEGIN first-party[^\n]*\n).*?(# END first-party)", lambda m: m.group(1) + block + m.group(2),
                 text, flags=re.S)
    path.write_text(new)
    print(f"{len(names)} plugins listed")


if __name__ == "__main__":
    main()
