"""Worker processes: hard time limits, bad input never accepted, threads, the batch CLI."""

import csv
import io
import json
import threading
import time

import pytest

from derive.check.pool import CheckPool
from derive.cli import cli

TIMEOUT = 2.0
SLOW = r"(1+\hat y)^{99999}"  # reads fine, but expanding it takes SymPy minutes
BAD = [SLOW, "", "   ", r"\frac{1}{2", "x" * 5000, "(" * 1000 + "x" + ")" * 1000, r"9^{9^{9^{9}}}", r"(10^{10})!",
       r"\input{/etc/passwd}", "__import__('os').system('ls')", "\x00\x07x", "x\u202e+1", r"\write18{ls}",
       r"\sum_{j=1}^{10^{8}} j", r"x^{x^{x^{x^{x^{x^{x^{x}}}}}}}", r"\def\x{1}\x"]


@pytest.fixture(scope="module")
def pool():
    with CheckPool(jobs=2, timeout=TIMEOUT) as workers:
        # Both workers build sigmoid first (a warm-up outside the limit), so that the time
        # measured below is the check's alone.
        list(workers.map([({"problem": "sigmoid", "target": "d1", "answer": "0"}, None)] * 2))
        yield workers


@pytest.mark.parametrize("answer", BAD, ids=range(len(BAD)))
def test_bad_input_is_never_correct_and_ends_within_the_limit(pool, answer):
    start = time.perf_counter()
    result = pool.run({"problem": "sigmoid", "target": "d1", "answer": answer})
    assert result["verdict"] in ("unparsable", "incorrect", "timeout")
    assert time.perf_counter() - start < TIMEOUT + 1


def test_a_killed_worker_is_replaced(pool):
    assert pool.run({"problem": "mse", "target": "dl_dyhat", "answer": SLOW})[
        "verdict"] == "timeout"
    assert pool.run({"problem": "mse", "target": "dl_dyhat", "answer": r"\hat y - y"})["verdict"] == "correct"


def test_the_pool_serves_several_threads(pool):
    results = []

    def worker(answer):
        results.append(pool.run({"problem": "kaiming", "target": "var", "answer": answer})["verdict"])

    threads = [threading.Thread(target=worker, args=(a,)) for a in [r"\frac{2}{n_{in}}", r"\frac{1}{n_{in}}"] * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["correct"] * 3 + ["incorrect"] * 3


LINES = [
    {"id": "a", "problem": "sigmoid", "target": "d1", "answer": r"\sigma(1-\sigma)", "points": 2},
    {"id": "b", "problem": "xavier", "target": "var", "answer": r"\frac{1}{n_{in}}", "points": 3},
    "this is not JSON",
    {"id": "d", "problem": "sigmoid", "answer": "x"},
    {"id": "e", "expected": "x^2", "answer": "x \\cdot x"},
    {"id": "f", "problem": "xavir", "target": "var", "answer": "1"},
    {"id": "g", "problem": "tanh", "target": "d1", "answer": r"\frac{1}{2"},
]


def _input(tmp_path):
    path = tmp_path / "class.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in LINES) + "\n", encoding="utf-8")
    return path


def test_grade_keeps_order_and_survives_bad_lines(tmp_path, capsys):
    assert cli(["grade", str(_input(tmp_path)), "--jobs", "2"]) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", None, "d", "e", "f", "g"]
    assert [r["verdict"] for r in rows] == ["correct", "incorrect", "error", "error", "correct", "error", "unparsable"]
    assert "did you mean 'xavier'" in rows[5]["feedback"]
    assert all({"id", "problem", "target", "verdict", "expected", "parsed", "feedback", "certificate", "ms"} <= set(r)
               for r in rows)
    assert err.startswith("graded 7 answers in ") and "2 correct, 1 incorrect, 1 unparsable, 3 error" in err


def test_grade_csv_gives_points_and_gradescope_writes_results_json(tmp_path, capsys, monkeypatch):
    path = _input(tmp_path)
    assert cli(["grade", str(path), "--format", "csv", "-o", str(tmp_path / "out.csv")]) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text())))
    assert [(r["points"], r["max_points"]) for r in rows[:2]] == [("2", "2"), ("0", "3")]
    monkeypatch.chdir(tmp_path)
    assert cli(["grade", str(path), "--format", "gradescope"]) == 0
    report = json.loads((tmp_path / "results.json").read_text())
    assert report["score"] == 3 and len(report["tests"]) == 7
    assert report["tests"][0] == {"name": "a: sigmoid/d1", "score": 2, "max_score": 2, "status": "passed",
                                  "output": report["tests"][0]["output"]}


def test_check_command_exit_codes_and_json(capsys):
    assert cli(["check", "sigmoid", "--target", "d1", "--answer", r"\sigma(1-\sigma)"]) == 0
    assert cli(["check", "sigmoid", "--target", "d1", "--answer", r"\sigma(1+\sigma)", "--json"]) == 1
    out = capsys.readouterr().out.splitlines()[-1]
    assert set(json.loads(out)) >= {"problem", "target", "verdict", "expected", "parsed", "feedback", "certificate"}
    assert cli(["check", "sigmoid", "--target", "d1", "--answer", ""]) == 2
    assert cli(["check", "sigmoid", "--target", "d3", "--answer", "x"]) == 2
    assert "unknown target 'd3'" in capsys.readouterr().err
    assert cli(["check", "--expected", "x^2", "--answer", "x x", "--lang", "zh"]) == 0
    assert cli(["check", "mse", "--target", "dl_dyhat", "--answer", SLOW,
                "--timeout", "1"]) == 3
