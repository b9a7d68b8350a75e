"""Backprop keys in the course's arithmetic (issue 16, point 5): the seed's decimals, --exact,
max{0, x}, the page count, and the computation graph's measured labels.

The reference numbers are the ones seed 000 prints for 2.1 (shared/seeds/000_*.txt, "2.1"), and
PyTorch computes the same network again on the CPU from the sheet's givens.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction

import pytest
import sympy as sp
import torch
from hostile import assert_one_line_error, run_cli

from derive.backprop.display import decimal
from derive.backprop.graph import graph_from, run
from derive.backprop.picture import INNER, LABEL_H, PT, boxes, graph_picture, label_width, overlaps
from derive.catalog.examples import EXAMPLES, example

BACKPROP = [name for name, e in EXAMPLES.items() if e["kind"] == "backprop"]

# What seed 000 2.1 prints, as printed (text line -> value): forward, g_j, the updates, the loss after.
SEED_2_1 = [
    ("alpha1", "0.18"),      # α1 = 0.6×0.2+0.2×0.3 = 0.18
    ("alpha2", "0.23"),      # α2 = 0.1×0.2+0.7×0.3 = 0.23
    ("b1", "0.18"), ("b2", "0.23"),
    ("beta1", "0.274"),      # f(0.274) = 0.274
    ("y", "0.274"),
    ("E", "0.025538"),       # E = 1/2 (0.274 − 0.5)^2 = 0.025538
    ("dE/dy", "-0.226"),     # g_j = −(y − ŷ) = 0.226
    ("delta_beta1", "-0.226"),  # g_j = −∂E/∂β_j = −(y − ŷ) f′(β_j) = 0.226: the error δ = ∂E/∂β = −g_j
    ("dE/dw11", "-0.04068"),  # Δw11 = η g_j b_1 = 0.226 × 0.18
    ("dE/dv11", "-0.0226"),   # Δv11 = η w11 g_1 x_1 = 1 × 0.5 × 0.226 × 0.2
    ("w11+", "0.54068"), ("w21+", "0.85198"),
    ("v11+", "0.6226"), ("v12+", "0.13616"), ("v21+", "0.2339"), ("v22+", "0.75424"),
    ("y+", "0.3212"),        # y' = 0.3212453271 ≈ 0.3212
    ("E+", "0.01598"),       # E+ = 1/2 (0.3212 − 0.5)^2 = 0.01598
]


def _torch_2_1() -> dict[str, float]:
    """The 2-2-1 ReLU net of seed 000 2.1 in torch, written from the sheet (not from derive's spec)."""
    t = lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True)
    p = {"v11": t(0.6), "v21": t(0.2), "v12": t(0.1), "v22": t(0.7), "w11": t(0.5), "w21": t(0.8)}
    x1, x2, target = 0.2, 0.3, 0.5

    def forward(q):
        a1, a2 = q["v11"] * x1 + q["v21"] * x2, q["v12"] * x1 + q["v22"] * x2
        b1, b2 = torch.relu(a1), torch.relu(a2)
        beta = q["w11"] * b1 + q["w21"] * b2
        y = torch.relu(beta)
        return {"alpha1": a1, "alpha2": a2, "b1": b1, "b2": b2, "beta1": beta, "y": y, "E": (y - target) ** 2 / 2}

    values = forward(p)
    for name in ("y", "beta1"):
        values[name].retain_grad()
    values["E"].backward()
    found = {k: v.item() for k, v in values.items()}
    found["dE/dy"], found["delta_beta1"] = values["y"].grad.item(), values["beta1"].grad.item()
    found.update({f"dE/d{k}": v.grad.item() for k, v in p.items()})
    with torch.no_grad():
        updated = {k: v - 1.0 * v.grad for k, v in p.items()}
        after = forward(updated)
    found.update({f"{k}+": v.item() for k, v in updated.items()})
    found.update({"y+": after["y"].item(), "E+": after["E"].item()})
    return found


