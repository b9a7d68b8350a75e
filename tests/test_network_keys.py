"""Network keys as tables and network handouts with their layer list (issue 16, points 1 and 4).

The reference is seed 000 3.3 (``shared/seeds/000_*.txt``), the course's ResNet-18 answer, which
prints one line per layer: ``CONV3-64: [56×56×64] memory: 56×56×64 = 200 K params: (3×3×64)×64 =
36 864``. Its figures are typed below as the seed prints them; the key of
``examples/resnet18-zh.toml`` (the seed's convention), built in Chinese and in English, must
have a table row with each of them, in the seed's order, and the seed's totals. The handout must
list torchvision's ResNet-18 layers (kernel, stride, padding, channels as torchvision defines
them) and say what the sheet's convention counts. Layer names that are TeX commands print
literally in both tables.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hostile import TEX_ATTACKS, assert_no_raw_tex, toml_string
from test_pdf import needs_tex
from test_typeset import problems_in_log

from derive.architecture.arithmetic import Convention, analyse
from derive.catalog.architectures import builtin
from derive.pdf import build_pdf
from derive.render import render, render_sheet
from derive.sheet import read_spec

EXAMPLES = Path(__file__).parents[1] / "examples"

# Seed 000 3.3, in its order: (output [H×W×C], memory in K as the seed prints it, params formula
# or None for "params: 0", params). The seed lists the main path only (no downsample layers).
SEED_ROWS = [
    ("224×224×3", 150, None, 0),                       # INPUT
    ("112×112×64", 802, "(7×7×3)×64", 9408),           # CONV7-64
    ("56×56×64", 200, None, 0),                        # POOL
    *[("56×56×64", 200, "(3×3×64)×64", 36864)] * 4,    # conv2_x
    ("28×28×128", 100, "(3×3×64)×128", 73728),         # conv3_x, downsampling
    *[("28×28×128", 100, "(3×3×128)×128", 147456)] * 3,
    ("14×14×256", 50, "(3×3×128)×256", 294912),        # conv4_x
    *[("14×14×256", 50, "(3×3×256)×256", 589824)] * 3,
    ("7×7×512", 25, "(3×3×256)×512", 1179648),         # conv5_x
    *[("7×7×512", 25, "(3×3×512)×512", 2359296)] * 3,
    ("1×1×512", 0.512, None, 0),                       # POOL (Global Avg)
    ("1000", 1, "512×1000", 512000),                   # FC [1×1×1000]
]
SEED_PARAMS, SEED_PARAMS_M, SEED_MEGABYTES = 11506880, "11.5", "10.6"  # "= 11 506 880 ≈ 11.5 M", "≈ 10.6 MB"

# torchvision's ResNet-18 (torchvision/models/resnet.py, BasicBlock): name, kernel, stride, padding, channels
TORCHVISION = [("conv1", 7, 2, 3, 64), ("maxpool", 3, 2, 1, None)] + [
    (f"layer{stage}.{block}.conv{n}", 3, 2 if stage > 1 and block == 0 and n == 1 else 1, 1, channels)
    for stage, channels in zip((1, 2, 3, 4), (64, 128, 256, 512)) for block in (0, 1) for n in (1, 2)
] + [(f"layer{stage}.0.downsample.0", 1, 2, 0, channels) for stage, channels in ((2, 128), (3, 256), (4, 512))]

CONVENTION_WORDS = {"zh": "不计偏置、批归一化与下采样路径", "en": "no biases, no batch norm, no downsample path"}


def _flat(text: str) -> str:
    """Text without spaces of any kind and without thousands separators (``36 864``, ``36,864``)."""
    return re.sub(r"[\s,\u2009\u202f]", "", text)


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def _product(shape: str) -> int:
    total = 1
    for side in shape.split("×"):
        total *= int(side)
    return total


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """The ResNet-18 sheet's key and handout in zh and en: {(layout, lang): (pdf, log problems, tex)}."""
    if not (shutil.which("pdftotext") and shutil.which("pdfinfo")):
        pytest.skip("pdftotext and pdfinfo are needed")
    folder, sheet, out = tmp_path_factory.mktemp("resnet18"), read_spec(EXAMPLES / "resnet18-zh.toml"), {}
    for layout in ("key", "handout"):
        for lang in ("zh", "en"):
            stem, tex = f"resnet18-{layout}-{lang}", render_sheet(sheet, layout, lang)
            pdf = build_pdf(tex, stem, folder, keep_log=True)
            out[layout, lang] = (pdf, problems_in_log((folder / f"{stem}.log").read_text(errors="replace"), tex), tex)
    return out


