"""Notation profiles (issue 15, point 2): one profile per document, chosen by --notation or a
sheet spec's ``notation``; the checker reads every profile's names.

The expected names are written here by hand from the course's sheets (shared/seeds/001 §3.1:
M_{l-1}, M_l, Var(W_{ij}^{(l)}), \\mathbb{E}) and from the textbook notation n_{\\text{in}}; the
checker's verdicts are the course's formulas worked by hand (forward condition 1/M_{l-1},
backward 1/M_l, Xavier 2/(M_{l-1} + M_l), r = sqrt(6/(M_{l-1} + M_l)), Kaiming 2/M_{l-1},
E[ReLU(z)^2] = Var(z)/2).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hostile import TEX_ATTACKS, assert_one_line_error, run_cli, toml_string, tree, write

from derive import catalog, profiles
from derive.check.decide import check
from derive.check.reader import read
from derive.check.table import table_for
from derive.render import render

ROOT = Path(__file__).resolve().parents[1]
#: Either order of the sum: term order is the display forms' business, not the profile's.
XAVIER_COURSE = re.compile(r"\\frac\{2\}\{(M_\{l-1\} \+ M_l|M_l \+ M_\{l-1\})\}")
XAVIER_TEXTBOOK = re.compile(r"\\frac\{2\}\{(n_\{\\text\{in\}\} \+ n_\{\\text\{out\}\}|"
                             r"n_\{\\text\{out\}\} \+ n_\{\\text\{in\}\})\}")


# -- rendering ----------------------------------------------------------------------

def test_xavier_in_the_course_profile_writes_the_course_names_and_is_the_default(capsys):
    status, out, err = run_cli(capsys, "xavier", "--latex", "--notation", "course")
    assert status == 0 and not err
    for name in ("M_{l-1}", "M_l", r"\operatorname{Var}(W_{ij}^{(l)})", r"\mathbb{E}[",
                 r"\operatorname{Var}(a_j^{(l-1)})", r"\operatorname{Var}(\delta_i^{(l)})"):
        assert name in out, name
    assert XAVIER_COURSE.search(out)
    for gone in ("n_{in}", "n_{out}", r"n_{\text{in}}", r"\operatorname{E}", r"\operatorname{Var}(W)"):
        assert gone not in out, gone
    assert run_cli(capsys, "xavier", "--latex") == (0, out, "")


def test_xavier_in_the_textbook_profile_writes_upright_in_and_out(capsys):
    status, out, err = run_cli(capsys, "xavier", "--latex", "--notation", "textbook")
    assert status == 0 and not err
    for name in (r"n_{\text{in}}", r"n_{\text{out}}", r"\mathbb{E}["):
        assert name in out, name
    assert XAVIER_TEXTBOOK.search(out)
    for gone in ("n_{in}", "n_{out}", "M_{l-1}", "M_l", r"\operatorname{E}"):
        assert gone not in out, gone


@pytest.mark.parametrize(("notation", "present", "absent"), [
    ("course", ["M_(l-1)", "Var(W_ij^(l))"], ["n_in", "n_out"]),
    ("textbook", ["n_in", "n_out"], ["M_(l-1)", "M_l"]),
])
def test_text_output_takes_the_profile_text(capsys, notation, present, absent):
    status, out, _ = run_cli(capsys, "xavier", "--notation", notation)
    assert status == 0
    assert all(name in out for name in present) and not any(name in out for name in absent), out


def test_json_symbols_are_in_the_profile_and_keys_and_values_are_not(capsys):
    documents = {}
    for notation in ("course", "textbook"):
        status, out, _ = run_cli(capsys, "xavier", "--json", "--notation", notation, "--param", "n_in=256",
                                 "--param", "n_out=128")
        assert status == 0
        documents[notation] = json.loads(out)
    symbols = {n: {s["name"]: s["latex"] for s in d["symbols"]} for n, d in documents.items()}
    assert symbols["course"]["n_in"] == "M_{l-1}" and symbols["textbook"]["n_in"] == r"n_{\text{in}}"
    # the same mathematics: 2/(256 + 128) = 1/192 either way
    assert documents["course"]["targets"]["var"]["value"] == documents["textbook"]["targets"]["var"]["value"] == "1/192"


def test_a_key_a_profile_does_not_name_keeps_the_catalog_notation():
    xavier = catalog.get("xavier")
    catalog_var_w = next(q.latex for q in xavier.quantities if q.key == "var_w")
    assert "var_w" not in profiles.load("textbook").names
    dressed = profiles.apply(xavier, "textbook")
    assert next(q.latex for q in dressed.quantities if q.key == "var_w") == catalog_var_w
    assert next(q.latex for q in dressed.quantities if q.key == "n_in") == r"n_{\text{in}}"
    assert dressed.steps == xavier.steps and dressed.targets == xavier.targets


def test_the_loss_is_renamed_only_where_L_is_the_loss():
    backprop = render(catalog.get("mlp-backprop"), "latex", notation="course")
    assert r"\partial \mathcal{L}" in backprop and r"\partial L}" not in backprop
    layers = profiles.apply(catalog.get("mlp-cost"), "course")  # L counts the layers there
    assert next(q.latex for q in layers.quantities if q.key == "L") == "L"
    assert r"\mathcal{L}" not in render(layers, "latex", notation="course")


def test_a_worked_problem_keeps_its_own_names():
    worked = replace(catalog.get("xavier"), family="backprop")  # as a backprop spec's derivation is
    assert profiles.apply(worked, "course") is worked


def test_every_profile_key_is_a_catalog_key_in_its_scope():
    scopes = {}
    for entry in catalog.entries():
        for quantity in catalog.get(entry.name).quantities:
            scopes.setdefault(quantity.key, set()).update({entry.name, entry.family})
    for name in profiles.choices():
        for key, written in profiles.load(name).names.items():
            assert key in scopes, (name, key)
            assert written.only is None or written.only & scopes[key], (name, key, written.only)


# -- sheets -------------------------------------------------------------------------

def _sheet(tmp_path: Path, notation: str | None) -> str:
    line = "" if notation is None else f"notation = {toml_string(notation)}\n"
    return write(tmp_path / "hw.toml", f'title = "HW"\nlang = "en"\n{line}[[problem]]\nentry = "xavier"\n'
                                       'targets = ["var"]\n')


@pytest.mark.parametrize(("spec", "option", "present", "absent"), [
    (None, None, "M_{l-1}", r"n_{\text{in}}"),                    # the default: course
    ("textbook", None, r"n_{\text{in}}", "M_{l-1}"),              # the spec's key
    ("textbook", "course", "M_{l-1}", r"n_{\text{in}}"),          # --notation wins over the spec
    ("course", "textbook", r"n_{\text{in}}", "M_{l-1}"),
])
def test_sheet_spec_key_and_option(capsys, tmp_path, spec, option, present, absent):
    args = ["sheet", _sheet(tmp_path, spec), "-o", str(tmp_path / "out"), "--formulas"]
    status, _, err = run_cli(capsys, *args, *(["--notation", option] if option else []))
    assert status == 0, err
    for name in ("hw.tex", "hw-key.tex", "hw-formulas.tex"):  # one profile for the whole document
        tex = (tmp_path / "out" / name).read_text()
        assert absent not in tex and "n_{in}" not in tex, name
    assert present in (tmp_path / "out" / "hw-key.tex").read_text()


# -- hostile input ------------------------------------------------------------------

@pytest.mark.parametrize(("args", "mentions"), [
    (["xavier", "--notation", "nope"], "unknown notation profile 'nope' (choose one of: course, textbook)"),
    (["xavier", "--notation", "../templates/notation/course"], "is not a profile name (choose one of: course"),
    (["xavier", "--notation", ""], "'' is not a profile name"),
    (["xavier", "--notation", "course.toml"], "is not a profile name"),
    (["xavier", "--latex", "--notation", "x" * 500], "is not a profile name"),
    (["xavier", "--notation"], "expected one argument"),
    (["relu", "--md", "--notation", "/etc/passwd"], "'/etc/passwd' is not a profile name"),
])
def test_bad_profile_names_are_one_line(capsys, args, mentions):
    status, out, err = run_cli(capsys, *args)
    assert_one_line_error(status, err, mentions=mentions)
    assert out == ""


@pytest.mark.parametrize(("value", "mentions"), [
    ("3", "'notation' must be str, not int"),
    ('["course"]', "'notation' must be str, not list"),
    ("{ name = \"course\" }", "'notation' must be str, not dict"),
    ("true", "'notation' must be str, not bool"),
    ('"nope"', "'notation': unknown notation profile 'nope' (choose one of: course, textbook)"),
    ('"../../etc/passwd"', "'notation': notation profile '../../etc/passwd' is not a profile name"),
    ('"Course"', "unknown notation profile 'Course'"),
])
def test_bad_spec_notation_is_one_line_and_writes_nothing(capsys, tmp_path, value, mentions):
    spec = write(tmp_path / "hw.toml", f'title = "HW"\nnotation = {value}\n[[problem]]\nentry = "mse"\n')
    status, _, err = run_cli(capsys, "sheet", spec, "-o", str(tmp_path / "out"))
    assert_one_line_error(status, err, mentions=mentions)
    assert "hw.toml" in err and not (tmp_path / "out").exists()


def test_a_bad_option_on_a_good_spec_writes_nothing(capsys, tmp_path):
    status, _, err = run_cli(capsys, "sheet", _sheet(tmp_path, "textbook"), "-o", str(tmp_path / "out"),
                             "--notation", "nope")
    assert_one_line_error(status, err, mentions="unknown notation profile 'nope'")
    assert not (tmp_path / "out").exists()


#: A profile file in a --template-dir, and what the one line says about it.
BROKEN = [
    ("[n_in\nlatex = 'M'\n", "TOML syntax"),
    ("n_in = 'M'\n", "'n_in' must be a table of latex, text and only, not str"),
    ("[n_in]\nlatex = 3\n", "'n_in.latex' must be str, not int"),
    ("[n_in]\ntext = ['M']\n", "'n_in.text' must be str, not list"),
    ("[n_in]\nlatex = 'M'\ncolour = 'red'\n", "unknown field 'n_in.colour' (allowed: latex, text, only)"),
    ("[n_in]\nonly = ['xavier']\n", "'n_in' gives neither latex nor text"),
    ("[n_in]\nlatex = ''\n", "'n_in.latex' must be one line of printable text"),
    ("[n_in]\nlatex = '   '\n", "'n_in.latex' must be one line of printable text"),
    ('[n_in]\ntext = "M\\tl"\n', "'n_in.text' must be one line of printable text"),
    ("[n_in]\nlatex = 'M'\nonly = 'xavier'\n", "'n_in.only' must be list, not str"),
    ("[n_in]\nlatex = 'M'\nonly = []\n", "'n_in.only' must be a non-empty list"),
    ("[n_in]\nlatex = 'M'\nonly = [3]\n", "'n_in.only' must be a non-empty list"),
    ("[n_in]\nlatex = 'M'\nonly = ['xavir']\n", "'n_in.only' names 'xavir', which is no catalog entry or family"),
    ("description = 3\n", "'description' must be a string"),
    ("[n_in]\nlatex = 'M_{\\mathrm{x}}$ \\relax'\n", "uses \\relax"),
    ("[n_in]\nlatex = 'M $x$'\n", "has '$'"),
    ("[n_in]\nlatex = 'M % the rest'\n", "has '%'"),
    ("[n_in]\nlatex = 'M & x'\n", "has '&'"),
    ("[n_in]\nlatex = 'M \\\\ x'\n", "uses \\\\"),
    *[(f"[n_in]\nlatex = {toml_string(attack)}\n", "'n_in.latex'") for attack in TEX_ATTACKS],
]


@pytest.mark.parametrize(("text", "mentions"), BROKEN)
def test_a_broken_profile_file_is_one_line_naming_it(capsys, tmp_path, text, mentions):
    folder = tmp_path / "tpl" / "notation"
    folder.mkdir(parents=True)
    write(folder / "bad.toml", text)
    before = tree(tmp_path)
    status, out, err = run_cli(capsys, "xavier", "--latex", "--template-dir", str(tmp_path / "tpl"),
                               "--notation", "bad")
    assert_one_line_error(status, err, mentions=mentions)
    assert "notation profile 'bad'" in err and "bad.toml" in err and "course" in err and out == ""
    assert tree(tmp_path) == before


def test_a_profile_that_is_not_a_file_or_not_utf8_is_one_line(capsys, tmp_path):
    folder = tmp_path / "tpl" / "notation"
    (folder / "dir.toml").mkdir(parents=True)
    (folder / "bytes.toml").write_bytes(b"[n_in]\nlatex = '\xff'\n")
    for name, mentions in (("dir", "not a regular file"), ("bytes", "not UTF-8")):
        status, _, err = run_cli(capsys, "xavier", "--template-dir", str(tmp_path / "tpl"), "--notation", name)
        assert_one_line_error(status, err, mentions=mentions)


def test_a_template_folder_profile_renames_what_it_names_and_nothing_else(capsys, tmp_path):
    folder = tmp_path / "tpl" / "notation"
    folder.mkdir(parents=True)
    write(folder / "mine.toml", "[n_in]\nlatex = 'N_{\\text{prev}}'\n")
    status, out, err = run_cli(capsys, "xavier", "--latex", "--template-dir", str(tmp_path / "tpl"),
                               "--notation", "mine")
    assert status == 0 and not err
    assert r"N_{\text{prev}}" in out and "n_{out}" in out and "M_{l-1}" not in out


# -- the checker reads every profile's names ----------------------------------------

#: (problem, target, answer, verdict), each worked by hand; wrong answers in the same notation stay wrong.
ANSWERS = [
    ("xavier", "forward_var", r"\frac{1}{M_{l-1}}", "correct"),
    ("xavier", "forward_var", r"\operatorname{Var}(W_{ij}^{(l)}) = \frac{1}{M_{l-1}}", "correct"),
    ("xavier", "forward_var", r"\frac{2}{M_l}", "incorrect"),
    ("xavier", "forward_var", r"\frac{1}{M_l}", "incorrect"),
    ("xavier", "backward_var", r"\frac{1}{n_{\text{out}}}", "correct"),
    ("xavier", "backward_var", r"\frac{1}{n_{\text{in}}}", "incorrect"),
    ("xavier", "var", r"\frac{2}{M_{l-1}+M_l}", "correct"),
    ("xavier", "var", r"\operatorname{Var}(W_{ij}^{(l)}) = \frac{2}{M_l + M_{l-1}}", "correct"),
    ("xavier", "var", r"\frac{1}{M_{l-1}+M_l}", "incorrect"),
    ("xavier", "var", r"\frac{2}{M_{l-1} M_l}", "incorrect"),
    ("xavier", "var", r"\frac{2}{n_{\text{in}}+n_{\text{out}}}", "correct"),
    ("xavier", "var", r"\frac{1}{n_{\text{in}}+n_{\text{out}}}", "incorrect"),
    ("xavier", "uniform_bound", r"\sqrt{\frac{6}{M_{l-1}+M_l}}", "correct"),
    ("xavier", "uniform_bound", r"\sqrt{\frac{3}{M_{l-1}+M_l}}", "incorrect"),
    ("kaiming", "var", r"\frac{2}{M_{l-1}}", "correct"),
    ("kaiming", "var", r"\frac{1}{M_{l-1}}", "incorrect"),
    ("kaiming", "second_moment", r"\mathbb{E}[(a_j^{(l-1)})^2] = \frac{1}{2}\operatorname{Var}(z_j^{(l-1)})",
     "correct"),
    ("kaiming", "second_moment", r"\operatorname{Var}(z_j^{(l-1)})", "incorrect"),
    ("mse", "dl_dyhat", r"\frac{\partial \mathcal{L}}{\partial \hat{y}} = \hat{y} - y", "correct"),
    ("mse", "dl_dyhat", r"\frac{\partial \mathcal{L}}{\partial \hat{y}} = y - \hat{y}", "incorrect"),
]


@pytest.mark.parametrize(("problem", "target", "answer", "verdict"), ANSWERS)
def test_answers_in_either_notation(problem, target, answer, verdict):
    result = check(answer, problem, target)
    assert result["verdict"] == verdict, (answer, result["parsed"], result["feedback"])


@pytest.mark.parametrize("entry", ["xavier", "kaiming", "prelu-init", "lecun", "variance-recursion", "mse",
                                   "bce-sigmoid", "mlp-backprop", "softmax-ce"])
def test_every_profile_name_reads_as_its_quantity(entry):
    derivation = catalog.get(entry)
    table = table_for(derivation)
    forms = [(q, form) for q in derivation.quantities for form in profiles.written_forms(q, derivation)]
    assert forms
    for quantity, form in forms:
        assert read(form, table).value == quantity.symbol, (entry, quantity.key, form)


def test_the_reading_table_takes_a_profile_name_no_alias_has(monkeypatch):
    xavier = catalog.get("xavier")
    n_in = next(q.symbol for q in xavier.quantities if q.key == "n_in")
    written = r"N_{\text{prev}}"
    assert read(written, table_for(xavier)).value != n_in
    mine = profiles.Profile("mine", Path("mine.toml"), "", {"n_in": profiles.Written(written, None, None)})
    monkeypatch.setattr(profiles, "_shipped", lambda: (mine,))
    assert read(written, table_for(xavier)).value == n_in


def test_the_manual_tables_match_the_profiles():
    readme = (ROOT / "docs" / "derivations.md").read_text(encoding="utf-8")
    for name in profiles.choices():
        for key, written in profiles.load(name).names.items():
            row = next(line for line in readme.splitlines() if line.startswith(f"| `{key}` |"))
            assert f"`{written.latex}`" in row, (name, key)
