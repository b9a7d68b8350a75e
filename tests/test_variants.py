"""Per-student variants (issue 19 part 2): `sheet SPEC --variants ROSTER.csv | N --seed S`.

40 variants from a roster are pairwise different, well-posed (every convolution's output a whole
number), reproducible byte for byte, and their expected values in variants.json agree with values
computed here by hand from the drawn parameters (Xavier's 2/(n_in + n_out), a network's parameter
count, a backprop gradient); hostile rosters, ranges and variants.json files are one error line.
"""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from hostile import TEX_ATTACKS, assert_no_raw_tex, assert_one_line_error, run_cli

from derive import variants
from derive.errors import UsageError

NETWORK = (Path(__file__).resolve().parent / "tiny-conv.toml").read_text(encoding="utf-8")
# Problem 2's height must be odd for c1's output, (H - 3)/2 + 1, to be whole: half the range is not.
SPEC = """title = "Variants"
course = "NN"
date = "May"
lang = "en"
[[problem]]
entry = "xavier"
targets = ["forward_var", "var"]
params = { n_in = { from = 64, to = 1024, step = 64 }, n_out = [128, 256, 512, 1024] }
[[problem]]
network = "tiny.toml"
targets = ["params", "params[c2]"]
params = { height = { from = 8, to = 40 }, "c2.out" = [4, 8, 16] }
[[problem]]
example = "bp-221-relu"
targets = ["grad_w11", "updated_w11"]
params = { x1 = { from = 0.1, to = 0.9, step = 0.1 }, w11 = [0.3, 0.4, 0.5] }
[[problem]]
statement = "Which is the derivative of the sigmoid?"
choice = { options = ["$\\\\sigma(1-\\\\sigma)$", "$\\\\sigma(1+\\\\sigma)$", "$1-\\\\sigma^2$", "$\\\\sigma^2$"], answer = [0] }
[[problem]]
entry = "leaky-relu"
targets = ["d1"]
params = { alpha = [0.1, 0.2, 0.25] }
"""


def _folder(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "tiny.toml").write_text(NETWORK, encoding="utf-8")
    (root / "hw.toml").write_text(SPEC, encoding="utf-8")
    roster = "id,name\n" + "".join(f"2025{n:04d},Student {n}\n" for n in range(40))
    (root / "roster.csv").write_text(roster, encoding="utf-8")
    return root


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def forty(tmp_path_factory):
    """The 40 students' files, written twice (two folders) from the same inputs."""
    from derive.cli import cli

    root = _folder(tmp_path_factory.mktemp("variants"))
    for out in ("a", "b"):
        assert cli(["sheet", str(root / "hw.toml"), "--variants", str(root / "roster.csv"), "--seed", "7",
                    "-o", str(root / out)]) == 0
    document = json.loads((root / "a" / "variants.json").read_text(encoding="utf-8"))
    return root, document


def test_the_same_inputs_give_byte_identical_files(forty):
    root, _ = forty
    first, second = _files(root / "a"), _files(root / "b")
    assert len(first) == 1 + 2 * 40 and first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_forty_variants_are_pairwise_different_and_well_posed(forty):
    _, document = forty
    students = document["students"]
    assert [s["id"] for s in students] == [f"2025{n:04d}" for n in range(40)]  # the roster's order
    assert len({json.dumps(s["params"], sort_keys=True) for s in students}) == 40
    heights = [s["params"]["2"]["height"] for s in students]
    assert all(h % 2 == 1 and 9 <= h <= 39 for h in heights)  # (H - 3)/2 whole: every c1 output is
    assert len(set(heights)) > 5  # and the redraws did not collapse onto one value
    for s in students:
        n_in = s["params"]["1"]["n_in"]
        assert n_in % 64 == 0 and 64 <= n_in <= 1024 and s["params"]["1"]["n_out"] in (128, 256, 512, 1024)
        assert s["params"]["5"]["alpha"] in ("0.1", "0.2", "0.25")


