"""Plots and tables a student can read, and the conv2d problem's givens on the handout.

Log-axis ticks are 1-2-5 steps or powers of ten (expected values written by hand); a simulation
table's column is written in one number style; the axes are labelled; the handout of seed 003
二4 shows the image and the kernel the seed gives, and the key the seed's output matrices.
"""

import re
import subprocess
from pathlib import Path

import pytest

from derive import figures, pdf
from derive.cli import cli
from derive.render import render_sheet
from derive.sheet import read_spec
from derive.simulate import parse_config, simulate
from derive.simulate_view import _column, view

needs_tex = pytest.mark.skipif(not pdf.tex_available(), reason="TeX is not installed")


@pytest.mark.parametrize("low, high, expected", [
    # sheet 003's Xavier+ReLU plot: 30 layers halving, 1.46e-9 .. 1: nine decades, every other power
    (1.46e-9, 1.0, [1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1]),
    # Kaiming+ReLU: forward about 2, backward about 0.8: the plot that read 10^0.3, 10^0.4
    (0.76, 2.5, [0.5, 1, 2, 5]),
    (0.02, 0.9, [0.02, 0.05, 0.1, 0.2, 0.5, 1]),
    (3e-5, 4e-3, [2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3]),
    (2e-3, 30, [1e-3, 1e-2, 1e-1, 1, 10, 100]),         # 14 steps of 1-2-5 would be too many
    (1.0, 1.0, [1, 2]),                                   # one value: still two ticks
    (1e-40, 1e10, [1e-40, 1e-32, 1e-24, 1e-16, 1e-8, 1, 1e8, 1e16]),
])
def test_log_ticks_are_1_2_5_steps_or_powers_of_ten(low, high, expected):
    ticks = figures.log_ticks(low, high)
    assert ticks == pytest.approx(expected, rel=1e-12)
    assert ticks[0] <= low and ticks[-1] >= high


def test_ticks_beyond_floats_range_stay_exact_for_pgfplots():
    # an exploding network (relu, normal:1.2, 400 layers) reaches 1e300: every 100th power
    assert figures.log_steps(1e-300, 1.7e308) == [(1, k) for k in range(-300, 401, 100)]
    axis = figures.log_axis([[1e-300, 1.7e308, float("inf"), 0.0]])
    assert axis["ticks"].split(",")[-1] == "1e400" and axis["labels"].endswith("{$10^{400}$}")


@pytest.mark.parametrize("value, powers, label", [
    (0.5, False, "$0.5$"), (20, False, "$20$"), (0.002, False, "$0.002$"), (2e-5, False, r"$2 \cdot 10^{-5}$"),
    (1e-8, True, "$10^{-8}$"), (1, True, "$10^{0}$"), (1e4, False, "$10^{4}$"),
])
def test_tick_labels(value, powers, label):
    assert figures.tick_label(value, powers) == label


@pytest.mark.parametrize("low, high", [(0, 1), (2, 1), (1, float("inf")), (-1, 1)])
def test_log_ticks_refuse_a_range_a_log_axis_cannot_show(low, high):
    with pytest.raises(ValueError):
        figures.log_ticks(low, high)


def test_a_column_of_mixed_magnitudes_is_scientific_with_three_digits():
    # the old table printed 1.465e-09 beside 0.0009914 in one column
    assert _column([1.466e-09, 0.0009914, 1.0]) == [
        ("1.47e-09", r"$1.47 \times 10^{-9}$"), ("9.91e-04", r"$9.91 \times 10^{-4}$"),
        ("1.00e+00", r"$1.00 \times 10^{0}$")]
    assert _column([1.0, float("inf"), float("nan"), 0.0])[1:] == [
        ("inf", r"$\infty$"), ("nan", r"$\mathrm{NaN}$"), ("0", "$0$")]
    assert _column([2.0104, 1.7312, 0.5]) == [("2.0104", "$2.0104$"), ("1.7312", "$1.7312$"), ("0.5000", "$0.5000$")]


FIXED = re.compile(r"^\d+\.(\d+)$")
SCIENTIFIC = re.compile(r"^\d\.\d\de[+-]\d\d$")
SCIENTIFIC_TEX = re.compile(r"^\$\d\.\d\d \\times 10\^\{-?\d+\}\$$")


