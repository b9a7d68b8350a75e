"""What a student is handed shows mathematics only (issue 15, points 4 and 6).

Handouts, keys and ``NAME --pdf`` documents carry no verification note, no catalog key, no
internal target name and no tool footer; ``--show-checks`` prints the certificates for a
teacher, and the .tex keeps them as ``%`` comments either way. A formula sheet holds the
formulas, never a value computed from the spec's params.
"""

import re
from pathlib import Path

import pytest
from hostile import run_cli
from test_pdf import needs_tex, text_of

import derive
from derive.render import render_document

EXAMPLES = Path(__file__).parents[1] / "examples"

# What each language prints only to certify a step (the wording's checks, ui.verified and
# sheet.verified_note), and the catalog keys the reasons once named.
NOTES = {"zh": ["数值验证", "已证明", "随机点", "SymPy", "每一步都已验证", "定义/前提"],
         "en": ["numeric check", "proved", "random points", "SymPy", "Every step verified", "checked before printing"]}
SHOWN = {"zh": ["已证明", "随机点"], "en": ["proved", "random points"]}
CATALOG_KEYS = ["xavier 的", "xavier's", "kaiming 的", "kaiming's", "lecun", "prelu-init", "the relu entry",
                "（见 relu）"]


def without_comments(tex: str) -> str:
    """The .tex as TeX typesets it: every ``%`` comment (an unescaped ``%`` to the line's end) removed."""
    return re.sub(r"(?<!\\)%.*", "", tex)


def internal_names(names: list[str]) -> list[str]:
    """The target names a student must not see: the ones that cannot be an ordinary word (``forward_var``)."""
    return [name for name in names if "_" in name]


def sheet_tex(capsys, tmp_path: Path, spec: str, *flags: str) -> str:
    """The answer key of an example spec, written by ``derive sheet``."""
    out = tmp_path / ("checks" if flags else "plain")
    assert run_cli(capsys, "sheet", str(EXAMPLES / f"{spec}.toml"), "-o", str(out), *flags)[0] == 0
    return (out / f"{spec}-key.tex").read_text(encoding="utf-8")


KEYS = [  # (example spec, language, the entries whose target names must not show)
    ("hw3-initialization-zh", "zh", ["xavier", "prelu-init"]),
    ("activations-losses-en", "en", ["sigmoid", "leaky-relu", "bce-sigmoid"]),
    ("deep-init-zh", "zh", ["variance-recursion", "xavier", "kaiming"]),
]


@pytest.mark.parametrize("spec, lang, entries", KEYS, ids=[k[0] for k in KEYS])
def test_a_key_shows_no_check_notes_catalog_keys_or_target_names_unless_asked(tmp_path, capsys, spec, lang, entries):
    plain = sheet_tex(capsys, tmp_path, spec)
    printed = without_comments(plain)
    names = internal_names([name for entry in entries for name in derive.get(entry).targets])
    assert names, "the table must name targets that a key could leak"
    for text in NOTES[lang] + CATALOG_KEYS + names:
        assert text not in printed, text
    comments = "".join(re.findall(r"(?<!\\)%.*", plain))
    for text in SHOWN[lang] + ["SymPy"]:
        assert text in comments, text  # the teacher still finds them in the source
    shown = without_comments(sheet_tex(capsys, tmp_path, spec, "--show-checks"))
    for text in SHOWN[lang] + ["SymPy"]:
        assert text in shown, text
    for text in CATALOG_KEYS + names:
        assert text not in shown, text


@pytest.mark.parametrize("name, lang", [("xavier", "en"), ("variance-recursion", "zh"), ("sigmoid", "zh")])
def test_a_single_document_shows_the_checks_only_with_show_checks(name, lang):
    plain = render_document(derive.get(name), lang)
    printed = without_comments(plain)
    for text in NOTES[lang] + CATALOG_KEYS + internal_names(list(derive.get(name).targets)):
        assert text not in printed, text
    assert SHOWN[lang][0] in plain  # as % comments
    shown = without_comments(render_document(derive.get(name), lang, show_checks=True))
    assert SHOWN[lang][0] in shown and NOTES[lang][4] in shown