def test_expected_values_agree_with_a_hand_computation(forty):
    _, document = forty
    for s in document["students"]:
        params = {int(n): values for n, values in s["params"].items()}
        targets = {p["number"]: p.get("targets", {}) for p in s["problems"]}
        n_in, n_out = params[1]["n_in"], params[1]["n_out"]
        assert Fraction(targets[1]["var"]["value"]) == Fraction(2, n_in + n_out)  # Xavier (Glorot 2010)
        assert Fraction(targets[1]["forward_var"]["value"]) == Fraction(1, n_in)
        assert targets[1]["var"]["notation"] == "xavier"
        # drawn worked problems are not the built-ins their names check: graded against 'expected'
        assert "problem" not in targets[2]["params"] and targets[3]["grad_w11"]["source"] == "bp-221-relu"
        out = params[2]["c2.out"]  # c1: 2 x (3x3x1) + 2 = 20; c2: out x (3x3x2) + out
        assert int(targets[2]["params"]["value"]) == 20 + 19 * out
        assert int(targets[2]["params[c2]"]["value"]) == 19 * out
        x1, w11 = Fraction(params[3]["x1"]), Fraction(params[3]["w11"])
        x2, yhat, v11, v21, v12, v22, w21 = map(Fraction, ("0.3", "0.5", "0.6", "0.2", "0.1", "0.7", "0.8"))
        b1, b2 = max(v11 * x1 + v21 * x2, 0), max(v12 * x1 + v22 * x2, 0)
        beta = w11 * b1 + w21 * b2
        grad = (max(beta, 0) - yhat) * (1 if beta > 0 else 0) * b1  # E = (y - yhat)^2 / 2, y = relu(beta)
        assert Fraction(targets[3]["grad_w11"]["value"]) == grad
        assert Fraction(targets[3]["updated_w11"]["value"]) == w11 - grad  # learning rate 1


def test_choice_options_are_shuffled_per_student_and_the_answer_follows(forty):
    _, document = forty
    spec_options = [r"$\sigma(1-\sigma)$", r"$\sigma(1+\sigma)$", r"$1-\sigma^2$", r"$\sigma^2$"]
    orders = set()
    for s in document["students"]:
        (choice,) = [p for p in s["problems"] if p["kind"] == "choice"]
        assert sorted(choice["order"]) == [0, 1, 2, 3] and choice["multiple"] is False
        assert choice["options"] == [spec_options[i] for i in choice["order"]]
        assert [choice["order"][a] for a in choice["answer"]] == [0]  # the spec's right option, where shown
        orders.add(tuple(choice["order"]))
    assert len(orders) > 5


def test_each_student_has_a_handout_and_a_key_with_their_name_and_values(forty):
    root, document = forty
    s = document["students"][3]
    handout = (root / "a" / "handouts" / f"hw-{s['id']}.tex").read_text(encoding="utf-8")
    key = (root / "a" / "keys" / f"hw-{s['id']}-key.tex").read_text(encoding="utf-8")
    for tex in (handout, key):
        assert f"Student: Student 3 ({s['id']})" in tex
        assert f"= {s['params']['1']['n_in']}" in tex
    assert variants.load(root / "a" / "variants.json") == document


def test_a_student_is_drawn_the_same_whatever_the_roster_order(tmp_path):
    """Values are a function of (spec, seed, id): a roster in another order gives each student the same."""
    root = _folder(tmp_path)
    spec = "title = \"T\"\n[[problem]]\nentry = \"xavier\"\nparams = { n_in = { from = 1, to = 100000 } }\n"
    (root / "one.toml").write_text(spec, encoding="utf-8")
    (root / "r1.csv").write_text("id\nb\na\nc\n", encoding="utf-8")
    (root / "r2.csv").write_text("id\nc\na\nb\n", encoding="utf-8")
    from derive.files import read_toml
    from derive.variant_sheets import read_roster

    table = read_toml(root / "one.toml")
    drawn = [{v.student.id: v.params for v in variants.make(table, root / "one.toml", read_roster(root / r), 3)}
             for r in ("r1.csv", "r2.csv")]
    assert drawn[0] == drawn[1] and len({json.dumps(p) for p in drawn[0].values()}) == 3


# -- hostile rosters ------------------------------------------------------------------------------------
ROSTERS = {
    "no id column": (b"name,email\nA,a@x\n", "no column 'id'"),
    "empty": (b"", "empty"),
    "header only": (b"id,name\n", "no students"),
    "duplicate ids": (b"id\ns1\ns2\ns1\n", "the id 's1' is already on line 2"),
    "empty id": (b"id,name\n,Ann\n", "line 2: the id is empty"),
    "not UTF-8 (GBK)": ("id,name\ns1,张三\n".encode("gbk"), "not UTF-8"),
    "NUL byte": (b"id\ns\x001\n", "roster"),
    "line break in an id": (b'id\n"s\n1"\n', "control character"),
    "id too long": (b"id\n" + b"x" * 201 + b"\n", "at most 200"),
    "10^6 rows": (b"id\n" + b"".join(b"s%d\n" % n for n in range(10**6)), "(limit variants.students)"),
}
ACCEPTED = {
    "BOM and spaces": b"\xef\xbb\xbf Id , Name \ns1, Ann\n\ns2,Bob\n",
    "ids with ../ and TeX": ("id,name\n../../etc/passwd,x\n" + "".join(
        f'"{a}","{a}"\n' for a in TEX_ATTACKS if "\n" not in a)).encode(),
    "ids equal as file names": b"id\na/b\na-b\nA-B\n",
}
SMALL = "title = \"T\"\nlang = \"en\"\n[[problem]]\nentry = \"leaky-relu\"\nparams = { alpha = [0.1, 0.2] }\n"