@pytest.mark.parametrize("act, init, style", [
    ("relu", "xavier", "scientific"),   # halves at every layer: 1 .. 1e-9 in 30 layers
    ("relu", "kaiming", "fixed"),       # stays near 2 (forward) and 1 (backward)
])
def test_every_column_of_a_simulation_table_has_one_number_style(act, init, style):
    sim = view(simulate(parse_config(act, init, depth=30, width=256, batch=128)), "en")
    for key in ("forward_var", "forward_pred", "backward_m2", "backward_pred"):
        texts = [row[key] for row in sim["rows"]]
        if style == "scientific" and key.startswith("forward"):
            assert all(SCIENTIFIC.match(t) for t in texts), texts
            assert all(SCIENTIFIC_TEX.match(row[f"{key}_tex"]) for row in sim["rows"])
        else:
            styles = {("fixed", len(m.group(1))) if (m := FIXED.match(t)) else ("scientific", 2)
                      if SCIENTIFIC.match(t) else ("other", t) for t in texts}
            assert len(styles) == 1 and next(iter(styles))[0] != "other", (key, styles)
    if style == "fixed":
        assert FIXED.match(sim["rows"][0]["forward_var"])


def _tex(tmp_path, spec_text: str, layout: str, lang: str) -> str:
    spec = tmp_path / "sheet.toml"
    spec.write_text(spec_text, encoding="utf-8")
    return render_sheet(read_spec(spec), layout, lang)


def test_the_simulation_plot_and_the_activation_figure_label_both_axes(tmp_path):
    simulation = _tex(tmp_path, '[[problem]]\nsimulate = {act = "relu", init = "kaiming", depth = 6, width = 64, '
                                'batch = 32}\n', "key", "zh")
    plot = simulation[simulation.index("(simulation plot)"):]
    assert re.search(r"xlabel=\{第 \$l\$ 层\}", plot)
    assert re.search(r"ylabel=\{\$\\operatorname\{Var\}\(z\^\{\(l\)\}\)\$ 与 \$\\mathbb\{E\}", plot)
    assert re.search(r"ytick=\{[0-9e.,+-]+\}", plot) and "yticklabels=" in plot
    assert "every even column/.append style={column sep" in plot
    activation = _tex(tmp_path, '[[problem]]\nentry = "sigmoid"\n', "key", "en")
    assert "xlabel={$x$}" in activation and "ylabel={$f(x)$, $f'(x)$}" in activation


# Seed 003 二4: I = (10 20 30 40; 50 ... 160), K = (-1 0; 1 2); a) padding 1 stride 1, b) padding 0 stride 2
SEED_IMAGE = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160]
SEED_KERNEL = [-1, 0, 1, 2]
SEED_OUTPUTS = [20, 50, 80, 110, 40, 100, 160, 180, 200, 40, 180, 240, 260, 280, 40, 260, 320, 340, 360, 40,
                0, -130, -140, -150, -160, 160, 200, 320, 360]


def _numbers(path: Path) -> list[int]:
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return [int(n) for n in re.findall(r"(?<![\w.^])[-−]?\d+(?![\w.])", text.replace("−", "-"))]


def _contains(numbers: list[int], wanted: list[int]) -> bool:
    left = list(numbers)
    for n in wanted:
        if n not in left:
            return False
        left.remove(n)
    return True


@needs_tex
@pytest.mark.parametrize("lang, words", [("zh", ["填充（padding）为 1", "步长（stride）为 2", "卷积核"]),
                                         ("en", ["with padding 1 and stride 1", "with padding 0 and stride 2"])])
def test_the_conv2d_handout_shows_the_seeds_image_and_kernel_and_the_key_its_outputs(tmp_path, capsys, lang, words):
    spec = tmp_path / "conv.toml"
    spec.write_text(f'lang = "{lang}"\n[[problem]]\nexample = "conv2d-4x4"\n', encoding="utf-8")
    assert cli(["sheet", str(spec), "--pdf", "-o", str(tmp_path / "out")]) == 0
    handout, key = tmp_path / "out" / "conv.pdf", tmp_path / "out" / "conv-key.pdf"
    assert _contains(_numbers(handout), SEED_IMAGE + SEED_KERNEL)
    text = subprocess.run(["pdftotext", str(handout), "-"], check=True, capture_output=True, text=True).stdout
    for word in words:   # a line may break anywhere in Chinese
        assert re.sub(r"\s+", "", word) in re.sub(r"\s+", "", text)
    assert _contains(_numbers(key), SEED_OUTPUTS)
