"""Hostile and ordinary ``$...$`` spans in a sheet spec's statement and title (derive/statements.py).

Every span is read by the course reader and printed again from its parsed form: a span that is
not mathematics is refused (one line naming the spec, the problem and the span, exit 2, nothing
written); one that is comes out as mathematics; no command of the user's ever reaches the .tex.
All rows run in one fresh process (``run_table``).
"""

from __future__ import annotations

import pytest
from hostile import (
    TEX_ATTACKS,
    assert_no_raw_tex,
    assert_one_line_error,
    run_table,
    sheet_spec,
    toml_string,
    write,
)

REFUSED, MATH = "refused", "math"
#: statement -> what must happen (refused, or printed as mathematics)
STATEMENTS = {
    "input": (r"Read $\input{/etc/passwd}$.", REFUSED),
    "write18": (r"Run $\write18{ls}$.", REFUSED),
    "def": (r"Define $\def\x{}$.", REFUSED),
    "caret-hex": ("Hex $^^5c$.", REFUSED),
    "caret-hex-input": ("Hex $^^5cinput{/etc/hostname}$.", REFUSED),
    "catcode-unclosed": (r"Code $\catcode", REFUSED),
    "catcode": (r"Code $\catcode`\@=11$.", REFUSED),
    "csname": (r"Name $\csname input\endcsname$.", REFUSED),
    "hat-of-write18": (r"Hat $\hat{\write18{ls}}$.", REFUSED),
    "subscript-input": (r"Index $x_{\input{/etc/hostname}}$.", MATH),  # a subscript of letters
    "verb": (r"Verbatim $\verb|x|$.", REFUSED),
    "unclosed": ("It costs $5 and more.", REFUSED),
    "long-span": ("Long $" + "x" * 10_000 + "$.", REFUSED),
    "empty-display": ("Display $$x$$.", REFUSED),
    "many-spans": ("$x$ " * 5000, REFUSED),
    "deep": ("$" + "(" * 300 + "x" + ")" * 300 + "$", REFUSED),
    "control-character": ("Null $x\u0000$.", REFUSED),
    "nested": ("Nested $a $b$ c$.", MATH),  # two spans, a and c, around the text b
    "text-input": (r"Text $\text{\input{/etc/hostname}}$.", REFUSED),  # \text around a command: refused
    # a prime or a bar at a point prints (\big| is the printer's), never a command of the user's
    "prime-input": (r"Slope $\tanh'(\input{/etc/hostname})$.", REFUSED),
    "prime-write": (r"Slope $\write'(0)$.", REFUSED),
    "prime-unknown-command": (r"Slope $\foo'(0)$.", REFUSED),
    "big-input": (r"Bar $\big\input{/etc/hostname}$.", REFUSED),
    "bar-input": (r"Bar $\left. x \right|_{\input{/etc/hostname}}$.", REFUSED),
    **{f"attack-{n}": (f"${attack}$", REFUSED) for n, attack in enumerate(TEX_ATTACKS)},
}
#: statement -> LaTeX that must be in the .tex
RIGHT = {
    "decimal": (r"Take $x_1 = 0.2$.", r"Take $x_{1} = 0.2$."),
    "greek": (r"The rate is $\eta = 0.1$.", r"The rate is $\eta = 0.1$."),
    "loss": (r"The loss $\frac{1}{2}(\hat y - y)^2$.", r"The loss $\frac{\left(\hat{y} - y\right)^{2}}{2}$."),
    "dollar": (r"It costs \$5 & 50% of #1.", r"It costs \$5 \& 50\% of \#1."),
    "negative": (r"Start at $w_{11} = -0.3$.", r"Start at $w_{11} = -0.3$."),
    "function": (r"With $\theta(u) = \frac{1}{1+e^{-u}}$.", r"With $\theta(u) = \frac{1}{1 + e^{-u}}$."),
    "layer-index": (r"With $S_j^{(3)} = \sum_{i=0}^{d^{(2)}} w_{ij}^{(3)} x_i^{(2)}$.",
                    r"With $S_{j}^{(3)} = \sum_{i=0}^{d^{(2)}} w_{ij}^{(3)} x_{i}^{(2)}$."),
    "seed-subscripts": (r"So $W2=(W1-F+2P)/S+1$.", r"So $W_{2} = \frac{W_{1} - F + 2 P}{S} + 1$."),
    "relu": (r"With $\text{ReLU}(x) = \max(0, x)$.", r"With $\operatorname{ReLU}(x) = \max\left(0, x\right)$."),
    # a derivative at a number, as the course writes it (never \sigma'(t) at t = 0, never worked out)
    "sigma-prime-at-0": (r"Compute $\sigma'(0)$.", r"Compute $\sigma'(0)$."),
    "second-derivative": (r"Find $f''(x)$.", r"Find $f''(x)$."),
    "tanh-prime-at-0": (r"Compute $\tanh'(0)$.", r"Compute $\tanh'(0)$."),
    "prime-superscript": (r"Compute $\sin^{\prime}(0)$.", r"Compute $\sin'(0)$."),
    "prime-equation": (r"So $\sigma'(0) = 0.25$.", r"So $\sigma'(0) = 0.25$."),
    "bar-at-point": (r"Take $\left. x^2 \right|_{x=1}$.", r"Take $x^{2}\big|_{x=1}$."),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every row's ``derive sheet`` run, in one process: {row: (status, stdout, stderr, spec, out)}."""
    folder = tmp_path_factory.mktemp("statements")
    rows, places = {}, {}
    cases = {**{key: statement for key, (statement, _) in STATEMENTS.items()},
             **{key: statement for key, (statement, _) in RIGHT.items()}}
    for key, statement in cases.items():
        spec = write(folder / f"{key}.toml", sheet_spec(statement=statement))
        rows[key] = ["sheet", spec, "-o", str(folder / key)]
        places[key] = (spec, folder / key)
    for key, statement in (("title-input", r"Sheet $\input{/etc/passwd}$"), ("title-math", r"Sheet $x_1 = 0.2$")):
        spec = write(folder / f"{key}.toml", sheet_spec(title=statement))
        rows[key] = ["sheet", spec, "-o", str(folder / key)]
        places[key] = (spec, folder / key)
    return {key: (*value, *places[key]) for key, value in run_table(rows).items()}


def _tex(out) -> str:
    return "".join(path.read_text(encoding="utf-8") for path in sorted(out.glob("*.tex")))


@pytest.mark.parametrize("row", list(STATEMENTS))
def test_a_hostile_span_is_refused_or_printed_as_mathematics(results, row):
    status, _, err, spec, folder = results[row]
    if STATEMENTS[row][1] == REFUSED:
        assert_one_line_error(status, err, 2, mentions=f"{spec}: problem[1].statement: ")
        assert len(err) < 400, err  # the span is quoted, cut short
        assert not folder.exists() or not any(folder.iterdir()), "nothing is written"
        return
    assert status == 0, err
    assert_no_raw_tex(_tex(folder))


@pytest.mark.parametrize("row", list(RIGHT))
def test_a_formula_comes_out_as_mathematics(results, row):
    status, _, err, _, folder = results[row]
    assert status == 0, err
    tex = _tex(folder)
    assert tex.count(RIGHT[row][1]) == 2, tex[-2000:]  # the handout and the key
    assert_no_raw_tex(tex)


def test_a_title_span_is_read_like_a_statement(results):
    status, _, err, spec, _ = results["title-input"]
    assert_one_line_error(status, err, 2, mentions=f"{spec}: title: cannot read the formula '$\\input")
    status, _, err, _, folder = results["title-math"]
    assert status == 0, err
    assert r"{\Large\bfseries Sheet $x_{1} = 0.2$" in _tex(folder)


def test_the_error_names_the_problem_by_number(tmp_path):
    statement = toml_string(r"$x$ then $\def$")
    extra = f"[[problem]]\nentry = \"mse\"\nstatement = {statement}\n"
    spec = write(tmp_path / "two.toml", sheet_spec(extra=extra))
    status, _, err = run_table({"row": ["sheet", spec, "-o", str(tmp_path / "out")]})["row"]
    assert_one_line_error(status, err, 2, mentions=f"{spec}: problem[2].statement: cannot read the formula '$\\def$'")


#: a spec without a title is titled by its file name: literal text, never a formula (file stem -> the .tex title)
FILE_NAMES = {
    "dollar": ("we ird$name", r"we ird\$name"),
    "dollar-pair": ("a$x$b", r"a\$x\$b"),
    "backslash": ("back\\slash", r"back\textbackslash{}slash"),
    "backslash-dollar": ("a\\$b", r"a\textbackslash{}\$b"),
    "input": ("x\\input{etc}", r"x\textbackslash{}input\{etc\}"),
    "percent": ("100%done", r"100\%done"),
    "brace": ("brace{open", r"brace\{open"),
    "caret-hex": ("c^^5cinput", r"c\^{}\^{}5cinput"),
    "hash-tilde": ("hash#1 ~x", r"hash\#1 \textasciitilde{}x"),
}


@pytest.fixture(scope="module")
def file_name_results(tmp_path_factory):
    """Each untitled spec's ``derive sheet`` run, in one process: {row: (status, stdout, stderr, out)}."""
    folder = tmp_path_factory.mktemp("names")
    rows = {}
    for key, (stem, _) in FILE_NAMES.items():
        (folder / key).mkdir()
        spec = write(folder / key / f"{stem}.toml", '[[problem]]\nentry = "sigmoid"\n')
        rows[key] = ["sheet", spec, "-o", str(folder / key / "out")]
    return {key: (*value, folder / key / "out") for key, value in run_table(rows).items()}


@pytest.mark.parametrize("row", list(FILE_NAMES))
def test_a_title_from_the_file_name_prints_literally(file_name_results, row):
    status, _, err, out = file_name_results[row]
    assert status == 0, err
    tex = _tex(out)
    assert tex.count(r"{\Large\bfseries " + FILE_NAMES[row][1]) == 2, tex[:3000]  # the handout and the key
    assert_no_raw_tex(tex)
