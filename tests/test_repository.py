"""The monorepo is consistent: every plugin is a distribution named by convention, and listed."""

from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement

import feint

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = sorted(p.parent for p in ROOT.glob("plugins/*/*/pyproject.toml"))
KIND = {"attacks": "attack", "defences": "defence", "frameworks": "framework", "metrics": "metric"}


def _meta(path):
    return tomllib.loads((path / "pyproject.toml").read_text())


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_plugin_layout(plugin):
    kind = KIND[plugin.parent.name]
    meta = _meta(plugin)["project"]
    name = meta["name"]
    assert name.startswith(f"feint-{kind}-"), name
    pkg = "feint_" + name[len("feint-"):].replace("-", "_")
    assert (plugin / "src" / pkg / "__init__.py").exists(), f"import package {pkg} missing"
    assert (plugin / "README.md").exists()
    assert list((plugin / "tests").glob("test_*.py")), "plugin has no tests"
    core = [d for d in meta.get("dependencies", []) if Requirement(d).name == "feint-core"]
    assert core, f"{name} does not declare feint-core"
    assert Requirement(core[0]).specifier.contains(feint.__version__), (core[0], feint.__version__)
    group = f"feint.{plugin.parent.name}"
    eps = meta.get("entry-points", {}).get(group, {})
    assert eps, f"no entry point in {group}"
    for value in eps.values():
        assert value.startswith(pkg + "."), value


def test_meta_distribution_depends_on_every_plugin():
    deps = set(_meta(ROOT)["project"]["dependencies"])
    expected = {"feint-core"} | {_meta(p)["project"]["name"] for p in PLUGINS}
    assert deps == expected, f"missing {sorted(expected - deps)}, extra {sorted(deps - expected)}"


def test_catalog_names_existing_distributions():
    from feint._catalog import CATALOG

    names = {_meta(p)["project"]["name"] for p in PLUGINS}
    for (_kind, _name), dist in CATALOG.items():
        if dist not in names:
            pytest.fail(f"catalog names {dist}, which is not in plugins/")
