"""Real plugin distributions, installed with pip: listing, creation, removal, and failures.

The fixture plugins live in tests/fixtures/.  The well-behaved one is installed into the test
environment and uninstalled again; the misbehaving ones go into a temporary folder put on
PYTHONPATH of a subprocess, so the test environment is never left with a broken plugin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args], check=True,
                   capture_output=True, text=True)


def _run(code: str, extra_path: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "FEINT_PROGRESS": "0"}
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def _feint(*args: str, extra_path: Path | None = None) -> subprocess.CompletedProcess:
    return _run(f"import sys; from feint.cli import main; sys.exit(main({list(args)!r}))", extra_path)


def test_install_list_create_uninstall():
    try:
        _pip("install", "--no-build-isolation", "--no-deps", str(FIXTURES / "good"))
        listed = _feint("list", "--kind", "attack", "--format", "json")
        assert listed.returncode == 0, listed.stderr
        rows = {r["name"]: r for r in json.loads(listed.stdout)}
        assert rows["fixture_noise"]["distribution"] == "feint-attack-fixture"
        assert rows["fixture_noise"]["version"] == "0.3.1"
        assert rows["fixture_noise"]["status"] == "ok"
        made = _run(
            "import feint\n"
            "from feint.testing import trained_reference\n"
            "clf, x, _ = trained_reference('softmax', nb_epochs=1)\n"
            "a = feint.create('attack', 'fixture_noise(eps=0.05)', clf)\n"
            "adv = a.generate(x[:5], random_state=1)\n"
            "assert type(a).__module__ == 'feint_attack_fixture', type(a)\n"
            "assert abs(adv - x[:5]).max() <= 0.05 + 1e-6\n"
            "print(str(a))\n")
        assert made.returncode == 0, made.stderr
        assert made.stdout.strip() == "fixture_noise(eps=0.05, random_state=1)"
    finally:
        _pip("uninstall", "-y", "feint-attack-fixture")
    gone = _feint("list", "--kind", "attack", "--format", "json")
    assert "fixture_noise" not in {r["name"] for r in json.loads(gone.stdout)}
    unknown = _run("import feint\nfeint.create('attack', 'fixture_noise')")
    assert "UnknownComponentError" in unknown.stderr and "fixture_noise" in unknown.stderr


@pytest.fixture(scope="module")
def troubled(tmp_path_factory) -> Path:
    """broken, duplicate, incompatible and framework-less fixture plugins in one folder."""
    target = tmp_path_factory.mktemp("plugins")
    _pip("install", "--no-build-isolation", "--no-deps", "--target", str(target),
         *(str(FIXTURES / d) for d in ("broken", "dup_a", "dup_b", "incompatible", "needs_framework")))
    return target


def test_listing_imports_nothing_and_reports_status(troubled):
    out = _feint("list", "--format", "json", extra_path=troubled)
    assert out.returncode == 0, out.stderr
    rows = {(r["name"], r["distribution"]): r for r in json.loads(out.stdout)}
    # the broken plugin is not imported by listing, so it still looks fine here
    assert rows[("broken_attack", "feint-attack-broken")]["status"] == "ok"
    assert rows[("future_attack", "feint-attack-future")]["status"].startswith("incompatible")
    assert "feint-core>=9.0" in rows[("future_attack", "feint-attack-future")]["status"]
    fictional = rows[("fictional", "feint-framework-fictional")]["status"]
    assert fictional.startswith("unavailable") and "fictional-deep-learning-framework" in fictional
    assert rows[("dupe", "feint-attack-dupe-b")]["status"] == "shadowed (by feint-attack-dupe-a)"
    assert "must never be imported" not in out.stderr


def test_broken_plugin_raises_plugin_load_error_and_others_work(troubled):
    out = _run(
        "import feint\n"
        "from feint.errors import PluginLoadError\n"
        "try:\n"
        "    feint.create('attack', 'broken_attack', None)\n"
        "except PluginLoadError as e:\n"
        "    print('DIST', e.dist, e.version)\n"
        "    print('EP', e.entry_point)\n"
        "    print('CAUSE', type(e.__cause__).__name__, e.__cause__)\n"
        "from feint.testing import trained_reference\n"
        "clf, x, _ = trained_reference('softmax', nb_epochs=1)\n"
        "print('OTHER', type(feint.create('attack', 'dupe', clf)).origin)\n", troubled)
    assert out.returncode == 0, out.stderr
    assert "DIST feint-attack-broken 0.0.1" in out.stdout
    assert "EP feint.attacks:broken_attack = feint_attack_broken:Broken" in out.stdout
    assert "CAUSE RuntimeError this fixture plugin is broken on purpose" in out.stdout
    assert "OTHER a" in out.stdout


def test_doctor_reports_broken_and_incompatible(troubled):
    out = _feint("doctor", extra_path=troubled)
    assert out.returncode == 1
    assert "BROKEN" in out.stdout and "feint-attack-broken 0.0.1" in out.stdout
    assert "this fixture plugin is broken on purpose" in out.stdout
    assert "INCOMPATIBLE" in out.stdout and "feint-attack-future" in out.stdout
    assert "UNAVAILABLE" in out.stdout and "fictional-deep-learning-framework" in out.stdout
    assert "must never be imported" not in out.stdout + out.stderr


def test_duplicate_warns_naming_both_and_can_be_switched(troubled):
    out = _run(
        "import warnings\n"
        "warnings.simplefilter('always')\n"
        "import feint\n"
        "from feint.testing import trained_reference\n"
        "clf, x, _ = trained_reference('softmax', nb_epochs=1)\n"
        "print('FIRST', type(feint.create('attack', 'dupe', clf)).origin)\n"
        "feint.prefer('attack', 'dupe', 'feint-attack-dupe-b')\n"
        "print('SECOND', type(feint.create('attack', 'dupe', clf)).origin)\n", troubled)
    assert out.returncode == 0, out.stderr
    assert "FeintPluginWarning" in out.stderr
    assert "feint-attack-dupe-a 1.0.0" in out.stderr and "feint-attack-dupe-b 2.0.0" in out.stderr
    assert "FIRST a" in out.stdout and "SECOND b" in out.stdout
    env_pick = _run("import feint\nprint(feint.load('attack', 'dupe').origin)", troubled)
    assert env_pick.stdout.strip() == "a"


def test_incompatible_plugin_is_not_loaded(troubled):
    out = _run(
        "import feint\n"
        "from feint.errors import IncompatiblePluginError\n"
        "try:\n"
        "    feint.load('attack', 'future_attack')\n"
        "except IncompatiblePluginError as e:\n"
        "    print('REFUSED', e)\n", troubled)
    assert out.returncode == 0, out.stderr
    assert "REFUSED" in out.stdout and "feint-core>=9.0" in out.stdout
    assert "must never be imported" not in out.stdout + out.stderr
