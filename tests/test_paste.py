"""Paste blocks (issue 15, point 5): `--latex` pasted into a plain article, `--md` on pandoc,
GitHub and GitLab, `--text` for the teacher.

The expected strings are written by hand; the TeX tests compile the block in the article a
teacher would paste it into (only what the block's `% preamble:` line asks for) and read the log.
"""

import os
import re
import shutil
import subprocess

import pytest
import sympy as sp

import derive
from derive import pdf
from derive.catalog import entries
from derive.cli import cli
from derive.printing import NotationLatexPrinter, NotationStrPrinter, sum_rows
from derive.render import render, wording

NAMES = [entry.name for entry in entries()]
LANGS = ("en", "zh")
needs_tex = pytest.mark.skipif(not pdf.tex_available() and not os.environ.get("CI"),
                               reason="TeX is not installed (the README's test command installs it)")

z, x, r, w, n = sp.symbols("z x r w n")

# -- the printers: SymPy's residue replaced by what a textbook writes ------------------------

PRINTED = {
    "tanh of a name": (sp.tanh(z), r"\tanh z", "tanh(z)"),
    "a power of tanh": (sp.tanh(z) ** 2, r"\tanh^{2} z", "tanh(z)**2"),
    "tanh of a product": (sp.tanh(2 * z), r"\tanh(2 z)", "tanh(2*z)"),
    "log of a sum": (sp.log(1 + sp.exp(x)), r"\log(1 + e^{x})", "log(1 + exp(x))"),
    "log of a fraction": (sp.log(x / (1 + x)), r"\log\left(\frac{x}{1 + x}\right)", "log(x/(1 + x))"),
    "sign": (sp.sign(x), r"\operatorname{sign} x", "sign(x)"),
    "derivative at a point": (sp.Subs(sp.Derivative(sp.tanh(z), z), z, 0), r"\frac{d}{dz} \tanh z\big|_{z=0}",
                              "d/dz tanh(z) |_(z=0)"),
    "a sum at a point": (sp.Subs(sp.Rational(1, 2) + x**2 / 2, x, 0),
                         r"\left(\frac{1}{2} + \frac{x^{2}}{2}\right)\Big|_{x=0}", "(1/2 + x**2/2) |_(x=0)"),
    "definite integral": (sp.Integral(w**2 / (2 * r), (w, -r, r)), r"\int_{-r}^{r} \frac{w^{2}}{2 r}\, dw",
                          "∫_(-r)^(r) w**2/(2*r) dw"),
    "improper integral": (sp.Integral(z**2, (z, -sp.oo, sp.oo)), r"\int_{-\infty}^{\infty} z^{2}\, dz",
                          "∫_(-oo)^(oo) z**2 dz"),
    "odd Taylor series": (sp.tanh(z).series(z, 0, 5), r"z - \frac{z^{3}}{3} + O(z^{5})", "z - z**3/3 + O(z**5)"),
    "derivative of a function of a sum": (sp.Derivative(sp.log(1 + sp.exp(x)), x), r"\frac{d}{dx} \log(1 + e^{x})",
                                          "d(log(1 + exp(x)))/dx"),
    "squared sum": (sp.Sum(x**2, (x, 1, n)) ** 2, r"\left(\sum_{x=1}^{n} x^{2}\right)^{2}", "(Σ_(x=1)^(n) x**2)**2"),
}


@pytest.mark.parametrize("expr, latex, text", PRINTED.values(), ids=PRINTED)
def test_the_printers_write_what_a_textbook_writes(expr, latex, text):
    assert NotationLatexPrinter([]).doprint(expr) == latex
    assert NotationStrPrinter([]).doprint(expr) == text


LONG_SUM = " + ".join(str(1000 * k + 7) for k in range(1, 45))  # 44 terms, 254 glyphs
CASES = r"\begin{cases} \hat{y} - y & \text{for}\: a \\ b - c & d \end{cases}"
ROWS = {
    "a short sum stays one row": ("a + b - c", ["a + b - c"]),
    "a long sum: rows before its signs": (LONG_SUM, [
        " + ".join(str(1000 * k + 7) for k in range(1, 13)),
        "+ " + " + ".join(str(1000 * k + 7) for k in range(13, 23)),
        "+ " + " + ".join(str(1000 * k + 7) for k in range(23, 33)),
        "+ " + " + ".join(str(1000 * k + 7) for k in range(33, 43)),
        "+ 43007 + 44007"]),
    "never inside braces, brackets or an environment": (
        rf"\left({LONG_SUM}\right) + {CASES}", [rf"\left({LONG_SUM}\right)", f"+ {CASES}"]),
}


