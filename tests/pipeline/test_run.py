"""A tiny evaluation end to end: the three reports, their fields and schema, seeds, --resume, progress."""

import base64
import json
import re
from importlib import metadata

import pytest

import feint
from feint.pipeline.report import load_schema, validate


def _numbers(report):
    """Everything a rerun must reproduce (not timings, dates or cell times)."""
    drop = {"seconds", "attack_seconds"}
    strip = lambda cells: [{k: v for k, v in c.items() if k not in drop} for c in cells]  # noqa: E731
    return {g: strip(report[g]) for g in ("clean", "attacks", "robust_accuracy", "metrics")}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, toy_dir, rounding_defence):
    import sys

    sys.path.insert(0, str(toy_dir))
    out = tmp_path_factory.mktemp("run") / "report"
    cfg = _cfg(toy_dir, out)
    events = []

    class Recorder:
        @feint.hookimpl
        def feint_task_start(self, task):
            events.append((task.kind, task.name, task.total, task.parent.name if task.parent else None))

    from feint.hooks import get_plugin_manager

    pm = get_plugin_manager()
    recorder = Recorder()
    pm.register(recorder, name="test-recorder")
    try:
        report = feint.evaluate(cfg, quiet=True)
    finally:
        pm.unregister(name="test-recorder")
        sys.path.remove(str(toy_dir))
    return cfg, out, report, events


def _cfg(toy_dir, out):
    return {
        "title": "toy evaluation", "seed": 3, "samples": 40, "out": str(out),
        "attacks": ["fgsm(eps=0.3)", "fgsm(minimal=True, eps_step=0.05, eps_max=1.0)"],
        "targets": ["untargeted", "next"], "defences": ["none", "test_rounding(levels=5)"], "adaptive": "both",
        "metrics": ["loss_sensitivity", "clever_u(n_batch=10, n_sample=4, r=1.0)"], "metric_samples": 8,
        "model": {"loader": "feint_toy_model:build", "loader_args": {"nb_epochs": 40}},
        "data": {"source": str(toy_dir / "data.npz")},
        "robust_accuracy": {"eps": [0.0, 0.1, 0.3]},
    }


def test_three_reports_with_the_required_fields(first_run):
    cfg, out, report, _ = first_run
    assert sorted(p.rsplit("/", 1)[-1] for p in report["outputs"]) == ["report.html", "report.json", "report.md"]
    data = json.loads((out / "report.json").read_text())
    assert data["schema"] == "feint-report/1"
    assert data["feint"]["version"] == feint.__version__ and data["versions"]["feint-core"] == feint.__version__
    assert {"python", "numpy", "platform"} <= set(data["versions"])
    dists = {p["distribution"]: p for p in data["plugins"]}
    fgsm = dists["feint-attack-fgsm"]
    assert fgsm["version"] == metadata.version("feint-attack-fgsm") and "attack:fgsm" in fgsm["components"]
    assert dists["feint-metric-clever"]["components"] == ["metric:clever_u"]
    assert "defence:test_rounding" in dists["(registered in-process)"]["components"]
    # the resolved config has every default, the components every parameter
    assert data["config"]["batch_size"] == 128 and data["config"]["formats"] == ["json", "md", "html"]
    assert data["config"]["data"]["x_key"] == "x" and data["seed"] == 3
    fgsm = data["components"]["attacks"][0]
    assert fgsm["params"]["eps"] == 0.3 and fgsm["params"]["norm"] == "inf" and fgsm["budget"] == [0.3, "inf"]
    assert fgsm["params"]["random_state"] == 3 and fgsm["params"]["batch_size"] == 128   # what the grid ran
    clever = data["components"]["metrics"][1]["params"]
    assert clever["n_batch"] == 10 and clever["pool_factor"] == 10 and clever["c_init"] == 1.0
    assert clever["random_state"] == 3
    assert data["timings"]["total"] > 0 and data["timings"]["grid"] > 0
    assert f"feint {feint.__version__} (" in data["citation"] and f"feint-attack-fgsm {fgsm['version']}" in data["citation"]
    assert "with its default parameters, an Linf budget of 0.3" in data["citation"]
    assert data["sanity"]["status"] in ("passed", "warned")
    names = {c["name"].split(" (")[0] for c in data["sanity"]["checks"]}
    assert {"one_step_beats_iterative", "zero_gradients", "large_eps_not_total"} <= names
    md = (out / "report.md").read_text()
    for needle in ("# toy evaluation", "## Clean accuracy per defence", "Attack success rate — untargeted",
                   "Attack success rate — next", "Robust accuracy vs eps", "| fgsm (adaptive) |", "## Versions",
                   "feint-attack-fgsm", data["citation"]):
        assert needle in md