# Every value the spec's params give a result of examples/hw3-initialization-zh.toml
# (n_in = 256, n_out = 128, alpha = 1/4), worked by hand: exact and as the key prints decimals.
HW3_VALUES = [r"\frac{1}{256}", r"\frac{1}{128}", r"\frac{1}{192}", r"\frac{1}{8}", r"\frac{\sqrt{3}}{24}",
              r"\frac{1}{136}", r"\frac{\sqrt{34}}{68}", r"\frac{4 \sqrt{34}}{17}", "17", "256", "128",
              "0.00390625", "0.0078125", "0.00520833", "0.125", "0.0721688", "0.00735294", "0.0857493",
              "1.37199", r"\approx"]


def test_the_formula_sheet_holds_the_formulas_and_no_value_from_the_params(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli(capsys, "sheet", str(EXAMPLES / "hw3-initialization-zh.toml"), "--formulas", "-o", str(out))[0] == 0
    tex = without_comments((out / "hw3-initialization-zh-formulas.tex").read_text(encoding="utf-8"))
    for value in HW3_VALUES:
        assert value not in tex, value
    rows = [line for line in tex.splitlines() if line.startswith("&")]
    assert len(rows) == 5 + 4  # every target the spec asks for is there, as a formula
    key = (out / "hw3-initialization-zh-key.tex").read_text(encoding="utf-8")
    assert r"\frac{1}{192}" in key and "0.0721688" in key  # the key keeps the values


@needs_tex
def test_the_pdfs_show_the_checks_only_with_show_checks(tmp_path, capsys):
    assert run_cli(capsys, "xavier", "--pdf", "--lang", "zh", "-o", str(tmp_path / "plain"))[0] == 0
    assert run_cli(capsys, "xavier", "--pdf", "--lang", "zh", "--show-checks", "-o", str(tmp_path / "checks"))[0] == 0
    plain = text_of(tmp_path / "plain" / "xavier-zh.pdf")
    shown = text_of(tmp_path / "checks" / "xavier-zh.pdf")
    assert "Xavier" in plain and "求解" in plain
    for text in NOTES["zh"] + ["forward_var", "uniform_bound"]:
        assert text not in plain, text
    assert "已证明" in shown and "随机点" in shown and "每一步都已验证" in shown
    spec = EXAMPLES / "hw3-initialization-zh.toml"
    assert run_cli(capsys, "sheet", str(spec), "--pdf", "--show-checks", "-o", str(tmp_path / "sheet"))[0] == 0
    key = text_of(tmp_path / "sheet" / "hw3-initialization-zh-key.pdf").replace(" ", "")
    assert "已证明" in key and "SymPy" in key


@pytest.mark.parametrize("name, lang, shown, absent", [
    # the complement of one relation is written out; no English word in a Chinese document
    ("relu", "zh", r"\begin{cases} 1 & x > 0 \\ 0 & x \leq 0 \end{cases}", ["otherwise", r"\text{for}"]),
    ("relu", "en", r"\begin{cases} 1 & \text{for}\: x > 0 \\ 0 & \text{for}\: x \leq 0 \end{cases}", ["otherwise"]),
    ("leaky-relu", "zh", r"1 & x > 0 \\ \alpha & x \leq 0", ["otherwise"]),
    ("kaiming", "zh", r"z^{2} p(z) & z > 0 \\ 0 & z \leq 0", ["otherwise", r"\text{for}"]),
])
def test_piecewise_conditions_are_in_the_documents_language(name, lang, shown, absent):
    tex = render_document(derive.get(name), lang)
    assert shown in tex
    assert not [word for word in absent if word in tex]


def test_piecewise_otherwise_is_the_wording_tables_word_when_no_complement_is_simple():
    import sympy as sp

    from derive.printing import NotationLatexPrinter
    from derive.render import wording

    z = sp.Symbol("z")
    three = sp.Piecewise((1, z > 1), (-1, z < -1), (0, True))
    assert NotationLatexPrinter([], wording("zh")["ui"]).doprint(three) == \
        r"\begin{cases} 1 & z > 1 \\ -1 & z < -1 \\ 0 & \text{其他} \end{cases}"
    assert NotationLatexPrinter([], wording("en")["ui"]).doprint(three) == \
        r"\begin{cases} 1 & \text{for}\: z > 1 \\ -1 & \text{for}\: z < -1 \\ 0 & \text{otherwise} \end{cases}"


TINY_BACKPROP = 'name = "tiny"\nloss = "E"\nlearning_rate = 1\nsteps = 1\n[inputs]\nx = 2\n[params]\nw = 0.5\n' \
                '[nodes]\nE = "(w*x - 1)^2/2"\n'


@pytest.mark.parametrize("arguments, lang, stem", [  # the worked problems' and networks' PDFs, as NAME --pdf
    (["net", "sheet002-q5-conv"], "zh", "sheet002-q5-conv-zh"),
    (["net", "inception-naive"], "en", "inception-naive-en"),
    (["example", "bp-221-relu"], "en", "bp-221-relu-en"),
    (["example", "conv2d-4x4"], "zh", "conv2d-4x4-zh"),
    (["backprop", "SPEC"], "zh", "tiny-zh"),
    (["conv2d", "--image", "[[1, 2], [3, 4]]", "--kernel", "[[1]]"], "en", "conv2d-en"),
])
def test_network_and_worked_problem_pdfs_show_the_checks_only_with_show_checks(
        tmp_path, capsys, monkeypatch, arguments, lang, stem):
    import derive.commands.options

    monkeypatch.setattr(derive.commands.options, "build_pdf", lambda tex, name, folder: folder / f"{name}.pdf")  # the .tex is enough
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY_BACKPROP, encoding="utf-8")
    arguments = [str(spec) if argument == "SPEC" else argument for argument in arguments]
    texts = {}
    for flags in ([], ["--show-checks"]):
        out = tmp_path / ("checks" if flags else "plain")
        assert run_cli(capsys, *arguments, "--lang", lang, "--pdf", *flags, "-o", str(out))[0] == 0
        texts[bool(flags)] = (out / f"{stem}.tex").read_text(encoding="utf-8")
    printed = without_comments(texts[False])
    assert not [text for text in NOTES[lang] if text in printed]
    comments = "".join(re.findall(r"(?<!\\)%.*", texts[False]))
    assert SHOWN[lang][0] in comments and NOTES[lang][4] in comments  # the teacher's proof stays in the source
    shown = without_comments(texts[True])
    assert SHOWN[lang][0] in shown and NOTES[lang][4] in shown


