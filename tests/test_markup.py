"""Math markup: wording phrases write formulas as $LaTeX$, printed as math in TeX and Markdown and
as Unicode in text; reasons name what was substituted; user strings stay literal."""

import re
import tomllib
from itertools import pairwise
from pathlib import Path

import pytest
import sympy as sp
from hostile import TEX_ATTACKS, assert_no_raw_tex, assert_one_line_error, net_spec, run_cli, toml_string, write

from derive import markup
from derive.engine import Builder
from derive.notation import POSITIVE, REAL, Quantity
from derive.printing import tex_escape
from derive.render import context, render

WORDING = Path(__file__).resolve().parent.parent / "templates" / "wording"
#: The sections a document prints (the checker's feedback is not markup).
DOCUMENT_SECTIONS = ("ui", "checks", "titles", "rules", "assumptions", "conventions", "sheet", "targets", "statements",
                     "simulate")

# phrase -> (tex, text, md), written by hand
CONVERSIONS = {
    r"独立：$\mathbb{E}[Wa] = \mathbb{E}[W]\,\mathbb{E}[a]$": (
        r"独立：$\mathbb{E}[Wa] = \mathbb{E}[W]\,\mathbb{E}[a]$", "独立：𝔼[Wa] = 𝔼[W] 𝔼[a]",
        r"独立：$\mathbb{E}[Wa] = \mathbb{E}[W]\,\mathbb{E}[a]$"),
    r"换元 $z \to -z$": (r"换元 $z \to -z$", "换元 z → -z", r"换元 $z \to -z$"),
    r"增益 $g$：$\sigma = g/\sqrt{M_{l-1}}$": (
        r"增益 $g$：$\sigma = g/\sqrt{M_{l-1}}$", "增益 g：σ = g/√(M_(l-1))", r"增益 $g$：$\sigma = g/\sqrt{M_{l-1}}$"),
    r"用 $\sigma$ 表示": (r"用 $\sigma$ 表示", "用 σ 表示", r"用 $\sigma$ 表示"),
    r"克罗内克 $\delta$ 求和": (r"克罗内克 $\delta$ 求和", "克罗内克 δ 求和", r"克罗内克 $\delta$ 求和"),
    r"$\hat{y} = \sigma(z)$": (r"$\hat{y} = \sigma(z)$", "ŷ = σ(z)", r"$\hat{y} = \sigma(z)$"),
    r"$ x \le 0 $ else": (r"$x \le 0$ else", "x ≤ 0 else", r"$x \le 0$ else"),
    r"$x \ne 0$": (r"$x \ne 0$", "x ≠ 0", r"$x \ne 0$"),
    r"$|w_l| \le 1$": (r"$|w_l| \le 1$", "|w_l| ≤ 1", r"$|w_l| \le 1$"),
    r"$\frac{1+\alpha^2}{2}\,\mathbb{E}[z^2]$": (
        r"$\frac{1+\alpha^2}{2}\,\mathbb{E}[z^2]$", "(1+α^2)/2 𝔼[z^2]", r"$\frac{1+\alpha^2}{2}\,\mathbb{E}[z^2]$"),
    r"$\sqrt{\frac{6}{M_{l-1}+M_l}}$": (
        r"$\sqrt{\frac{6}{M_{l-1}+M_l}}$", "√(6/(M_(l-1)+M_l))", r"$\sqrt{\frac{6}{M_{l-1}+M_l}}$"),
    r"$\tilde{\delta}^{(l+1)}$ and $W^{(l)}_{ij}$": (
        r"$\tilde{\delta}^{(l+1)}$ and $W^{(l)}_{ij}$", "δ̃^(l+1) and W^(l)_ij", r"$\tilde{\delta}^{(l+1)}$ and $W^{(l)}_{ij}$"),
    r"$\tanh'(x) < 1$": (r"$\tanh'(x) < 1$", "tanh'(x) < 1", r"$\tanh'(x) < 1$"),
    r"$\operatorname{Var}(z^{(l-1)})$": (r"$\operatorname{Var}(z^{(l-1)})$", "Var(z^(l-1))", r"$\operatorname{Var}(z^{(l-1)})$"),
    # text outside the formulas is text: TeX's specials print literally, \$ is a dollar
    r"50% & #1_a ~ {{x}} costs \$5": (r"50\% \& \#1\_a \textasciitilde{} \{x\} costs \$5", "50% & #1_a ~ {x} costs $5",
                                      "50% & #1_a ~ {x} costs $5"),
}