@needs_tex
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_key_has_a_row_with_the_seeds_figures_for_every_layer_in_the_seeds_order(built, lang):
    lines = [_flat(line) for line in _text(built["key", lang][0]).splitlines()]
    at = 0
    for shape, seed_k, formula, params in SEED_ROWS:
        exact = _product(shape)  # the seed's "memory: 56×56×64"
        cells = re.escape(f"{shape}{exact}") + r"\((?P<k>[\d.]+)K\)" + (
            re.escape(f"{formula}={params}") if formula else "0")
        while at < len(lines) and not (found := re.search(cells, lines[at])):
            at += 1
        assert at < len(lines), f"no row {shape} memory {exact} params {formula} = {params} (after row {at})"
        # the seed cuts 802.816 K to 802 K; the key rounds to three digits: never more than 1 K apart
        assert 0 <= float(found["k"]) - seed_k <= 1, (shape, found["k"], seed_k)
        at += 1


@needs_tex
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_keys_totals_are_the_seeds(built, lang):
    text = _flat(_text(built["key", lang][0]))
    memory = sum(_product(shape) for shape, *_ in SEED_ROWS)  # the seed's layers, exactly (2 660 840)
    assert f"={SEED_PARAMS}≈{SEED_PARAMS_M}M" in text
    assert f"={memory}≈" in text
    assert f"4×{memory}={4 * memory}B≈{SEED_MEGABYTES}MB" in text


@needs_tex
@pytest.mark.parametrize("layout, lang, most_pages", [("key", "zh", 3), ("key", "en", 3), ("handout", "zh", 1),
                                                      ("handout", "en", 1)])
def test_the_documents_fit_their_pages_and_nothing_runs_off_the_page(built, layout, lang, most_pages):
    pdf, problems, _ = built[layout, lang]
    assert _pages(pdf) <= most_pages
    assert problems == []


@needs_tex
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_handout_lists_the_layers_and_says_what_the_convention_counts(built, lang):
    lines = [_flat(line) for line in _text(built["handout", lang][0]).splitlines()]
    for name, kernel, stride, padding, channels in TORCHVISION:
        row = f"{kernel}×{kernel}{stride}{padding}" + (str(channels) if channels else "—")
        assert any(line.startswith(name) and line.endswith(row) for line in lines), (name, row)
    assert _flat(CONVENTION_WORDS[lang]) in "".join(lines)
    assert next(line for line in lines if line.startswith("fc")).endswith("———1000")  # FC, 1000 outputs


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_full_count_handout_states_no_convention(lang, tmp_path):
    spec = tmp_path / "full.toml"
    spec.write_text('title = "T"\n[[problem]]\nnetwork = "resnet18"\n', encoding="utf-8")
    tex = render_sheet(read_spec(spec), "handout", lang)
    assert CONVENTION_WORDS[lang] not in tex and r"\begin{longtable}" in tex


@pytest.mark.parametrize("network, convention", [("resnet18", Convention(sheet=True)), ("resnet18", Convention()),
                                                 ("alexnet", Convention()), ("alexnet-grouped", Convention())])
def test_no_quantity_is_typeset_as_its_key_and_no_group_of_one_as_one_to_the_minus_one(network, convention):
    tex = render(analyse(builtin(network), convention).derivation, "latex")
    shown = "\n".join(line.split("%")[0] for line in tex.splitlines())  # not the checks' comments
    for raw in ("largest_", "difference", "part_", "1^{-1}"):
        assert raw not in shown, raw
    # a grouped convolution still divides by its groups (AlexNet's conv2: 5·5·48·256 with g = 2)
    assert ("g}" in shown or "{g}" in shown) == (network == "alexnet-grouped")


@pytest.mark.parametrize("lang, thousands", [("zh", r"36\,864"), ("en", "36{,}864")])
def test_the_table_groups_thousands_as_the_language_writes_them(lang, thousands):
    tex = render_sheet(read_spec(EXAMPLES / "resnet18-zh.toml"), "key", lang)
    assert rf"(3\times 3\times 64)\times 64 = {thousands}" in tex


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict:
    """One network whose layers are named by TEX_ATTACKS, in a sheet: its key and handout, as
    .tex and as the text of their PDFs (if TeX is there)."""
    folder = tmp_path_factory.mktemp("hostile-net")
    layers = "".join(f"[[layer]]\ntype = \"conv\"\nname = {toml_string(name)}\nout = 2\nkernel = 3\npadding = 1\n"
                     f"[[layer]]\ntype = \"relu\"\n" for name in TEX_ATTACKS)
    (folder / "net.toml").write_text(f"name = \"hostile\"\ninput = [8, 8, 1]\n{layers}", encoding="utf-8")
    (folder / "sheet.toml").write_text('title = "H"\n[[problem]]\nnetwork = "net.toml"\n', encoding="utf-8")
    sheet, out = read_spec(folder / "sheet.toml"), {}
    for layout in ("key", "handout"):
        tex = render_sheet(sheet, layout, "en")
        text = ""
        if shutil.which("pdftotext"):
            try:
                text = _text(build_pdf(tex, f"hostile-{layout}", folder))
            except Exception:  # noqa: BLE001 - no TeX: the .tex is still checked
                text = ""
        out[layout] = (tex, text)
    return out