def test_grid_semantics(first_run):
    _, _, report, _ = first_run
    cells = report["attacks"]
    # 2 attacks x 2 targets x (none + rounding adaptive/non-adaptive)
    assert len(cells) == 2 * 2 * 3 and all(c["status"] == "done" for c in cells)
    clean = {c["defence"]: c for c in report["clean"]}
    for c in cells:
        assert c["n"] == clean[c["defence"]]["n_correct"]          # success measured on correct inputs only
        assert 0 <= c["success_rate"] <= 1 and c["n_success"] == round(c["success_rate"] * c["n"])
        if c["n_success"]:
            assert len(c["distances"]["l2"]) == c["n_success"] and c["linf"]["max"] <= 1.0 + 1e-6
    plain = [c for c in cells if c["attack"] == "fgsm" and c["target"] == "untargeted"]
    assert all(c["linf"]["max"] == pytest.approx(0.3, abs=1e-6) for c in plain)
    sweep = {(c["attack"], c["defence"], c["adaptive"]): c for c in report["robust_accuracy"]}
    assert set(a for a, _, _ in sweep) == {"fgsm"}            # the minimal search has no eps budget to sweep
    none = sweep[("fgsm", "none", None)]
    assert none["eps"] == [0.0, 0.1, 0.3] and none["robust_accuracy"][0] == clean["none"]["clean_accuracy"]
    assert none["robust_accuracy"] == sorted(none["robust_accuracy"], reverse=True)
    assert {m["metric"] for m in report["metrics"]} == {"loss_sensitivity", "clever_u(n_batch=10, n_sample=4, r=1.0)"}
    assert all(m["n"] == 8 and m["value"] > 0 for m in report["metrics"])


def test_json_validates_against_its_schema(first_run):
    _, out, _, _ = first_run
    data = json.loads((out / "report.json").read_text())
    assert validate(data) == []
    broken = json.loads((out / "report.json").read_text())
    del broken["citation"]
    broken["attacks"][0]["success_rate"] = 1.5
    broken["seed"] = "3"
    errors = validate(broken)
    assert "$: required property 'citation' is missing" in errors
    assert any(e.startswith("$.attacks[0].success_rate: 1.5 > maximum 1") for e in errors)
    assert any(e.startswith("$.seed: '3' is not of type integer") for e in errors)
    try:
        import jsonschema
    except ImportError:
        return
    jsonschema.validate(data, load_schema())


def test_html_is_self_contained_with_its_plots(first_run):
    _, out, report, _ = first_run
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "</html>" in page
    images = re.findall(r"<img alt='([^']+)' src='data:image/png;base64,([A-Za-z0-9+/=]+)'>", page)
    titles = [t for t, _ in images]
    assert titles == ["Success rate per attack and defence", "Distortion distributions", "Robust accuracy vs eps",
                      "Metrics per defence"]
    for _, data in images:
        png = base64.b64decode(data)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert not re.search(r"(src|href)=['\"]https?://", page), "the page must not load external resources"
    assert report["citation"].split(",")[0] in page


def test_progress_is_reported_through_task_hooks(first_run):
    _, _, report, events = first_run
    overall = [e for e in events if e[0] == "pipeline" and e[3] is None]
    assert overall == [("pipeline", "toy evaluation", report["summary"]["cells"], None),
                       ("pipeline", "sanity checks", len(report["clean"]), None)]
    cells = [e for e in events if e[0] == "pipeline" and e[3] == "toy evaluation"]
    assert len(cells) == report["summary"]["cells"]
    assert any(e[0] == "attack" and e[3] and e[3].startswith("fgsm") for e in events)  # attacks nest in cells


def test_same_seed_same_numbers_and_resume(first_run, tmp_path, toy_dir, monkeypatch):
    cfg, out, report, _ = first_run
    monkeypatch.syspath_prepend(str(toy_dir))
    cfg = {**cfg, "formats": ["json"]}        # the plots are not what is compared; keep the reruns quick
    again = feint.evaluate({**cfg, "out": str(tmp_path / "again")}, quiet=True)
    assert _numbers(again) == _numbers(report)
    # resuming in the first folder runs nothing and gives the same numbers
    resumed = feint.evaluate(cfg, quiet=True, resume=True)
    assert resumed["summary"]["resumed"] == resumed["summary"]["cells"] and resumed["summary"]["run"] == 0
    assert _numbers(resumed) == _numbers(report)
    # an interrupted grid: drop two cells, resume runs exactly those
    files = sorted((out / "cells").glob("attack-*.json"))
    for f in files[:2]:
        f.unlink()
    partial = feint.evaluate(cfg, quiet=True, resume=True)
    assert partial["summary"]["run"] == 2 and _numbers(partial) == _numbers(report)
    # a changed seed is a different cell: nothing is reused for it
    other = feint.evaluate({**cfg, "seed": 4}, quiet=True, resume=True)
    assert other["summary"]["resumed"] == 0


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(not __import__("os").path.exists(CHROMIUM),
                    reason="headless Chromium is not installed at /usr/bin/chromium; "
                           "scripts/check_report_html.sh installs it and is the documented manual check")
def test_html_renders_in_headless_chromium(first_run, tmp_path):
    import subprocess

    import numpy as np
    from PIL import Image

    _, out, _, _ = first_run
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--force-device-scale-factor=1", "--window-size=1200,3000", f"--screenshot={shot}",
                    (out / "report.html").resolve().as_uri()], check=True, capture_output=True, timeout=120)
    img = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int32)
    # matplotlib's first colours appear only inside the plots, never in the page's own styles
    cycle = np.array([(31, 119, 180), (255, 127, 14)])
    plotted = (np.abs(img[:, :, None, :] - cycle).sum(axis=-1) < 30).any(axis=-1).sum()
    assert plotted > 2000, f"the screenshot shows no plots ({plotted} plot-coloured pixels)"