@pytest.mark.parametrize("tex, rows", ROWS.values(), ids=ROWS)
def test_a_long_sum_is_cut_into_rows_before_its_top_level_signs(tex, rows):
    assert sum_rows(tex) == rows


# -- every catalog entry's blocks ---------------------------------------------------------------

RESIDUE = {
    "function argument in \\left( \\right) braces":
        r"\\(?!frac\b|sqrt\b)(?:[A-Za-z]+|operatorname\{\w+\})(?:\^\{[^{}]*\})?\{\\left\(",
    "integral limits under the sign": r"\\int\\limits",
    "evaluation bar as \\left. \\right|": r"\\left\.\s|\\right\|_\{\\substack",
    "order term in \\left( \\right)": r"O\\left\(",
}


def _visible_tex(block: str) -> str:
    """The block without its % comments (what the reader of the PDF sees)."""
    return "\n".join(re.sub(r"(?<!\\)%.*", "", line) for line in block.splitlines())


def _check_notes(lang: str) -> list[str]:
    """Patterns of the certificates' wording (how each step was checked)."""
    checks = wording(lang)["checks"]
    numbered = re.escape(checks["numeric"]).replace(re.escape("{points}"), r"\d+")
    short = "|".join(re.escape(checks[key]) for key in ("given", "symbolic"))
    summary = re.escape(wording(lang)["ui"]["verified"].split("{")[0].strip())
    return [numbered, re.escape(checks["numeric_short"]), summary, rf"[;(]\s*(?:{short})\s*[)\]]",
            rf"\\small (?:{short})\}}"]


def _internal_keys(name: str) -> list[str]:
    """The entry's target keys that read as code (forward_var, d1): never shown."""
    return [key for key in derive.get(name).targets if re.search(r"[_\d]", key)]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NAMES)
def test_the_latex_block_has_no_residue_no_check_note_and_no_internal_name(name, lang):
    block = render(derive.get(name), "latex", lang)
    seen = _visible_tex(block)
    for what, pattern in RESIDUE.items():
        assert not re.search(pattern, block), (what, re.search(pattern, block).group())
    for pattern in _check_notes(lang):
        assert not re.search(pattern, seen), pattern
    for key in _internal_keys(name):
        assert key.replace("_", r"\_") not in seen and f"{{{key}}}" not in seen, key
    assert seen.count(r"\begin{align*}") == seen.count(r"\end{align*}") >= 1
    assert r"&&" not in seen and r"\\" + "\n" + r"\end{align*}" not in seen
    needs = _preamble(block)
    assert r"\usepackage{amsmath}" in needs
    assert (r"\usepackage{amssymb}" in needs) == (r"\mathbb" in seen)
    # ctex with its plain scheme: Chinese fonts, and the article's own sizes and Latin setting
    assert (r"\usepackage[scheme=plain]{ctex}" in needs) == bool(re.search("[\u4e00-\u9fff]", block))


def _spans(line: str) -> list[str]:
    """The $...$ spans of a Markdown line (a \\$ is a dollar sign, not math)."""
    pieces = re.split(r"(?<!\\)\$", line)
    assert len(pieces) % 2 == 1, f"a $ left open: {line}"
    return pieces[1::2]


def _visible_md(document: str) -> str:
    return re.sub(r"<!--.*?-->", "", document, flags=re.DOTALL)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NAMES)
def test_every_markdown_math_span_opens_and_closes_with_a_non_space(name, lang):
    document = render(derive.get(name), "md", lang)
    for line in document.splitlines():
        for span in _spans(line):
            assert span and not span[0].isspace() and not span[-1].isspace(), (span, line)
            # GitHub reads a backslash before punctuation as a Markdown escape, even in math
            assert not re.search(r"\\[!-\"$-/:-@\[-`{-~]", span), span
        assert not re.search(r"(?<!\\)\$\d", re.sub(r"(?<!\\)\$[^$]*(?<!\\)\$", "", line)), line
    seen = _visible_md(document)
    for pattern in _check_notes(lang):
        assert not re.search(pattern, seen), pattern
    outside_math = re.sub(r"(?<!\\)\$[^$]*(?<!\\)\$", "", seen)
    for key in [*_internal_keys(name), *(f"`{key}`" for key in derive.get(name).targets)]:
        assert not re.search(rf"(?<![\w\\]){re.escape(key)}(?!\w)", outside_math), key