@pytest.mark.parametrize("phrase", CONVERSIONS, ids=range(len(CONVERSIONS)))
def test_a_phrase_in_every_form(phrase):
    tex, text, md = CONVERSIONS[phrase]
    assert markup.marked(phrase) == markup.Marked(text=text, tex=tex, md=md)


# phrase that cannot be read -> what the error names
BAD_PHRASES = {
    "a $x": "not closed",
    "a $$ b": "empty formula",
    "a {nope} b": "placeholder {nope}",
    "a {x:>3} b": "placeholder {x}",
    "a } b": "brace",
    r"$\q{nope} + 1$": r"\q{nope}",
    r"$\q{y}$": r"\q{y}",  # a user's text is no formula
}


@pytest.mark.parametrize("phrase", BAD_PHRASES)
def test_a_phrase_that_cannot_be_read_is_named(phrase):
    with pytest.raises(markup.MarkupError, match=re.escape(BAD_PHRASES[phrase])):
        markup.marked(phrase, {"x": markup.user("1"), "y": markup.user("M")})


def test_a_quantity_inside_a_formula_is_written_in_the_documents_notation():
    phrase = r"推导 $\operatorname{Var}(z) = \q{n} \operatorname{Var}(W)$。"
    course = markup.marked(phrase, {"n": markup.math("M_{l-1}", "M_(l-1)")})
    assert course.tex == r"推导 $\operatorname{Var}(z) = {M_{l-1}} \operatorname{Var}(W)$。"
    assert course.text == "推导 Var(z) = M_(l-1) Var(W)。"
    textbook = markup.marked(phrase, {"n": markup.math(r"n_{\text{in}}")})
    assert r"{n_{\text{in}}} \operatorname{Var}(W)" in textbook.md


@pytest.mark.parametrize("notation, shown, absent", [("course", "{M_{l-1}}", "n_{l-1}"),
                                                     ("textbook", r"{n_{\text{in}}}", "M_{l-1}")])
def test_the_deep_init_statement_uses_the_keys_notation(tmp_path, notation, shown, absent):
    from derive.render import render_sheet
    from derive.sheet import read_spec

    sheet = read_spec(Path(__file__).resolve().parent.parent / "examples" / "deep-init-zh.toml")
    handout, key = (render_sheet(sheet, layout, "zh", notation=notation) for layout in ("handout", "key"))
    statement = next(line for line in handout.splitlines() if "推导方差递推" in line)
    assert shown in statement and absent not in statement
    assert shown.strip("{}") in key


# a user's string as a field: (value, tex, text)
USER_FIELDS = {
    r"$x$ \input{x}": (r"see \$x\$ \textbackslash{}input\{x\}", r"see $x$ \input{x}"),
    "a_b ^ {c}": (r"see a\_b \^{} \{c\}", "see a_b ^ {c}"),
}


@pytest.mark.parametrize("value", USER_FIELDS)
def test_a_user_string_filled_in_is_never_markup(value):
    tex, text = USER_FIELDS[value]
    forms = markup.marked("see {what}", {"what": markup.user(value)})
    assert (forms.tex, forms.text, forms.md) == (tex, text, text)


# title -> its TeX
TITLES = {
    "神经网络基础 第三次作业": r"神经网络基础\ 第三次作业",
    "神经网络基础  第三次作业 3.1": r"神经网络基础\ 第三次作业 3.1",
    "Homework 3 第三次": "Homework 3 第三次",
    "作业 $5$": r"作业 \$5\$",
}


@pytest.mark.parametrize("title", TITLES)
def test_a_title_keeps_its_space_between_chinese_characters(title):
    assert markup.title_tex(title) == TITLES[title]


