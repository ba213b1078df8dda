"""The report's sanity section: a masked model (examples/masked.toml) warns; its BPDA twin is broken."""

from pathlib import Path

import pytest

import feint

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.slow
def test_masked_example_warns_and_bpda_breaks_it(tmp_path):
    masked = feint.evaluate(EXAMPLES / "masked.toml", out=tmp_path / "masked", quiet=True, samples=40)
    sanity = masked["sanity"]
    assert sanity["status"] == "warned"
    warned = {c["name"].split(" (")[0] for c in sanity["checks"] if c["status"] == "warned"}
    assert {"zero_gradients", "large_eps_not_total", "black_box_beats_white_box"} <= warned
    html = (tmp_path / "masked" / "report.html").read_text()
    assert html.index("sanity warning") < html.index("Clean accuracy")  # warnings shown at the top
    bpda = feint.evaluate(EXAMPLES / "masked_bpda.toml", out=tmp_path / "bpda", quiet=True, samples=40)

    def pgd_success(report, adaptive):
        for cell in report["attacks"]:
            if cell.get("attack", "").startswith("pgd") and \
                    cell.get("adaptive") in (adaptive, None):
                return cell["success_rate"]
        raise AssertionError("no pgd cell")

    masked_pgd = pgd_success(masked, True)
    assert pgd_success(bpda, True) > masked_pgd + 0.5
    assert bpda["sanity"]["status"] == "passed"