@pytest.mark.parametrize("row", list(ROSTERS))
def test_a_hostile_roster_is_one_error_line(tmp_path, capsys, row):
    data, mentions = ROSTERS[row]
    (tmp_path / "s.toml").write_text(SMALL, encoding="utf-8")
    (tmp_path / "r.csv").write_bytes(data)
    status, _, err = run_cli(capsys, "sheet", str(tmp_path / "s.toml"), "--variants", str(tmp_path / "r.csv"),
                             "-o", str(tmp_path / "out"))
    assert_one_line_error(status, err, 2, mentions)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("row", list(ACCEPTED))
def test_a_roster_of_odd_ids_writes_safe_file_names(tmp_path, capsys, row):
    (tmp_path / "s.toml").write_text(SMALL, encoding="utf-8")
    (tmp_path / "r.csv").write_bytes(ACCEPTED[row])
    out = tmp_path / "out"
    status, _, err = run_cli(capsys, "sheet", str(tmp_path / "s.toml"), "--variants", str(tmp_path / "r.csv"),
                             "-o", str(out))
    assert status == 0, err
    document = variants.load(out / "variants.json")
    ids = [s["id"] for s in document["students"]]
    written = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert len(written) == 1 + 2 * len(ids)  # nothing overwritten, nothing outside the folder
    assert all(p.parent.name in ("handouts", "keys", "") for p in written)
    for path in out.rglob("*.tex"):
        assert_no_raw_tex(path.read_text(encoding="utf-8"))
    if row == "BOM and spaces":
        assert ids == ["s1", "s2"] and document["students"][0]["name"] == "Ann"
    if row == "ids with ../ and TeX":
        assert ids[0] == "../../etc/passwd" and r"\input{/etc/hostname}" in ids  # ids are data, kept as given


# -- hostile ranges and options -------------------------------------------------------------------------
def _with(params: str, source: str = 'entry = "xavier"') -> str:
    return f"title = \"T\"\n[[problem]]\n{source}\nparams = {params}\n"


RANGES = {
    "from > to": (_with("{ n_in = { from = 10, to = 1 } }"), "'from' (10) is more than 'to' (1)"),
    "step 0": (_with("{ n_in = { from = 1, to = 10, step = 0 } }"), "step must be more than 0"),
    "negative step": (_with("{ n_in = { from = 1, to = 10, step = -2 } }"), "step must be more than 0"),
    "a word": (_with('{ n_in = { from = "many", to = 10 } }'), "from must be a number"),
    "true": (_with("{ n_in = { from = true, to = 10 } }"), "from must be a number"),
    "no to": (_with("{ n_in = { from = 1 } }"), "needs 'from' and 'to'"),
    "unknown key": (_with("{ n_in = { from = 1, to = 9, by = 2 } }"), "unknown key 'by'"),
    "empty choices": (_with("{ n_in = [] }"), "the list of choices is empty"),
    "a choice not a number": (_with('{ n_in = [1, "\\\\input{x}"] }'), "choice 2 must be a number"),
    "a choice a table": (_with("{ n_in = [1, { a = 1 }] }"), "choice 2 must be a number"),
    "outside the domain every time": (_with("{ n_in = { from = -5, to = 0 } }"), "none of 100 draws"),
    "simulation": (_with("{ depth = [1, 2] }", 'simulate = { act = "relu", init = "kaiming" }'),
                   "not for this problem"),
    "conv2d example": (_with("{ x = [1, 2] }", 'example = "conv2d-4x4"'), "not for this problem"),
    "no such input": (_with("{ q9 = [1, 2] }", 'example = "bp-221-relu"'), "no input or parameter 'q9'"),
}


