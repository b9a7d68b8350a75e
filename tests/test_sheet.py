"""Sheet specs: every malformed spec is one line and exit 2, user text prints literally,
output is deterministic."""

import os
import subprocess
from pathlib import Path

import pytest

from derive import pdf
from derive.cli import cli
from derive.render import render_sheet
from derive.sheet import read_spec

EXAMPLES = Path(__file__).parents[1] / "examples"

GOOD = '''title = "T"
[[problem]]
entry = "sigmoid"
'''


def run(capsys, *args):
    status = cli([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("spec, message", [
    ('title = "T"\n[[problem]\nentry = "x"\n', "TOML syntax: "),
    ('titel = "T"\n[[problem]]\nentry = "sigmoid"\n', "unknown key 'titel'"),
    ('[[problem]]\nentry = "sigmoid"\npionts = 3\n', "unknown key 'problem[1].pionts'"),
    ('[[problem]]\nentry = "xavir"\n', "problem[1]: unknown derivation 'xavir'; did you mean 'xavier'?"),
    ('[[problem]]\nentry = "xavier"\ntargets = ["vr"]\n', "problem[1]: unknown target 'vr' in 'xavier'"),
    ('[[problem]]\nentry = "xavier"\nparams = { n_in = -3 }\n', "problem[1]: parameter n_in=-3 is outside its domain"),
    ('[[problem]]\nentry = "prelu-init"\nparams = { alpha = "x" }\n', "parameter alpha='x' is not a number"),
    ('[[problem]]\nentry = "xavier"\nparams = { n_out = 3, n_inn = 2 }\n', "unknown parameter 'n_inn'"),
    ('[[problem]]\nentry = "sigmoid"\npoints = "ten"\n', "'problem[1].points' must be int, not str"),
    ('[[problem]]\npoints = 3\n', "'problem[1]' needs exactly one of 'entry'"),
    ('title = "T"\n', "no [[problem]] tables"),
    ('lang = "fr"\n[[problem]]\nentry = "sigmoid"\n', "'lang' must be \"en\" or \"zh\""),
])
def test_malformed_spec_is_one_line_exit_2_and_writes_nothing(capsys, tmp_path, spec, message):
    path = tmp_path / "bad.toml"
    path.write_text(spec, encoding="utf-8")
    out_dir = tmp_path / "out"
    status, out, err = run(capsys, "sheet", path, "-o", out_dir)
    assert status == 2 and not out
    assert err.startswith(f"derive: error: {path}: ") and message in err and err.count("\n") == 1
    assert not out_dir.exists() or not any(out_dir.iterdir())


HOSTILE = r"\input{/etc/passwd} \write18{touch pwned} $x$ 100% A&B #1 a_b {c} ~d"


def test_user_text_is_escaped_everywhere(tmp_path):
    spec = tmp_path / "hostile.toml"
    spec.write_text(f"title = '{HOSTILE}'\ncourse = '{HOSTILE}'\n[[problem]]\nentry = 'mse'\n"
                    f"statement = '{HOSTILE}'\n", encoding="utf-8")
    tex = render_sheet(read_spec(spec), "key", "en")
    escaped = (r"\textbackslash{}input\{/etc/passwd\} \textbackslash{}write18\{touch pwned\} \$x\$ 100\% "
               r"A\&B \#1 a\_b \{c\} \textasciitilde{}d")
    assert tex.count(escaped) == 1  # the course: plain text
    # a title's and a statement's $x$ is a formula, printed again from its parsed form (derive.statements)
    assert tex.count(escaped.replace(r"\$x\$", "$x$")) == 2
    assert r"\input{" not in tex and r"\write18{" not in tex


def test_the_same_spec_gives_byte_identical_tex(capsys, tmp_path):
    for folder in ("a", "b"):
        assert run(capsys, "sheet", EXAMPLES / "hw3-initialization-zh.toml", "--formulas", "-o", tmp_path / folder)[0] == 0
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "hw3-initialization-zh-formulas.tex", "hw3-initialization-zh-key.tex", "hw3-initialization-zh.tex"]


def test_no_key_writes_the_handout_alone_and_lang_overrides_the_spec(capsys, tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(GOOD + 'points = 3\n', encoding="utf-8")
    status, out, _ = run(capsys, "sheet", spec, "--no-key", "--lang", "zh", "-o", tmp_path / "o")
    assert status == 0 and out.strip() == f"wrote {tmp_path / 'o' / 's.tex'}"
    tex = (tmp_path / "o" / "s.tex").read_text(encoding="utf-8")
    assert "题目 1" in tex and "（3 分）" in tex and "ctexart" in tex


def test_every_example_spec_reads(tmp_path):
    for spec in EXAMPLES.glob("*.toml"):
        if "[[entry]]" in spec.read_text(encoding="utf-8"):  # a teacher's catalog file, not a sheet spec
            continue
        sheet = read_spec(spec)
        assert sheet.problems and sheet.lang in ("en", "zh")


def test_handout_asks_without_answering():
    sheet = read_spec(EXAMPLES / "hw2-derivatives-zh.toml")
    handout, key = (render_sheet(sheet, layout, "zh") for layout in ("handout", "key"))
    answer = r"\sigma(x) \left(1 - \sigma(x)\right)"
    assert answer not in handout and answer in key
    assert "求： （1）一阶导数 $\\sigma'(x)$；（2）二阶导数 $\\sigma''(x)$。" in handout  # numbered sub-questions


#: a derivative written with primes, at a number or a name: (span, its LaTeX, its text in the PDF without spaces)
PRIMES = [
    (r"\\sigma'(0)", r"$\sigma'(0)$", "σ′(0)"),
    ("f''(x)", "$f''(x)$", "f′′(x)"),
    (r"\\tanh'(0)", r"$\tanh'(0)$", "tanh′(0)"),
]


@pytest.mark.skipif(not pdf.tex_available() and not os.environ.get("CI"), reason="TeX is not installed")
def test_a_statement_with_primes_prints_in_the_handout_and_the_key(capsys, tmp_path):
    statements = "\n".join(f'[[problem]]\nstatement = "Compute ${span}$."\nnumeric = {{ value = "1" }}\n'
                           for span, _, _ in PRIMES)
    spec = tmp_path / "primes.toml"
    spec.write_text('title = "Primes"\nlang = "en"\n' + statements, encoding="utf-8")
    status, _, err = run(capsys, "sheet", spec, "--pdf", "-o", tmp_path / "out")
    assert status == 0, err
    for name in ("primes", "primes-key"):
        tex = (tmp_path / "out" / f"{name}.tex").read_text(encoding="utf-8")
        text = "".join(subprocess.run(["pdftotext", str(tmp_path / "out" / f"{name}.pdf"), "-"], check=True,
                                      capture_output=True, text=True).stdout.split())
        for _, latex, shown in PRIMES:
            assert f"Compute {latex}." in tex and r"\big" not in tex
            assert f"Compute{shown}." in text, text
