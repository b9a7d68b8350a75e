"""A teacher's catalog file (--catalog, a sheet's catalog key): its entries' results against PyTorch autograd,
the checker's right and wrong rows per kind, every command taking the entries, the cache keyed by content,
and the hostile table (derive/catalog/teacher.py)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import sympy as sp
from hostile import ROOT, TEX_ATTACKS, assert_no_raw_tex, assert_one_line_error, run_cli, run_table, toml_string, write

from derive.catalog import get, teacher
from derive.check.decide import check

EXAMPLE = ROOT / "examples" / "teacher-catalog.toml"
#: a softmax loss (cross-entropy written out), beside the shipped examples
SOFTMAX = """
[[entry]]
name = "ce-after-softmax"
kind = "loss"
title = "Cross-entropy written out"
definition = 'L(\\hat{y}, y) = -\\sum_{i=1}^{C} y_i \\ln \\hat{y}_i'
after = "softmax"

[[entry]]
name = "own-names"
kind = "loss"
definition = 'L(y, t) = (y - t)^{2}'

[[entry]]
name = "scaled"
kind = "activation"
definition = 'f(x) = 2 x'

[[entry]]
name = "scaled-init"
kind = "init"
activation = "scaled"
"""


@pytest.fixture(scope="module")
def catalog_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("teacher")
    return [str(EXAMPLE), write(folder / "softmax.toml", SOFTMAX)]


@pytest.fixture(scope="module")
def registered(catalog_files):
    with teacher.catalogs(catalog_files):
        os.environ.pop(teacher.ENVIRONMENT)  # checked in this process: the other tests' processes start clean
        yield


def _value(name: str, target: str, values: dict) -> float:
    """A target of a derivation at a point: its formula with the named functions written out."""
    derivation = get(name)
    expr = derivation.explicit(derivation.target(target).rhs)
    integers = {s: v for s, v in values.items() if isinstance(s, sp.Symbol) and s.is_integer}  # C, k first
    expr = expr.xreplace(integers).doit()
    return float(sp.N(expr.xreplace({k: v for k, v in values.items() if k not in integers}), 30))


def _symbol(derivation, key: str):
    return next(q.symbol for q in derivation.quantities if q.key == key)


@pytest.mark.parametrize("x", [-2.5, -0.3, 0.7, 3.1])
def test_mish_derivatives_match_autograd(registered, x):
    torch = pytest.importorskip("torch")
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (d1,) = torch.autograd.grad(torch.nn.functional.mish(t), t, create_graph=True)
    (d2,) = torch.autograd.grad(d1, t)
    variable = sp.Symbol("x", real=True)
    assert math.isclose(_value("mish", "d1", {variable: x}), d1.item(), rel_tol=1e-12, abs_tol=1e-12)
    assert math.isclose(_value("mish", "d2", {variable: x}), d2.item(), rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize(("z", "y"), [(-1.3, 1.0), (0.4, 0.0), (2.2, 0.3)])
def test_focal_after_sigmoid_matches_autograd(registered, z, y):
    torch = pytest.importorskip("torch")

    def focal(p, label):
        return -label * (1 - p) ** 2 * torch.log(p) - (1 - label) * p**2 * torch.log(1 - p)

    logit = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    (dl_dz,) = torch.autograd.grad(focal(torch.sigmoid(logit), y), logit)
    p = torch.sigmoid(torch.tensor(z, dtype=torch.float64)).requires_grad_()
    (dl_dp,) = torch.autograd.grad(focal(p, y), p)
    derivation = get("focal")
    point = {_symbol(derivation, "yhat"): p.item(), _symbol(derivation, "y"): y}
    assert math.isclose(_value("focal", "dl_dyhat", point), dl_dp.item(), rel_tol=1e-12)
    assert math.isclose(_value("focal", "dl_dz", point), dl_dz.item(), rel_tol=1e-12)


@pytest.mark.parametrize(("prediction", "label"), [(0.3, -1.2), (2.5, 2.0), (-4.0, 1.5)])
def test_log_cosh_matches_autograd(registered, prediction, label):
    torch = pytest.importorskip("torch")
    p = torch.tensor(prediction, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(torch.log(torch.cosh(p - label)), p)
    derivation = get("log-cosh")
    point = {_symbol(derivation, "yhat"): prediction, _symbol(derivation, "y"): label}
    assert math.isclose(_value("log-cosh", "dl_dyhat", point), grad.item(), rel_tol=1e-12)


def test_loss_after_softmax_matches_autograd_entrywise(registered):
    torch = pytest.importorskip("torch")
    logits = torch.tensor([0.3, -1.1, 2.0], dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    (dl_dz,) = torch.autograd.grad(-(labels * torch.log_softmax(logits, 0)).sum(), logits)
    p = torch.softmax(logits.detach(), 0).requires_grad_()
    (dl_dp,) = torch.autograd.grad(-(labels * torch.log(p)).sum(), p)
    derivation = get("ce-after-softmax")
    family, label = _symbol(derivation, "yhat"), _symbol(derivation, "y")
    size, index = sp.Symbol("C", integer=True, positive=True), sp.Symbol("k", integer=True, positive=True)
    for k in range(3):
        point = {size: 3, index: k + 1, **{family[n + 1]: p[n].item() for n in range(3)},
                 **{label[n + 1]: labels[n].item() for n in range(3)}}
        assert math.isclose(_value("ce-after-softmax", "dl_dz", point), dl_dz[k].item(), rel_tol=1e-12, abs_tol=1e-14)
        assert math.isclose(_value("ce-after-softmax", "dl_dyhat", point), dl_dp[k].item(), rel_tol=1e-12)


# The checker on a teacher's entries: a right answer per kind is correct, the course's slips stay incorrect.
FOCAL_DZ = (r"2y\hat{y}(1-\hat{y})^2\ln\hat{y} - y(1-\hat{y})^3 - 2(1-y)\hat{y}^2(1-\hat{y})\ln(1-\hat{y})"
            r" + (1-y)\hat{y}^3")
CHECK_ROWS = [
    ("mish", "d1", r"\tanh(\ln(1+e^x)) + x\sigma(x)(1-\tanh^2(\ln(1+e^x)))", "correct"),
    ("mish", "d1", r"\tanh(\ln(1+e^x)) + x(1-\tanh^2(\ln(1+e^x)))", "incorrect"),       # softplus' = sigma dropped
    ("mish", "d1", r"x\sigma(x)(1-\tanh^2(\ln(1+e^x)))", "incorrect"),                   # half of the product rule
    ("focal", "dl_dz", FOCAL_DZ, "correct"),
    ("focal", "dl_dz", r"\hat{y} - y", "incorrect"),                                      # cross-entropy's gradient
    ("focal", "dl_dz", FOCAL_DZ.replace(r"- y(1-\hat{y})^3", r"+ y(1-\hat{y})^3"), "incorrect"),
    ("focal", "dl_dyhat", FOCAL_DZ, "incorrect"),                                         # the logit's for the prediction's
    ("log-cosh", "dl_dyhat", r"\tanh(\hat{y} - y)", "correct"),
    ("log-cosh", "dl_dyhat", r"\tanh(y - \hat{y})", "incorrect"),
    ("log-cosh", "dl_dyhat", r"\frac{1}{\cosh(\hat{y} - y)}", "incorrect"),
    ("ce-after-softmax", "dl_dz", r"\hat{y}_k - y_k", "correct"),
    ("ce-after-softmax", "dl_dz", r"y_k - \hat{y}_k", "incorrect"),
    ("ce-after-softmax", "dl_dz", r"\hat{y}_k(1 - \hat{y}_k)", "incorrect"),
    ("ce-after-softmax", "dl_dyhat", r"-\frac{y_k}{\hat{y}_k}", "correct"),
    ("ce-after-softmax", "dl_dyhat", r"\frac{y_k}{\hat{y}_k}", "incorrect"),
    ("own-names", "dl_dyhat", "2(y - t)", "correct"),                                     # y the prediction here
    ("own-names", "dl_dyhat", "2(t - y)", "incorrect"),
    ("own-names", "dl_dyhat", "y - t", "incorrect"),
    # f(z) = 2z: E[f(z)^2] = 4 Var(z), so Var(W) = 1/(4 n_in) and the gain is 1/2 (by hand)
    ("scaled-init", "var", r"\frac{1}{4 M_{l-1}}", "correct"),
    ("scaled-init", "var", r"\frac{1}{M_{l-1}}", "incorrect"),                           # LeCun's, f' ignored
    ("scaled-init", "var", r"\frac{2}{M_{l-1}}", "incorrect"),                           # Kaiming's
    ("scaled-init", "gain", r"\frac{1}{2}", "correct"),
    ("scaled-init", "gain", "2", "incorrect"),
]


@pytest.mark.parametrize(("problem", "target", "answer", "verdict"), CHECK_ROWS)
def test_check_rows(registered, problem, target, answer, verdict):
    result = check(answer, problem, target)
    assert result["verdict"] == verdict, result


def test_every_command_takes_the_entries(tmp_path, monkeypatch):
    """Render (text, LaTeX, Markdown, JSON), list, a sheet with the spec key, check and grade in worker
    processes, simulate --act with the file's activation, check-steps on the printed derivation: one fresh process, as a teacher runs them (with a disk
    cache, as a teacher has: the workers read the entries the first command derived)."""
    monkeypatch.delenv("DERIVE_NO_CACHE", raising=False)
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path / "cache"))
    latex = tmp_path / "log-cosh.tex"
    spec = write(tmp_path / "sheet.toml", f'title = "T"\nlang = "zh"\ncatalog = {toml_string(str(EXAMPLE))}\n'
                                          '[[problem]]\nentry = "focal"\n[[problem]]\nentry = "log-cosh"\n')
    answers = write(tmp_path / "answers.jsonl", "\n".join(json.dumps(row) for row in (
        {"id": "a", "problem": "log-cosh", "target": "dl_dyhat", "answer": r"\tanh(\hat{y} - y)"},
        {"id": "b", "problem": "focal", "target": "dl_dz", "answer": r"\hat{y} - y"})))
    given = ["--catalog", str(EXAMPLE)]
    rows = {fmt: ["log-cosh", f"--{fmt}", *given] for fmt in ("text", "latex", "md", "json")}
    rows |= {"list": ["list", "--json", *given], "list-zh": ["list", "--json", "--lang", "zh", *given], "sheet": ["sheet", spec, "-o", str(tmp_path / "out")],
             "write": ["log-cosh", "--latex", "-o", str(latex), *given], "focal-latex": ["focal", "--latex", *given],
             "check": ["check", "focal", "--target", "dl_dz", "--answer", FOCAL_DZ, *given],
             "grade": ["grade", answers, *given],
             "simulate": ["simulate", "--act", "mish", "--init", "kaiming", "--depth", "2", "--width", "8",
                          "--batch", "16", "--json", *given]}
    done = run_table(rows)
    for row, (status, out, err) in done.items():
        assert status == 0, (row, err)
    assert "teacher" not in done["text"][1] and r"\tanh" in done["latex"][1]
    assert json.loads(done["json"][1])["targets"]["dl_dyhat"]["latex"] == r"- \tanh(y - \hat{y})"
    assert {"mish", "focal", "log-cosh", "mish-init"} <= {row["name"] for row in json.loads(done["list"][1])}
    assert [json.loads(line)["verdict"] for line in done["grade"][1].splitlines()] == ["correct", "incorrect"]
    assert json.loads(done["simulate"][1])["act"] == "mish"
    assert {row["name"]: row["title"] for row in json.loads(done["list-zh"][1])}["mish"] == "Mish 激活函数"
    handout = (tmp_path / "out" / "sheet.tex").read_text()
    assert "损失函数为" in handout and r"\sigma(z)" in handout
    write(tmp_path / "focal.tex", done["focal-latex"][1])
    steps = run_table({name: ["check-steps", name, "--file", str(tmp_path / f"{name}.tex"), "--json", *given]
                       for name in ("log-cosh", "focal")})
    for status, out, _ in steps.values():  # the round trip: each printed derivation checks valid line by line
        report = json.loads(out)
        assert status == 0 and all(line["verdict"] in ("valid", "definition") for line in report["lines"]), report


def test_cache_keys_an_entry_by_its_content(tmp_path, monkeypatch):
    """Two files with an entry of the same name: each gets its own derivation from a shared disk cache."""
    monkeypatch.delenv("DERIVE_NO_CACHE", raising=False)
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path / "cache"))
    files = [write(tmp_path / f"{n}.toml", f'[[entry]]\nname = "own"\nkind = "loss"\n'
                                          f"definition = 'L(\\hat{{y}}, y) = {body}'\n")
             for n, body in (("a", r"(\hat{y} - y)^{2}"), ("b", r"(\hat{y} - y)^{4}"))]
    rows = {f"{n}{turn}": ["own", "--json", "--catalog", path] for turn in (1, 2) for n, path in zip("ab", files)}
    done = run_table(rows)
    results = {row: json.loads(out)["targets"]["dl_dyhat"]["sympy"] for row, (_, out, _) in done.items()}
    assert results["a1"] == results["a2"] == "2*yhat - 2*y" or sp.sympify(results["a1"]) == sp.sympify("2*yhat - 2*y")
    assert sp.sympify(results["b1"]) == sp.sympify(results["b2"]) == sp.sympify("4*(yhat - y)**3")
    assert len(list((tmp_path / "cache").rglob("teacher-*.pickle"))) == 2


def test_pdf_of_an_entry_prints_a_hostile_title_as_text(tmp_path):
    path = write(tmp_path / "c.toml", f'[[entry]]\nname = "own"\nkind = "loss"\ntitle = {toml_string(TEX_ATTACKS[1])}\n'
                                      "definition = 'L(\\hat{y}, y) = \\ln\\cosh(\\hat{y} - y)'\n")
    done = run_table({"pdf": ["own", "--pdf", "--lang", "zh", "-o", str(tmp_path / "out"), "--catalog", path]})
    assert done["pdf"][0] == 0, done["pdf"][2]
    assert_no_raw_tex((tmp_path / "out" / "own-zh.tex").read_text())
    assert (tmp_path / "out" / "own-zh.pdf").stat().st_size > 1000
    assert not Path("/tmp/derive-pwned").exists()


def _entry(**keys) -> str:
    return "[[entry]]\n" + "".join(f"{k} = {toml_string(v) if isinstance(v, str) else v}\n" for k, v in keys.items())


LOSS = r"L(\hat{y}, y) = (\hat{y} - y)^2"
HOSTILE = {
    "missing": (None, "no such file"),
    "not-toml": ("[[entry]\nname = ", "TOML syntax"),
    "no-entries": ('title = "x"\n', "unknown key 'title'"),
    "input-in-definition": (_entry(name="a", kind="activation", definition=r"f(x) = \input{/etc/passwd}"),
                            "'a': 'definition'"),
    "input-as-definition": (_entry(name="a", kind="loss", definition=TEX_ATTACKS[0]), "'a': 'definition'"),
    "dot-dot-name": (_entry(name="../x", kind="loss", definition=LOSS), "'name' must be"),
    "builtin-name": (_entry(name="xavier", kind="loss", definition=LOSS), "collides with a built-in (xavier)"),
    "network-name": (_entry(name="resnet18", kind="loss", definition=LOSS), "collides with a built-in (resnet18)"),
    "command-name": (_entry(name="check", kind="loss", definition=LOSS), "collides with a built-in (check)"),
    "export-command": (_entry(name="export", kind="loss", definition=LOSS), "collides with a built-in (export)"),
    "serve-command": (_entry(name="serve", kind="loss", definition=LOSS), "collides with a built-in (serve)"),
    "repeated-name": (_entry(name="a", kind="loss", definition=LOSS) * 2, "repeats"),
    "python-code": (_entry(name="a", kind="activation", definition="__import__('os').system('touch /tmp/derive-pwned')"),
                    "'a': 'definition'"),
    "no-label": (_entry(name="a", kind="loss", definition=r"L(\hat{y}) = \hat{y}^2"), "a loss with no label"),
    "label-unused": (_entry(name="a", kind="loss", definition=r"L(\hat{y}, y) = \hat{y}^2"), "a loss with no label"),
    "undefined-name": (_entry(name="a", kind="loss", definition=r"L(\hat{y}, y) = (\hat{y} - y)^2 + c"),
                       "undefined name 'c'"),
    "undefined-in-activation": (_entry(name="a", kind="activation", definition=r"f(x) = x + \beta"), "beta"),
    "undefined-function": (_entry(name="a", kind="activation", definition="f(x) = g(x) + x"), "'a': 'definition'"),
    "huge-exponent": (_entry(name="a", kind="loss", definition=r"L(\hat{y}, y) = (\hat{y} - y)^{100000}"),
                      "too large"),
    "unknown-kind": (_entry(name="a", kind="optimizer", definition=LOSS), "'kind' must be one of"),
    "unknown-key": (_entry(name="a", kind="loss", definition=LOSS, gamma=2), "unknown key 'gamma'"),
    "wrong-type": (_entry(name="a", kind="activation", definition="f(x) = x^2", order='"2"'), "'order' must be an integer"),
    "bad-order": (_entry(name="a", kind="activation", definition="f(x) = x^2", order=3), "'order' must be 1 or 2"),
    "bad-after": (_entry(name="a", kind="loss", definition=LOSS, after="relu"), "'after' must be"),
    "softmax-no-sum": (_entry(name="a", kind="loss", definition=LOSS, after="softmax"), "a sum over the classes"),
    "init-unknown-activation": (_entry(name="a", kind="init", activation="nosuch"), "undefined name 'nosuch'"),
    "no-definition": (_entry(name="a", kind="loss"), "'definition' is required"),
}


@pytest.mark.parametrize("command", [["list"], ["check", "a", "--target", "d1", "--answer", "0"]])
def test_hostile_catalog_files(tmp_path, command):
    rows = {}
    for row, (text, _) in HOSTILE.items():
        path = tmp_path / f"{row}.toml"
        if text is not None:
            write(path, text)
        rows[row] = [*command, "--catalog", str(path)]
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * (10 * 1024 * 1024) + b"\n")
    rows["ten-megabytes"] = [*command, "--catalog", str(big)]
    rows["no-file-given"] = [*command, "--catalog"]
    rows["spec-catalog-missing"] = ["sheet", write(tmp_path / "s.toml", 'catalog = "nowhere.toml"\n'
                                                   '[[problem]]\nentry = "mse"\n'), "-o", str(tmp_path / "o")]
    done = run_table(rows)
    expected = {row: mention for row, (_, mention) in HOSTILE.items()}
    expected |= {"ten-megabytes": "file.bytes", "no-file-given": "--catalog needs a file",
                 "spec-catalog-missing": "'catalog'"}
    for row, (status, _, err) in done.items():
        assert_one_line_error(status, err, mentions=expected[row])
    assert not Path("/tmp/derive-pwned").exists()
    assert not (tmp_path / "o").exists()


def test_a_second_command_in_one_process_hands_its_own_catalog_to_its_workers(capsys, tmp_path):
    """check runs in worker processes that the forkserver starts with its own environment: a second
    command with another catalog (a test run, a server) must not be graded against the first's."""
    square, cube = tmp_path / "square.toml", tmp_path / "cube.toml"
    square.write_text('[[entry]]\nname = "own"\nkind = "activation"\ndefinition = "f(x) = x^2"\n', encoding="utf-8")
    cube.write_text('[[entry]]\nname = "own"\nkind = "activation"\ndefinition = "f(x) = x^3"\n', encoding="utf-8")
    verdicts = []
    for catalog, answer in ((square, "2x"), (cube, "3x^2"), (cube, "2x"), (square, "3x^2")):
        _, out, err = run_cli(capsys, "check", "own", "--target", "d1", "--answer", answer, "--json",
                              "--catalog", str(catalog))
        verdicts.append(json.loads(out)["verdict"] if out else err)
    assert verdicts == ["correct", "correct", "incorrect", "incorrect"]