def _phrases(lang):
    with (WORDING / f"{lang}.toml").open("rb") as handle:
        table = tomllib.load(handle)
    return [(f"{section}.{key}", value) for section in DOCUMENT_SECTIONS for key, value in table[section].items()
            if isinstance(value, str)]


PHRASES = [(lang, key, value) for lang in ("en", "zh") for key, value in _phrases(lang)]
RESIDUE = re.compile(r"sigma|delta|yhat|sqrt\(|->|<=|>=|!=|\^|_|E\[|\\|\b(alpha|beta|gamma|eta|omega|x)\b")


@pytest.mark.parametrize("lang, key, phrase", PHRASES, ids=[f"{lang}-{key}" for lang, key, _ in PHRASES])
def test_no_formula_is_typed_as_text_in_a_wording_table(lang, key, phrase):
    outside = "".join(piece for is_math, piece in markup.parts(phrase) if not is_math)
    outside = re.sub(r"\{\w+\}", "", outside)  # placeholders: filled in by the renderer
    assert not RESIDUE.search(outside), f"{lang} {key}: {RESIDUE.search(outside).group()!r} outside $...$"


@pytest.mark.parametrize("lang, key, phrase", PHRASES, ids=[f"{lang}-{key}" for lang, key, _ in PHRASES])
def test_every_markdown_math_span_opens_and_closes_with_a_non_space(lang, key, phrase):
    fields = {name: markup.math("x") for name in re.findall(r"\{(\w+)\}", phrase)}
    md = markup.marked(phrase, fields).md
    for span in re.findall(r"\$([^$]*)\$", md):
        assert span and not span[0].isspace() and not span[-1].isspace(), f"{key}: ${span}$"


ZH = [(key, value) for key, value in _phrases("zh")]


@pytest.mark.parametrize("key, phrase", ZH, ids=[key for key, _ in ZH])
def test_chinese_is_followed_by_full_width_punctuation(key, phrase):
    text = markup.marked(phrase, {"facts": markup.math("x = 0"), "reason": markup.user("甲"),
                                  **{name: markup.user("1") for name in re.findall(r"\{(\w+)\}", phrase)},
                                  **{name: markup.math("n") for name in re.findall(r"\\q\{(\w+)\}", phrase)}}).text
    assert not re.search(f"{markup.CJK} ?[;:,.!?]", text), text
    assert not text.rstrip().endswith((";", ":", ",", ".")), text
    if key.startswith("statements."):
        assert text.endswith(("。", "？")), text


def _tiny_derivation():
    """y = n v + E[W], E[W] = 0 substituted; then w = n v and u = v + n, v = 2n substituted; then
    t = v + u + y, all three substituted."""
    mean, v, n, y, w, u, t = sp.symbols("tmean tv tn ty tw tu tt", positive=True)
    quantities = (Quantity("tmean", mean, r"\mathbb{E}[W]", REAL, text="E[W]"), Quantity("tv", v, "v", POSITIVE, text="v"),
                  Quantity("tn", n, "n", POSITIVE, text="n"), Quantity("ty", y, "y", POSITIVE, text="y"),
                  Quantity("tw", w, "w", POSITIVE, text="w"), Quantity("tu", u, "u", POSITIVE, text="u"),
                  Quantity("tt", t, "t", POSITIVE, text="t"))
    b = Builder("tiny", "test", quantities)
    b.define(y, n * v + mean)
    b.equals("zero-mean-weights", n * v, given={mean: 0})
    b.define(v, 2 * n)
    b.define(w, n * v)
    b.substitute(v)
    b.result("r")
    b.define(u, v + n)
    b.substitute(v, rule="substitute-gain")
    b.define(t, v + u + y)
    b.substitute(v, u, y)  # three facts: too many for a reason
    return b.build()


def test_substitute_records_what_it_substituted():
    derivation = _tiny_derivation()
    v, n = sp.symbols("tv tn", positive=True)
    assert [(step.rule, step.given) for step in derivation.steps if step.rule.startswith("substitute")][:2] == [
        ("substitute", ((v, 2 * n),)), ("substitute-gain", ((v, 2 * n),))]