@pytest.mark.parametrize("layout", ["key", "handout"])
@pytest.mark.parametrize("name", TEX_ATTACKS)
def test_layer_names_that_are_tex_commands_print_literally_in_the_tables(hostile, layout, name):
    tex, text = hostile[layout]
    assert_no_raw_tex(tex)
    if text:
        # a table cell may wrap a name at its spaces and hyphens: each piece prints literally
        for piece in re.split(r"[\s-]+", name):
            assert piece in _flat(text), (name, piece)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_net_commands_document_uses_the_same_table(lang):
    from derive.render import render_document

    tex = render_document(analyse(builtin("resnet18")).derivation, lang)  # as derive net resnet18 --pdf
    assert r"\begin{longtable}" in tex
    assert (r"(3\times 3\times 64)\times 64 = 36" + {"zh": r"\,", "en": "{,}"}[lang] + "864") in tex
    assert "layer4.1.conv2" in tex.replace(r"\allowbreak{}", "") and "largest_" not in tex


@pytest.mark.parametrize("tex, lang, expected", [
    ("= 118013952", "zh", r"= 118\,013\,952"),
    ("= 118013952", "en", "= 118{,}013{,}952"),
    (r"3 \cdot 64 \cdot 7^{2} = 9408", "zh", r"3 \cdot 64 \cdot 7^{2} = 9\,408"),
    (r"A_{\text{conv12345}} = 802816", "en", r"A_{\text{conv12345}} = 802{,}816"),  # a name is not a number
    (r"A_{\text{a\}1234}} = 1000", "en", r"A_{\text{a\}1234}} = 1{,}000"),        # an escaped brace in a name
    ("= 0.5 + 123", "en", "= 0.5 + 123"),
])
def test_digits_are_grouped_outside_names(tex, lang, expected):
    from derive.architecture.view import group_digits

    assert group_digits(tex, lang) == expected


@pytest.mark.parametrize("value, unit, expected", [
    (150528, "", r"150.5\,\mathrm{K}"),      # seed 000 3.3: 224×224×3 = 150 K (cut, not rounded)
    (512, "", r"0.512\,\mathrm{K}"),         # seed: 1×1×512 = 0.512 K
    (1000, "", r"1\,\mathrm{K}"),            # seed: 1×1×1000 = 1 K
    (11506880, "", r"11.5\,\mathrm{M}"),     # seed: ≈ 11.5 M parameters
    (10643360, "B", r"10.6\,\mathrm{MB}"),   # seed: ≈ 10.6 MB
    (854196224, "", r"854.2\,\mathrm{M}"),   # seed 003 二3: 854.2 M
])
def test_k_m_g_as_the_seeds_write_them(value, unit, expected):
    from derive.architecture.view import scaled

    assert scaled(value, unit) == expected


@pytest.mark.parametrize("network, lang, title", [
    ("resnet18", "zh", "ResNet-18（torchvision）"),
    ("inception-naive", "zh", r"$28 \times 28 \times 256$ 输入上的朴素 Inception 模块"),
    ("sheet002-q6", "zh", "第二次作业第 6 题：一个类似 AlexNet 的网络"),
    ("sheet002-q6", "en", "Sheet 002, question 6: an AlexNet-like network"),
])
def test_a_built_in_network_is_titled_in_the_documents_language(tmp_path, network, lang, title):
    spec = tmp_path / "s.toml"
    spec.write_text(f'title = "t"\n[[problem]]\nnetwork = "{network}"\n', encoding="utf-8")
    handout = render_sheet(read_spec(spec), "handout", lang)
    assert title in handout
    assert builtin(network).title not in handout or lang == "en"


def test_a_users_network_keeps_its_own_title_under_a_built_in_name(tmp_path):
    net = tmp_path / "net.toml"
    net.write_text('name = "resnet18"\ntitle = "My own net"\ninput = [8, 8, 3]\n'
                   '[[layer]]\ntype = "conv"\nout = 4\nkernel = 3\n', encoding="utf-8")
    spec = tmp_path / "s.toml"
    spec.write_text(f'title = "t"\n[[problem]]\nnetwork = {toml_string(str(net))}\n', encoding="utf-8")
    handout = render_sheet(read_spec(spec), "handout", "zh")
    assert "My own net" in handout and "ResNet-18（torchvision）" not in handout
