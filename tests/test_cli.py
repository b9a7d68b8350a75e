"""The command line, called in-process."""

import json

import pytest

import derive
from derive.cli import cli


def run(capsys, *args):
    status = cli(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_xavier_latex_is_one_align_block_per_part(capsys):
    status, out, err = run(capsys, "xavier", "--latex")
    parts = sum(1 for step in derive.get("xavier").steps if step.kind not in ("equals", "implies"))
    assert status == 0 and not err and parts > 5
    assert out.count(r"\begin{align*}") == out.count(r"\end{align*}") == parts
    # the default notation profile is the course's (M_{l-1}, M_l; see tests/test_notation_profiles.py)
    assert r"\frac{2}{M_{l-1} + M_l}" in out and r"\sqrt{\frac{6}{M_{l-1} + M_l}}" in out


def test_json_contract_with_values(capsys):
    status, out, _ = run(capsys, "xavier", "--json", "--param", "n_in=256", "--param", "n_out=128")
    document = json.loads(out)
    assert status == 0
    assert {"name", "title", "assumptions", "symbols", "steps", "targets"} <= set(document)
    assert set(document["steps"][0]) >= {"rule", "latex", "check"}
    assert {s["check"] for s in document["steps"]} <= {"symbolic", "numeric", "given"}
    std = document["targets"]["normal_std"]
    assert std["value"] == "sqrt(3)/24" and abs(std["float"] - 3**0.5 / 24) < 1e-15
    assert set(document["targets"]["var"]) == {"latex", "sympy", "value", "float"}


def test_decimal_parameters_are_exact(capsys):
    status, out, _ = run(capsys, "prelu-init", "--json", "--param", "alpha=0.25", "--param", "n_in=256")
    assert status == 0 and json.loads(out)["targets"]["var"]["value"] == "1/136"


def test_list_text_and_json(capsys):
    status, out, _ = run(capsys, "list")
    assert status == 0 and "xavier" in out and "uniform_bound" in out
    status, out, _ = run(capsys, "list", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["bce-sigmoid"]["targets"] == ["dl_dyhat", "dl_dz", "dl_dw1", "dl_dw2", "dl_db"]


def test_chinese_wording(capsys):
    status, out, _ = run(capsys, "sigmoid", "--lang", "zh")
    assert status == 0 and "链式法则" in out and "Sigmoid 函数的一阶和二阶导数" in out


def test_markdown(capsys):
    status, out, _ = run(capsys, "softmax", "--md")
    assert status == 0 and out.startswith("## ") and r"\delta_{i k}" in out


@pytest.mark.parametrize("args, message", [
    (["xavir"], "unknown derivation 'xavir'; did you mean 'xavier'?"),
    (["xavier", "--param", "n_in=-3"], "parameter n_in=-3 is outside its domain: an integer in [1, inf)"),
    (["prelu-init", "--param", "alpha=x"], "parameter alpha='x' is not a number"),
    (["prelu-init", "--param", "alpha=1"], "parameter alpha=1 is outside its domain: a number in [0, 1)"),
    (["xavier", "--param", "n_inn=3"], "unknown parameter 'n_inn' in 'xavier'; did you mean 'n_in'?"),
    (["xavier", "--param", "n_in"], "parameter 'n_in' must look like KEY=VALUE"),
    (["xavier", "--param", "n_in=__import__('os')"], "is not a number"),
    (["xavier", "--param", "n_in=2.5"], "outside its domain"),
    (["xavier", "--lang", "fr"], "invalid choice: 'fr'"),
    (["xavier", "--latex", "--json"], "not allowed with argument"),
    (["xavier", "-o", "/no/such/folder/x.tex"], "folder '/no/such/folder' does not exist"),
    ([], "commands"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, args, message):
    status, out, err = run(capsys, *args)
    assert status == 2
    assert message in (err if args else out)
    if args:
        assert err.count("\n") == 1 and "Traceback" not in err


def test_output_file_is_written_whole(capsys, tmp_path):
    target = tmp_path / "xavier.tex"
    status, out, _ = run(capsys, "xavier", "--latex", "-o", str(target))
    assert status == 0 and not out
    assert target.read_text().startswith("% derive xavier")
    assert [p.name for p in tmp_path.iterdir()] == ["xavier.tex"]


def test_user_template_folder_is_searched_first(capsys, tmp_path):
    (tmp_path / "derivation.txt.j2").write_text(r"custom \VAR{name}: \VAR{targets|length} targets")
    status, out, _ = run(capsys, "xavier", "--template-dir", str(tmp_path))
    assert status == 0 and out.strip() == "custom xavier: 5 targets"


def test_module_entry_point_runs_as_a_process():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "derive", "xavir"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip() == (
        "derive: error: unknown derivation 'xavir'; did you mean 'xavier'?")


@pytest.mark.parametrize(("verdicts", "head"), [
    ([], "graded 0 answers in 0.5 s: nothing"),
    (["correct"], "graded 1 answer in 0.5 s: 1 correct"),  # was "graded 1 answers"
    (["correct", "incorrect"], "graded 2 answers in 0.5 s: 1 correct, 1 incorrect"),
])
def test_the_grade_summary_says_answer_or_answers(verdicts, head):
    from derive.check import batch, variant_grade

    assert batch.summary([{"verdict": v} for v in verdicts], 0.5) == head
    assert variant_grade.summary([{"verdict": v, "student": "s1"} for v in verdicts], 0.5) == head


def test_grade_of_one_answer_says_one_answer(capsys, tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"id": 1, "problem": "sigmoid", "target": "d1", "answer": r"\sigma(x)(1-\sigma(x))"})
                    + "\n", encoding="utf-8")
    status, _, err = run(capsys, "grade", str(path))
    assert status == 0 and err.startswith("graded 1 answer in ") and err.endswith(" s: 1 correct\n"), err