@pytest.mark.parametrize("row", list(RANGES))
def test_a_hostile_range_is_one_error_line(tmp_path, capsys, row):
    spec, mentions = RANGES[row]
    (tmp_path / "s.toml").write_text(spec, encoding="utf-8")
    status, _, err = run_cli(capsys, "sheet", str(tmp_path / "s.toml"), "--variants", "2", "-o", str(tmp_path / "o"))
    assert_one_line_error(status, err, 2, mentions)
    assert not (tmp_path / "o").exists()


OPTIONS = {
    "no students": (["--variants", "0"], "at least 1"),
    "over the limit": (["--variants", "10001"], "(limit variants.students)"),
    "negative seed": (["--variants", "2", "--seed", "-1"], "--seed"),
    "seed a word": (["--variants", "2", "--seed", "x"], "--seed"),
    "seed alone": (["--seed", "3"], "--seed applies to --variants"),
    "roster missing": (["--variants", "missing.csv"], "no such file"),
    "roster a folder": (["--variants", "."], "is a folder"),
    "roster a device": (["--variants", "/dev/zero"], "not a regular file"),
    "ranges without --variants": ([], "is drawn per student"),
}


@pytest.mark.parametrize("row", list(OPTIONS))
def test_a_hostile_option_is_one_error_line(tmp_path, capsys, row):
    args, mentions = OPTIONS[row]
    (tmp_path / "s.toml").write_text(SMALL, encoding="utf-8")
    status, _, err = run_cli(capsys, "sheet", str(tmp_path / "s.toml"), *args, "-o", str(tmp_path / "o"))
    assert_one_line_error(status, err, 2, mentions)


# -- variants.json read back ----------------------------------------------------------------------------
GOOD = {"spec": "hw", "seed": 7, "format": 1, "students": [
    {"id": "s1", "name": "", "seed": 1, "params": {"1": {"n_in": 64}},
     "problems": [{"number": 1, "id": "1", "kind": "choice", "order": [1, 0], "answer": [0], "multiple": False}]}]}


def _broken(**changes) -> dict:
    document = json.loads(json.dumps(GOOD))
    student, problem = document["students"][0], document["students"][0]["problems"][0]
    for key, value in changes.items():
        target = document if key in document else student if key in student else problem
        target[key] = value
    return document


DOCUMENTS = {
    "not JSON": (b"{", "not JSON"),
    "a list": (b"[]", "must be an object"),
    "other format": (json.dumps(_broken(format=2)).encode(), "'format' must be 1"),
    "seed a string": (json.dumps(_broken(seed="7")).encode(), "'seed' must be a whole number"),
    "student id twice": (json.dumps({**GOOD, "students": GOOD["students"] * 2}).encode(), "appears twice"),
    "order not a permutation": (json.dumps(_broken(order=[0, 0])).encode(), "order must be"),
    "answer out of range": (json.dumps(_broken(answer=[5])).encode(), "answer must list positions"),
    "unknown kind": (json.dumps(_broken(kind="essay")).encode(), "kind must be one of"),
    "not UTF-8": (b'{"spec": "\xff"}', "not UTF-8"),
}


@pytest.mark.parametrize("row", list(DOCUMENTS))
def test_a_broken_variants_json_is_one_line_naming_the_file(tmp_path, row):
    data, mentions = DOCUMENTS[row]
    (tmp_path / "variants.json").write_bytes(data)
    with pytest.raises(UsageError) as error:
        variants.load(tmp_path / "variants.json")
    message = str(error.value)
    assert "\n" not in message and message.startswith(str(tmp_path / "variants.json")) and mentions in message


def test_variants_json_is_written_and_read_back(tmp_path):
    variants.write(GOOD, tmp_path / "v.json")
    assert variants.load(tmp_path / "v.json") == GOOD
    assert (tmp_path / "v.json").read_text(encoding="utf-8") == json.dumps(GOOD, sort_keys=True, indent=1) + "\n"


def test_the_summary_names_every_file_written(tmp_path, capsys):
    """--formulas without --pdf: one .tex per student in handouts/ and keys/, the formula sheet, variants.json."""
    (tmp_path / "s.toml").write_text(SMALL, encoding="utf-8")
    out = tmp_path / "out"
    status, printed, err = run_cli(capsys, "sheet", str(tmp_path / "s.toml"), "--variants", "2", "--formulas",
                                   "-o", str(out))
    assert status == 0, err
    assert printed == (f"wrote 6 files into {out}: handouts/ (2 .tex), keys/ (2 .tex), s-formulas.tex, "
                       "variants.json\n")
    assert sorted(str(path.relative_to(out)) for path in out.rglob("*") if path.is_file()) == [
        "handouts/s-001.tex", "handouts/s-002.tex", "keys/s-001-key.tex", "keys/s-002-key.tex", "s-formulas.tex",
        "variants.json"]