def _printed(text: str) -> dict[str, str]:
    """Each line's name and the value it ends with (after its last = or ~)."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"  (\S+)\s+= (.*?)\s+\[", line)
        if match:
            found[match.group(1)] = re.split(r" = | ~ ", match.group(2))[-1]
    return found


@pytest.fixture(scope="module")
def key_text():
    done = subprocess.run([sys.executable, "-m", "derive", "example", "bp-221-relu", "--text"], capture_output=True,
                          text=True, check=True)
    return _printed(done.stdout)


@pytest.mark.parametrize("name, seed", SEED_2_1)
def test_the_key_prints_the_seeds_decimals(key_text, name, seed):
    assert key_text[name] == seed
    # torch's value rounds to the printed decimal (the seed's number is torch's to its last digit)
    digits = -Decimal(seed).as_tuple().exponent
    assert abs(_torch_2_1()[name] - float(seed)) <= 0.5 * 10**-digits + 1e-15


def test_the_rounding_is_stated_once_and_rounded_values_are_marked(capsys):
    for lang, phrase in (("en", "rounded to 4 significant digits"), ("zh", "保留 4 位有效数字")):
        status, out, _ = run_cli(capsys, "example", "bp-221-relu", "--lang", lang)
        assert status == 0 and out.count(phrase) == 1
    lines = [line for line in out.splitlines() if line.startswith("  E+ ")]
    assert lines and "~ 0.01598" in lines[0]  # 0.0159766... is rounded, and marked so


def test_exact_prints_the_fractions(capsys):
    status, out, _ = run_cli(capsys, "example", "bp-221-relu", "--exact")
    printed = _printed(out)
    assert status == 0
    # by hand: 0.6*0.2 + 0.2*0.3 = 0.18 = 9/50; 0.5 + 0.226*0.18 = 0.54068
    assert printed["alpha1"] == "9/50" and Fraction(printed["w11+"]) == Fraction("0.54068")
    assert Fraction(printed["E+"]) == Fraction(4992692668193094921, 312500000000000000000)
    assert abs(float(Fraction(printed["E+"])) - _torch_2_1()["E+"]) < 1e-15
    assert "rounded to 4 significant digits" not in out


def test_the_checker_keeps_exact_values():
    table = example("bp-221-relu")
    table.pop("kind")
    derivation = run(graph_from(table, "bp-221-relu")).derivation
    assert derivation.targets["updated_w11"].rhs == sp.Rational(54068, 100000)
    assert derivation.targets["loss_after"].rhs == sp.Rational(4992692668193094921, 312500000000000000000)


@pytest.mark.parametrize("lang, absent", [("en", "otherwise"), ("zh", "其他")])
def test_relu_is_max_and_its_derivative_cases_with_conditions(capsys, lang, absent):
    status, out, _ = run_cli(capsys, "example", "bp-221-relu", "--latex", "--lang", lang)
    assert status == 0
    assert r"b_{1} &= \max\{0, \alpha_{1}\} = \max\{0, 0.18\} = 0.18" in out
    assert r"\alpha_{1} \leq 0" in out and absent not in out and "Piecewise" not in out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_key_fits_three_pages(tmp_path, capsys, lang):
    status, _, _ = run_cli(capsys, "example", "bp-221-relu", "--pdf", "--lang", lang, "-o", str(tmp_path))
    assert status == 0
    info = subprocess.run(["pdfinfo", str(tmp_path / f"bp-221-relu-{lang}.pdf")], capture_output=True, text=True, check=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
    assert pages <= 3


def _picture(name: str) -> dict:
    table = example(name)
    table.pop("kind")
    return graph_picture(run(graph_from(table, name)))


@pytest.mark.parametrize("name", BACKPROP)
def test_no_two_boxes_of_a_graph_meet(name):
    picture = _picture(name)
    assert len(boxes(picture)) == 3 * len(picture["nodes"])  # every name has its box and two labels
    assert overlaps(picture) == []


def test_the_measure_finds_a_planted_overlap():
    picture = _picture("bp-221-relu")
    moved = dict(picture["labels"][0], x=picture["labels"][2]["x"], y=picture["labels"][2]["y"])
    assert overlaps({**picture, "labels": [moved, *picture["labels"][1:]]}) != []


@pytest.mark.parametrize("name", BACKPROP)
def test_graph_labels_are_math_with_minus_signs(name):
    labels = [label["tex"] for label in _picture(name)["labels"]]
    assert all(re.fullmatch(r"\$[^$]*\$", tex) for tex in labels)  # a "-" in math is a minus sign
    assert all(tex.count("-") == tex.count("$-") + tex.count("{-") for tex in labels)


def test_a_negative_gradient_is_drawn_with_a_minus_sign(tmp_path, capsys):
    status, _, _ = run_cli(capsys, "example", "bp-221-relu", "--pdf", "-o", str(tmp_path))
    assert status == 0
    text = subprocess.run(["pdftotext", str(tmp_path / "bp-221-relu-en.pdf"), "-"], capture_output=True, check=True,
                          text=True).stdout
    assert "−0.0226" in text and "-0.0226" not in text  # U+2212, as in the seed's −(y − ŷ)


@pytest.mark.parametrize("args", [
    ["example", "conv2d-4x4", "--exact"],
    ["example", "bp-221-relu", "--exact=1"],
])
def test_exact_where_it_does_not_apply_is_one_line(capsys, args):
    status, _, err = run_cli(capsys, *args)
    assert_one_line_error(status, err)


def _sheet(tmp_path, problem: str) -> str:
    spec = tmp_path / "s.toml"
    spec.write_text(f'title = "S"\n[[problem]]\n{problem}\n', encoding="utf-8")
    return str(spec)


def test_a_sheet_problem_may_ask_for_exact_fractions(tmp_path, capsys):
    for exact, shown, absent in (("", "= 0.54068", r"\frac{13517}"), ("exact = true", r"= \frac{13517}{25000}", "= 0.54068")):
        spec = _sheet(tmp_path, f'example = "bp-221-relu"\n{exact}')
        status, _, err = run_cli(capsys, "sheet", spec, "-o", str(tmp_path / "out"))
        assert status == 0, err
        key = (tmp_path / "out" / "s-key.tex").read_text(encoding="utf-8")
        # w11+ = 0.5 + 0.226 x 0.18 = 0.54068 = 13517/25000 (by hand)
        assert shown in key and absent not in key


@pytest.mark.parametrize("problem, mentions", [
    ('entry = "mse"\nexact = true', "'problem[1].exact' applies to a worked problem"),
    ('example = "bp-221-relu"\nexact = "yes"', "must be bool"),
    ('example = "bp-221-relu"\nexact = 1', "must be bool"),
])
def test_a_sheets_exact_key_where_it_cannot_be_is_one_line(tmp_path, capsys, problem, mentions):
    status, _, err = run_cli(capsys, "sheet", _sheet(tmp_path, problem), "-o", str(tmp_path / "out"))
    assert_one_line_error(status, err, mentions=mentions)


@pytest.mark.skipif(shutil.which("xelatex") is None, reason="needs xelatex")
def test_the_label_width_estimate_covers_what_tex_sets(tmp_path):
    """The boxes the layout is measured with are at least as wide as TeX makes the labels (and not
    absurdly wider): every label of every example, set at the macro's font in an 11 pt document."""
    labels = sorted({label["tex"] for name in BACKPROP for label in _picture(name)["labels"]})
    lines = [rf"\sbox{{\lb}}{{\scriptsize {tex}}}\typeout{{W={index}:\the\wd\lb:\the\ht\lb:\the\dp\lb}}"
             for index, tex in enumerate(labels)]
    (tmp_path / "w.tex").write_text("\\documentclass[11pt]{article}\n\\newsavebox{\\lb}\n\\begin{document}\n"
                                    + "\n".join(lines) + "\nx\n\\end{document}\n", encoding="utf-8")
    done = subprocess.run(["xelatex", "-interaction=nonstopmode", "-no-shell-escape", "w.tex"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    found = re.findall(r"W=(\d+):([\d.]+)pt:([\d.]+)pt:([\d.]+)pt", done.stdout)
    assert len(found) == len(labels)
    for index, width, height, depth in found:
        tex = labels[int(index)]
        estimate = (label_width(tex) - 2 * INNER) / PT
        assert float(width) <= estimate <= 1.6 * float(width), (tex, width, estimate)
        assert float(height) + float(depth) <= (LABEL_H - 2 * INNER) / PT, tex


@pytest.mark.parametrize("value, printed, rounded", [
    (sp.Rational(12769, 500000), "0.025538", False),      # the seed's E, exact
    (sp.Rational(4015566589, 12500000000), "0.3212", True),  # y' = 0.321245327 12 (11 decimals): the seed's ≈ 0.3212
    (sp.Rational(1, 3), "0.3333", True),
    (sp.Rational(-1000, 7), "-142.9", True),
    (sp.Rational(10**6, 3), "333333", True),
    (sp.Rational(-2, 3) / 10**6, "-6.667e-7", True),
    (sp.Rational(12345678901234567890123, 1000), "12345678901234567890.123", False),
    (sp.Integer(-54), "-54", False),
    (sp.E, "2.718", True),
])
def test_decimals_by_hand(value, printed, rounded):
    shown, was = decimal(value)
    assert (sp.sstr(shown), was) == (printed, rounded)
