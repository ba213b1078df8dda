"""Bad configs fail before any work starts, with every problem listed at once."""

import re

import pytest

import feint
from feint.pipeline import ConfigError, default_config, validate_config


def _problems(cfg, base_dir=None):
    resolved, problems = validate_config(cfg, base_dir)
    return problems


def _raises(cfg, tmp_path):
    with pytest.raises(ConfigError) as info:
        feint.evaluate(cfg, quiet=True)
    out = cfg.get("out")
    assert out is None or not (tmp_path / "out").exists(), "the output folder was created before the config was valid"
    return info.value


def test_unknown_attack_is_named_with_suggestion(toy_config, toy_dir, tmp_path):
    err = _raises(toy_config(tmp_path / "out", attacks=["fgsmm(eps=0.1)"]), tmp_path)
    assert len(err.problems) == 1
    assert "attacks[0] 'fgsmm(eps=0.1)': no attack named 'fgsmm'" in str(err) and "did you mean 'fgsm'" in str(err)


def test_typo_in_a_key(toy_config, toy_dir, tmp_path):
    cfg = toy_config(tmp_path / "out")
    cfg["attaks"] = cfg.pop("attacks")
    cfg["model"]["loadr"] = "x:y"
    err = _raises(cfg, tmp_path)
    text = str(err)
    assert "attaks: unknown key; did you mean 'attacks'?" in text
    assert "model.loadr: unknown key; did you mean 'loader'?" in text
    assert "attacks: required key is missing" in text


def test_defence_not_installed_names_the_distribution(toy_config, tmp_path, monkeypatch):
    from feint import registry

    reg = registry.Registry().discover(warn=False)
    reg.unregister("defence", "jpeg")          # as if feint-defence-jpeg were not installed
    monkeypatch.setattr(registry, "_DEFAULT", reg)
    err = _raises(toy_config(tmp_path / "out", defences=["none", "jpeg(quality=75)", "smooth+jpeg"]),
                  tmp_path)
    assert [p.split(":")[0] for p in err.problems] == ["defences[1] 'jpeg(quality=75)'", "defences[2] 'smooth+jpeg'"]
    assert "no defence named 'jpeg'" in str(err) and "pip install feint-defence-jpeg" in str(err)


def test_missing_model_file(toy_config, toy_dir, tmp_path):
    cfg = toy_config(tmp_path / "out", model={"path": str(tmp_path / "nope.pt")})
    err = _raises(cfg, tmp_path)
    assert re.search(r"model.path: file '.*nope.pt' does not exist", str(err))


def test_data_shape_not_matching_the_model(toy_config, toy_dir, tmp_path):
    err = _raises(toy_config(tmp_path / "out", data={"source": str(toy_dir / "wide.npz")}), tmp_path)
    assert "data: inputs have shape (9,) per sample but the model expects (8,)" in str(err)


def test_all_problems_at_once(toy_config, toy_dir, tmp_path):
    cfg = toy_config(tmp_path / "out", attacks=["fgsmm", "fgsm(eps=0.1"], targets=["untargetted"],
                     defences=["none", "nosuchdefence"], metrics=["clever_x"], adaptive="sometimes", samples=0,
                     data={"source": str(tmp_path / "missing.npz")})
    cfg["colour"] = "blue"
    problems = _problems(cfg)
    joined = "\n".join(problems)
    for needle in ("attacks[0] 'fgsmm'", "attacks[1] 'fgsm(eps=0.1'", "targets[0] must be one of",
                   "did you mean 'untargeted'", "defences[1] 'nosuchdefence'", "metrics[0] 'clever_x'",
                   "adaptive must be true, false", "samples must be >= 1", "missing.npz' does not exist",
                   "colour: unknown key"):
        assert needle in joined, f"{needle!r} not reported in:\n{joined}"
    with pytest.raises(ConfigError, match="has 9 problems; nothing was run"):
        feint.evaluate(cfg)


def test_bad_parameters_and_unusable_metrics_are_found_before_running(toy_config, toy_dir, tmp_path):
    cfg = toy_config(tmp_path / "out", attacks=["fgsm(epz=0.1)", "fgsm(eps=-1.0)"],
                     metrics=["success_rate", "clever_u(radius=1.0)"])
    err = _raises(cfg, tmp_path)
    text = str(err)
    assert "'epz' (did you mean 'eps'?)" in text
    assert "The 'eps' parameter of FastGradientMethod must be" in text
    assert "metrics[0] 'success_rate' needs ['x_adv']" in text
    assert "metrics[1] 'clever_u(radius=1.0)'" in text and "radius" in text


def test_loader_failures_are_config_problems(toy_config, toy_dir, tmp_path):
    for loader, needle in (("feint_toy_model:broken", "raised RuntimeError: no weights here"),
                           ("feint_toy_model:nothing", "has no attribute 'nothing'"),
                           ("feint_no_such_module:build", "cannot import 'feint_no_such_module'")):
        err = _raises(toy_config(tmp_path / "out", model={"loader": loader, "loader_args": {}}), tmp_path)
        assert needle in str(err)


def test_cli_reports_config_problems(toy_dir, tmp_path, capsys):
    from feint.cli import main

    path = tmp_path / "bad.toml"
    path.write_text('attacks = ["fgsmm"]\ntargetz = ["next"]\n[model]\nloader = "feint_toy_model:build"\n'
                    f'[data]\nsource = "{toy_dir / "data.npz"}"\n')
    assert main(["evaluate", str(path), "--quiet", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "has 2 problems" in err and "targetz: unknown key; did you mean 'targets'?" in err
    assert not (tmp_path / "out").exists()


def test_default_config_and_example_agree(monkeypatch):
    from pathlib import Path

    import tomllib

    monkeypatch.delenv("CI", raising=False)
    example = Path(__file__).resolve().parents[2] / "examples" / "digits.toml"
    assert tomllib.loads(example.read_text()) == default_config()
    monkeypatch.setenv("CI", "true")
    assert default_config()["samples"] == 50
    resolved, problems = validate_config(default_config())
    if not problems:          # with every first-party plugin installed, the default is valid
        assert resolved["model"]["builtin"] == "digits_cnn" and resolved["adaptive"] is True