# lang -> the reasons (TeX, text) of the zero-mean step, the substitute step and the substitute-gain step
REASONS = {
    "zh": [(r"权重均值为零，代入 $\mathbb{E}[W] = 0$", "权重均值为零，代入 E[W] = 0"),
           ("代入 $v = 2 n$", "代入 v = 2*n"), ("代入增益：$v = 2 n$", "代入增益：v = 2*n"),
           ("代入以上各行的结果", "代入以上各行的结果")],
    "en": [(r"zero-mean weights: substitute $\mathbb{E}[W] = 0$", "zero-mean weights: substitute E[W] = 0"),
           ("substitute $v = 2 n$", "substitute v = 2*n"), ("substitute the gain: $v = 2 n$", "substitute the gain: v = 2*n"),
           ("substitute the results above", "substitute the results above")],
}


@pytest.mark.parametrize("lang", REASONS)
def test_a_reason_names_what_was_substituted(lang):
    lines = [line for line in context(_tiny_derivation(), lang)["lines"] if line["check"] != "given"]
    assert [(line["reason_tex"], line["reason"]) for line in lines] == REASONS[lang]
    assert [line["reason_md"] for line in lines] == [tex for tex, _ in REASONS[lang]]


def test_no_bare_substitute_twice_in_a_row_in_the_initialization_keys():
    from derive import catalog

    for name in ("xavier", "kaiming"):
        reasons = [line["reason"] for line in context(catalog.get(name), "zh")["lines"]]
        assert not any(a == b == "代入" for a, b in pairwise(reasons)), (name, reasons)


@pytest.mark.parametrize("name", ["relu", "leaky-relu"])
def test_piecewise_results_in_chinese_have_no_english(name):
    from derive import catalog

    tex = render(catalog.get(name), "latex", "zh")
    assert r"\begin{cases}" in tex
    assert not re.search(r"otherwise|\\text\{for\}|\bfor\b", tex), tex


# Hostile table: a user's string in a sheet or a network prints literally, or, for a title's and a
# statement's $...$ spans, as mathematics read and printed again (derive/statements.py) or refused. (where, value)
HOSTILE = [("title", value) for value in (r"$x$ \input{x}", "神经网络基础 第三次作业 $", TEX_ATTACKS[0])]
HOSTILE += [("statement", value) for value in (r"$\input{x}$", TEX_ATTACKS[1])]
HOSTILE += [("network title", value) for value in (r"Net $a_b$ \input{x}", TEX_ATTACKS[3])]
HOSTILE += [("network name", value) for value in (r"N$a_b$", TEX_ATTACKS[2])]


def _sheet(title="Sheet", statement="Find it.", network=False) -> str:
    network = "[[problem]]\nnetwork = \"net.toml\"\n" if network else ""
    return (f"title = {toml_string(title)}\ncourse = \"C\"\ndate = \"May\"\nlang = \"zh\"\n"
            f"[[problem]]\nentry = \"mse\"\nstatement = {toml_string(statement)}\n{network}")


@pytest.mark.parametrize("where, value", HOSTILE)
def test_user_strings_print_literally(tmp_path, capsys, where, value):
    if where.startswith("network"):
        write(tmp_path / "net.toml", net_spec(**{where.split()[1]: value}))
        spec = _sheet(network=True)
    else:
        spec = _sheet(**{where: value})
    status, _, err = run_cli(capsys, "sheet", write(tmp_path / "s.toml", spec), "--tex", "-o", str(tmp_path / "out"))
    spans = where in ("title", "statement") and "$" in value
    if spans and status == 2:  # a span that is not mathematics (\input, an unclosed $)
        assert_one_line_error(status, err, 2, mentions=f"{where}: ")
        assert not (tmp_path / "out").exists()
        return
    assert status == 0, err
    key = (tmp_path / "out" / "s-key.tex").read_text(encoding="utf-8")
    assert_no_raw_tex(key)
    expected = markup.title_tex(value) if where == "title" else tex_escape(value)
    if spans:
        from derive.statements import to_tex

        expected = to_tex(value, escape=markup.title_tex if where == "title" else tex_escape)
    assert expected in key
