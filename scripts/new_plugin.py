"""Copy plugins/_template/ to plugins/<kinds>/<name>/ with the placeholders filled in.

Usage: python scripts/new_plugin.py attack my_attack
"""

import shutil
import sys
from pathlib import Path

KINDS = {"attack": "attacks", "defence": "defences", "framework": "frameworks", "metric": "metrics"}


def main(kind: str, name: str) -> None:
    root = Path(__file__).resolve().parents[1]
    dest = root / "plugins" / KINDS[kind] / name
    if dest.exists():
        sys.exit(f"{dest} exists")
    shutil.copytree(root / "plugins" / "_template", dest)
    pkg = dest / "src" / "feint_KIND_NAME"
    pkg.rename(dest / "src" / f"feint_{kind}_{name}")
    for path in dest.rglob("*"):
        if path.is_file():
            text = path.read_text()
            text = (text.replace("feint_KIND_NAME", f"feint_{kind}_{name}")
                    .replace("KIND-DISTNAME", f"{kind}-{name.replace('_', '-')}")
                    .replace("feint.KINDS", f"feint.{KINDS[kind]}").replace("KINDS", KINDS[kind])
                    .replace("KIND", kind).replace("NAME", name))
            path.write_text(text)
    print(f"created {dest.relative_to(root)}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