def test_a_formula_sheet_gives_a_simulation_the_predicted_factor_as_a_formula(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli(capsys, "sheet", str(EXAMPLES / "deep-init-zh.toml"), "--formulas", "-o", str(out))[0] == 0
    tex = without_comments((out / "deep-init-zh-formulas.tex").read_text(encoding="utf-8"))
    # problems 4 and 5 simulate ReLU under Xavier and Kaiming: one heading for both, the recursion's factors
    # Var(z^(l+1))/Var(z^(l)) = n Var(W) E[f(z)^2]/Var(z) and E[delta^(l)^2]/E[delta^(l+1)^2] = n Var(W) E[f'(z)^2]
    simulations = tex[tex.index(r"\textbf{4, 5. "):]
    assert r"&= n \operatorname{Var}(W) \, \frac{\mathbb{E}[f(z^{(l)})^2]}{\operatorname{Var}(z^{(l)})}" in simulations
    assert r"&= n \operatorname{Var}(W) \, \mathbb{E}[f'(z^{(l)})^2]" in simulations
    assert r"\textbf{5." not in tex and not re.findall(r"\d\.\d", simulations)  # no measured ratio (x0.5000)
    key = without_comments((out / "deep-init-zh-key.tex").read_text(encoding="utf-8"))
    assert r"$\times$0.5" in key and r"$\times$1.0" in key  # the key keeps the measured ratios
