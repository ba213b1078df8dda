import math

import pytest

from feint.errors import SpecSyntaxError
from feint.spec import parse_spec, parse_value


@pytest.mark.parametrize("text, expected", [
    ("featsqueeze5", [("featsqueeze5", {})]),
    ("smooth(window_size=3)", [("smooth", {"window_size": 3})]),
    ("featsqueeze5+smooth", [("featsqueeze5", {}), ("smooth", {})]),
    ("pgd(eps=8/255, norm=inf)", [("pgd", {"eps": 8 / 255, "norm": math.inf})]),
    ("fgsm(eps=-0.1, targeted=True, target=None)", [("fgsm", {"eps": -0.1, "targeted": True, "target": None})]),
    (" a(x=(0, 1), y=[1, 2], z='s') + b ", [("a", {"x": (0, 1), "y": [1, 2], "z": "s"}), ("b", {})]),
    ("c(lo=-inf, r=-1/2)", [("c", {"lo": -math.inf, "r": -0.5})]),
])
def test_parses(text, expected):
    assert [(i.name, i.kwargs) for i in parse_spec(text)] == expected


@pytest.mark.parametrize("text, column, fragment", [
    ("__import__('os').system('x')", 0, "plain identifier"),
    ("a.b", 0, "attribute access"),
    ("x[0]", 0, "subscripts"),
    ("pgd(0.1)", 4, "positional arguments"),
    ("pgd(eps=os.getcwd())", 8, "expected a literal"),
    ("pgd(eps=1/0)", 10, "division by zero"),
    ("pgd(eps=", 3, "never closed"),
    ("pgd(**{'a': 1})", 4, "'**'"),
    ("fgsm + 3", 7, "bare literal"),
    ("pgd(eps=1, eps=2)", 15, "given twice"),
    ("", 0, "empty spec"),
    ("lambda: 0", 0, "lambdas"),
])
def test_rejects_with_caret(text, column, fragment):
    with pytest.raises(SpecSyntaxError) as info:
        parse_spec(text)
    err = info.value
    assert fragment in str(err)
    lines = str(err).splitlines()
    assert lines[1].strip() == text.strip()
    assert lines[2].index("^") - 2 == err.offset
    if text:
        assert err.offset == column


def test_non_string_rejected():
    with pytest.raises(SpecSyntaxError, match="must be a str"):
        parse_spec(3)


def test_parse_value():
    assert parse_value("8/255") == 8 / 255
    assert parse_value("(0, 1)") == (0, 1)
    assert parse_value("inf") == math.inf