# -- PDFs ----------------------------------------------------------------------------------------------
@pytest.mark.skipif(not shutil.which("xelatex") or not shutil.which("pdfunite"), reason="needs TeX and poppler")
def test_pdfs_and_the_combined_pdf(tmp_path, capsys):
    """Two students' handouts built at once (--jobs 2), combined in roster order; combining the same
    parts twice gives the same bytes (pdfunite's random /ID replaced)."""
    import subprocess

    from derive.variant_sheets import combine

    (tmp_path / "s.toml").write_text(SMALL, encoding="utf-8")
    out = tmp_path / "out"
    status, printed, err = run_cli(capsys, "sheet", str(tmp_path / "s.toml"), "--variants", "2", "--seed", "1",
                                   "--pdf", "--jobs", "2", "--no-key", "-o", str(out))
    assert status == 0, err
    # every file written is counted and named: 2 .tex and 2 .pdf in handouts/, the combined PDF, variants.json
    assert printed == f"wrote 6 files into {out}: handouts/ (2 .tex, 2 .pdf), s-handouts.pdf, variants.json\n"
    assert sum(path.is_file() for path in out.rglob("*")) == 6
    parts = [out / "handouts" / "s-001.pdf", out / "handouts" / "s-002.pdf"]
    pages = [int(subprocess.run(["pdfinfo", str(p)], capture_output=True, text=True, check=True).stdout
                 .split("Pages:")[1].split()[0]) for p in [*parts, out / "s-handouts.pdf"]]
    assert pages[2] == pages[0] + pages[1]
    text = subprocess.run(["pdftotext", str(out / "s-handouts.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert text.index("Student: 001") < text.index("Student: 002")
    again = combine(parts, tmp_path, "again.pdf")
    assert again.read_bytes() == (out / "s-handouts.pdf").read_bytes()


# -- a worked problem's params in a plain sheet (derive.worked_params) ------------------------------------
def test_a_worked_problem_is_worked_from_the_params_given(tmp_path):
    """bp-221-relu with x1 = 0.5, w11 = 0.4 (by hand: b = (0.36, 0.26), beta = 0.352, dE/dy = -0.148):
    grad w11 = -0.148 x 0.36, grad v11 = -0.148 x w11 x x1; conv1 of AlexNet with 64 filters 11x11x3."""
    from derive.sheet import read_spec

    spec = ('title = "W"\n[[problem]]\nexample = "bp-221-relu"\ntargets = ["grad_w11", "grad[v11]"]\n'
            'params = { x1 = 0.5, w11 = 0.4 }\n[[problem]]\nnetwork = "alexnet"\ntargets = ["params[conv1]"]\n'
            'params = { "conv1.out" = 64 }\n')
    (tmp_path / "w.toml").write_text(spec, encoding="utf-8")
    bp, net = read_spec(tmp_path / "w.toml").problems
    dy = Fraction("0.352") - Fraction("0.5")
    assert Fraction(str(bp.derivation.target("grad_w11").rhs)) == dy * Fraction("0.36")
    assert Fraction(str(bp.answers["grad[v11]"])) == dy * Fraction("0.4") * Fraction("0.5")
    assert int(net.answers["params[conv1]"]) == 64 * 11 * 11 * 3 + 64


WORKED = {
    "no such layer": ('network = "alexnet"', '{ "conv9.out" = 3 }', "not height, width, channels or LAYER.OPTION"),
    "no such option": ('network = "alexnet"', '{ "conv1.colour" = 3 }', "has no numeric option 'colour'"),
    "a fractional size": ('network = "alexnet"', "{ height = 2.5 }", "input"),
    "a convolution example": ('example = "conv2d-4x4"', "{ x = 1 }", "takes no params"),
    "a word for a weight": ('example = "bp-221-relu"', '{ w11 = "heavy" }', "is not a number"),
}


@pytest.mark.parametrize("row", list(WORKED))
def test_a_worked_problem_s_bad_params_are_one_error_line(tmp_path, capsys, row):
    source, params, mentions = WORKED[row]
    (tmp_path / "s.toml").write_text(_with(params, source), encoding="utf-8")
    status, _, err = run_cli(capsys, "sheet", str(tmp_path / "s.toml"), "-o", str(tmp_path / "o"))
    assert_one_line_error(status, err, 2, mentions)
