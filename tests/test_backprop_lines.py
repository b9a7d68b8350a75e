"""`derive backprop` text: the numbers put in follow the printed formula, every chain-rule line
shows its numbers, and "Results" and "Rounded" show the same step's gradient, labelled with it.

Every number is compared with PyTorch (float64): the gradients of each step of SGD with momentum.
"""

import re

import pytest
import torch

from derive.cli import cli

SPEC = """title = "Two steps of momentum"
loss = "L"
learning_rate = 0.1
steps = STEPS
optimizer = "momentum"
momentum = 0.9
[inputs]
x = 2
t = 1
[params]
w = 0.25
[nodes]
y = "w*x"
L = "(y - t)^2"
"""


def torch_gradients(steps: int) -> list[tuple[float, float]]:
    """(dL/dy, dL/dw) of each step, as torch.optim.SGD(momentum=0.9) takes them."""
    w = torch.tensor(0.25, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    found = []
    for _ in range(steps):
        optimizer.zero_grad()
        y = w * 2
        y.retain_grad()
        loss = (y - 1) ** 2
        loss.backward()
        found.append((y.grad.item(), w.grad.item()))
        optimizer.step()
    return found


def backprop(tmp_path, capsys, steps: int, *options: str) -> str:
    path = tmp_path / "momentum.toml"
    path.write_text(SPEC.replace("STEPS", str(steps)), encoding="utf-8")
    assert cli(["backprop", str(path), *options]) == 0
    return capsys.readouterr().out


def _lines(out: str, lhs: str) -> list[list[str]]:
    """The sides of each derivation line ``lhs = ...`` (the reason in brackets left out)."""
    return [re.sub(r"\s*\[[^\]]*\]$", "", line).split(" = ")[1:] for line in out.splitlines()
            if line.strip().startswith(lhs + " ") and "[" in line]


def _number(text: str) -> float:
    return float(eval(text, {"__builtins__": {}}))  # only digits, + - * ( ) .: the printed arithmetic


def test_a_sum_puts_its_numbers_in_the_formulas_order(tmp_path, capsys):
    out = backprop(tmp_path, capsys, 2)
    lines = _lines(out, "dL/dy")
    assert [sides[0] for sides in lines] == ["2*y - 2*t"] * 2
    # y = w x at w = 0.25, then at w(1) = 0.45 (torch's first step); t = 1
    assert [sides[1] for sides in lines] == ["2 * 0.5 - 2 * 1", "2 * 0.9 - 2 * 1"]
    for sides, (dy, _) in zip(lines, torch_gradients(2), strict=True):
        assert _number(sides[1]) == pytest.approx(dy, abs=1e-12) and float(sides[2]) == pytest.approx(dy, abs=1e-12)


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_every_steps_chain_rule_line_shows_its_numbers(tmp_path, capsys, steps):
    """dL/dw = dL/dy*dy/dw = (-1) * 2 = -2: a value -1 put in is a factor, not a sign to drop."""
    out = backprop(tmp_path, capsys, steps)
    lines = _lines(out, "dL/dw")
    assert len(lines) == steps
    for sides, (dy, dw) in zip(lines, torch_gradients(steps), strict=True):
        formula, numbers, value = sides
        assert formula == "dL/dy*dy/dw" and re.fullmatch(r"\(?-?[\d.]+\)? \* 2", numbers), sides
        assert _number(numbers) == pytest.approx(dw, abs=1e-12) and float(value) == pytest.approx(dw, abs=1e-12)
        assert _number(numbers.split(" * ")[0]) == pytest.approx(dy, abs=1e-12)


@pytest.mark.parametrize("lang, label", [("en", "step {}: "), ("zh", "第 {} 步: ")])
def test_results_and_rounded_show_the_same_step(tmp_path, capsys, lang, label):
    out = backprop(tmp_path, capsys, 2, "--lang", lang)
    last = torch_gradients(2)[-1][1]  # -0.4: the gradient at w(1), used by the second step
    results = re.search(r"^  " + re.escape(label.format(2)) + r"dL/dw = (\S+)$", out, re.M)
    rounded = re.search(r"^  " + re.escape(label.format(2)) + r"dL/dw ~ (\S+)$", out, re.M)
    assert results and rounded, out
    assert float(results.group(1)) == pytest.approx(last, abs=1e-12) == float(rounded.group(1))
    assert "dL/dw ~ -2\n" not in out  # the first step's gradient is not the one summed up


def test_one_step_needs_no_label(tmp_path, capsys):
    out = backprop(tmp_path, capsys, 1)
    first = torch_gradients(1)[0][1]
    assert "step 1" not in out
    assert f"  dL/dw = {first:g}\n" in out.split("Results:")[1] and f"  dL/dw ~ {first:g}\n" in out


def test_the_label_in_markdown(tmp_path, capsys):
    out = backprop(tmp_path, capsys, 2, "--md")
    last = torch_gradients(2)[-1][1]
    assert f"- step 2: $\\frac{{\\partial L}}{{\\partial w}} = {last:g}$" in out
    assert r"= 2 \times 0.5 - 2 \times 1 = -1$" in out  # LaTeX's numbers in the formula's order too