@pytest.mark.parametrize("name", ["xavier", "softmax", "prelu-init", "mlp-backprop"])
def test_the_text_results_are_labelled_with_the_wording_not_the_target_key(name):
    document = render(derive.get(name), "text", "en")
    results = document.split(wording("en")["ui"]["results"] + ":")[1]
    for key in derive.get(name).targets:
        assert not re.search(rf"^\s*{re.escape(key)}:", results, flags=re.MULTILINE), key
        assert wording("en")["targets"][key].split("$")[0].strip() in results


# -- the block in the article a teacher pastes it into -----------------------------------------

ARTICLE = "\\documentclass{{article}}\n{preamble}\n\\usepackage[textwidth=16cm]{{geometry}}\n" \
          "\\begin{{document}}\n{block}\n\\end{{document}}\n"
LONG = [*(pytest.param(name, "en", id=name) for name in
          ("xavier", "kaiming", "prelu-init", "mlp-backprop", "softmax-ce", "conv-backprop")),
        pytest.param("kaiming", "zh", id="kaiming-zh", marks=pytest.mark.slow)]  # ctex's fonts: 6 s


def _preamble(block: str) -> list[str]:
    """The packages the block's preamble line asks for."""
    line = re.search(r"^% preamble: (.*)$", block, flags=re.MULTILINE).group(1)
    return re.findall(r"\\usepackage(?:\[[\w=]+\])?\{\w+\}", line)


def _build_in_article(blocks: list[str], stem: str, folder) -> str:
    """The blocks in the plain article, built by xelatex; the log, after checking that no box is
    overfull by more than 1 pt and that no character is missing."""
    preamble = "".join(sorted({package for block in blocks for package in _preamble(block)}))
    pdf.build_pdf(ARTICLE.format(preamble=preamble, block="\n".join(blocks)), stem, folder, keep_log=True)
    log = (folder / f"{stem}.log").read_text(encoding="utf-8", errors="replace")
    overfull = [float(points) for points in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide", log)]
    assert all(points <= 1 for points in overfull), overfull
    assert "Missing character" not in log
    return log


@needs_tex
@pytest.mark.parametrize("name, lang", LONG)
def test_the_latex_block_fits_a_plain_article_and_fills_its_first_page(tmp_path, name, lang):
    _build_in_article([render(derive.get(name), "latex", lang)], name, tmp_path)
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(tmp_path / f"{name}.pdf"), "-"],
                           check=True, capture_output=True, text=True).stdout
    assert len(first.split()) > 20, first


@needs_tex
def test_a_networks_block_breaks_its_long_totals_and_fits(tmp_path, capsys):
    assert cli(["net", "resnet18", "--latex"]) == 0
    block = capsys.readouterr().out
    assert re.search(r"^ &\\quad \+ \d+ \+ ", block, flags=re.MULTILINE)  # the totals' continued rows
    _build_in_article([block], "resnet18", tmp_path)


@needs_tex
@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_latex_block_fits_the_article(tmp_path, lang):
    """All the catalog's blocks, one after the other in one article (one TeX run for all)."""
    _build_in_article([render(derive.get(name), "latex", lang) for name in NAMES], lang, tmp_path)


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed (optional: apt-get install pandoc)")
@pytest.mark.parametrize("lang", LANGS)
def test_pandoc_reads_every_markdown_span_as_math(lang):
    document = "\n\n".join(render(derive.get(name), "md", lang) for name in NAMES)
    spans = sum(len(_spans(line)) for line in document.splitlines())
    html = subprocess.run(["pandoc", "-f", "markdown", "-t", "html", "--mathjax", "--wrap=none"], input=document,
                          check=True, capture_output=True, text=True).stdout
    assert html.count('<span class="math inline">') == spans > 100
    assert "$" not in re.sub(r'<span class="math inline">.*?</span>', "", html, flags=re.DOTALL)
