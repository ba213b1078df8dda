"""The README's demo: `feint evaluate` with no config (the built-in default), with fewer samples."""

import json

import pytest

import feint

NEEDED = {"framework": ["torch"], "attack": ["fgsm", "pgd", "deepfool", "carlini_l2"],
          "defence": ["featsqueeze", "spatial_smoothing", "jpeg"], "metric": ["loss_sensitivity", "rho2", "clever_u"]}


@pytest.mark.slow
def test_builtin_default_runs_and_writes_the_three_reports(tmp_path, monkeypatch, capsys):
    missing = [f"{k}:{n}" for k, names in NEEDED.items() for n in names if n not in feint.list(k)]
    if missing:
        pytest.skip(f"the built-in default needs plugins that are not installed: {missing}")
    from feint.cli import main

    monkeypatch.setenv("CI", "true")
    assert main(["evaluate", "--quiet", "--samples", "10", "--out", str(tmp_path / "demo")]) == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "report.html" in printed
    report = json.loads((tmp_path / "demo" / "report.json").read_text())
    assert report["config_source"] == "built-in default" and report["data"]["n"] == 10
    assert len(report["clean"]) == 5 and len(report["attacks"]) == 4 * 2 * 5
    skipped = [c for c in report["attacks"] if c["status"] == "skipped"]
    assert {(c["attack"], c.get("reason")) for c in skipped} == {("deepfool", "deepfool is untargeted only")}
    assert not [c for g in ("attacks", "robust_accuracy", "metrics") for c in report[g] if c["status"] == "error"]
    undefended = {c["attack"].split("(")[0]: c for c in report["attacks"]
                  if c["defence"] == "none" and c["target"] == "untargeted"}
    assert undefended["pgd"]["success_rate"] >= 0.8 and undefended["deepfool"]["success_rate"] >= 0.8
    for name in ("report.md", "report.html"):
        assert (tmp_path / "demo" / name).stat().st_size > 1000
