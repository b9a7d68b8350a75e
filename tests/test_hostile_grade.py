"""Hostile input to `derive grade` (and the shared --timeout/--jobs checks): one bad line never
loses the batch, every output is valid JSON/CSV/UTF-8, signals end with one line and no leftovers.

Each row puts one hostile line between two good ones (x·x against x², correct by hand) and runs
the real command line in every output format.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from derive.check.pool import CheckPool
from hostile import ROOT, assert_one_line_error, default_sigint, run_cli

GOOD = {"expected": "x^2", "answer": "x x"}


def _line(**fields) -> bytes:
    return json.dumps({**GOOD, **fields}).encode()


def _strict_json(text: str):
    """JSON as the standard says it: NaN and Infinity are refused."""
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


#: (row id, the hostile line, the id its result must carry, words its reason must contain)
HOSTILE = [
    ("invalid-utf8", b'{"id": "u", "expected": "x", "answer": "x\xff\xfe"}', None, "not UTF-8"),
    ("nested-100k", b"[" * 100_000 + b"]" * 100_000, None, "longer than 100,000 bytes"),
    ("nested-40k", b"[" * 40_000 + b"]" * 40_000, None, "nested deeper than 16"),
    ("nested-in-field", _line(id="n", assume=[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]), None, "nested deeper"),
    ("surrogate-id", b'{"id": "\\ud800", "expected": "x^2", "answer": "x x"}', "\\ud800", "'id' is not valid Unicode"),
    ("surrogate-answer", b'{"id": "s", "expected": "x", "answer": "x\\udfff"}', "s", "'answer' is not valid Unicode"),
    ("surrogate-key", b'{"id": "k", "\\ud800": 1, "expected": "x", "answer": "x"}', "k", "unknown field '\\ud800'"),
    ("lang-list", _line(id="l", lang=["en"]), "l", "'lang'"),
    ("lang-unknown", _line(id="l", lang="fr"), "l", "'lang'"),
    ("points-nan", b'{"id": "p", "expected": "x", "answer": "x", "points": NaN}', "p", "'points'"),
    ("points-1e309", b'{"id": "p", "expected": "x", "answer": "x", "points": 1e309}', "p", "'points'"),
    ("points-minus-inf", b'{"id": "p", "expected": "x", "answer": "x", "points": -Infinity}', "p", "'points'"),
    ("points-negative", _line(id="p", points=-1), "p", "'points'"),
    ("points-string", _line(id="p", points="3"), "p", "'points'"),
    ("points-bool", _line(id="p", points=True), "p", "'points'"),
    ("points-huge-int", _line(id="p", points=10**400), "p", "'points'"),
    ("points-5000-digits", b'{"id": "p", "expected": "x", "answer": "x", "points": 1' + b"0" * 5000 + b"}", None,
     "not JSON"),
    ("report-true", _line(id="r", report=True), "r", "unknown field 'report'"),
    ("report-on-steps", json.dumps({"id": "r", "problem": "sigmoid", "steps": ["x"], "report": True}).encode(), "r",
     "unknown field 'report'"),
    ("unknown-key", _line(id="k", student="Ann"), "k", "unknown field 'student'"),
    ("answer-number", _line(id="a", answer=3), "a", "'answer' must be a string"),
    ("answer-null", _line(id="a", answer=None), "a", "'answer' must be a string"),
    ("problem-list", _line(id="a", problem=["sigmoid"], target="d1"), "a", "'problem' must be a string"),
    ("assume-string", _line(id="a", assume="x:real"), "a", "'assume' must be a list of strings"),
    ("log-base-2", _line(id="a", log_base=2), "a", "'log_base'"),
    ("id-list", _line(id=["x"]), None, "'id' must be a string or an integer"),
    ("id-float", _line(id=1.5), None, "'id' must be a string or an integer"),
    ("steps-numbers", json.dumps({"id": "s", "problem": "sigmoid", "steps": [1, 2]}).encode(), "s",
     "'steps' must be a list of strings"),
    ("steps-with-answer", json.dumps({"id": "s", "problem": "sigmoid", "steps": ["x"], "answer": "x"}).encode(), "s",
     "'answer' does not go with 'steps'"),
    ("steps-without-problem", json.dumps({"id": "s", "steps": ["x"]}).encode(), "s", "'steps' needs 'problem'"),
    ("not-json", b'{"id": "j", "answer": ', None, "not JSON"),
    ("json-array", b"[1, 2]", None, "not a JSON object"),
    ("json-string", b'"x"', None, "not a JSON object"),
    ("empty-object", b"{}", None, "needs 'answer'"),
    ("long-line", _line(id="long", answer="x" * 120_000), None, "longer than 100,000 bytes"),
    ("unknown-problem", _line(id="u", problem="xavir", target="var"), "u", "did you mean 'xavier'"),
]


def _grade_file(tmp_path: Path, bad: bytes) -> Path:
    path = tmp_path / "class.jsonl"
    good = [_line(id="g1"), _line(id="g2", points=2.5)]
    path.write_bytes(b"\n".join([good[0], bad, b"   ", good[1]]) + b"\n")
    return path


@pytest.mark.parametrize(("bad", "line_id", "reason"), [row[1:] for row in HOSTILE], ids=[row[0] for row in HOSTILE])
def test_one_hostile_line_gets_error_and_the_batch_goes_on(tmp_path, capsys, bad, line_id, reason):
    path = _grade_file(tmp_path, bad)
    status, out, err = run_cli(capsys, "grade", str(path), "-o", str(tmp_path / "out.jsonl"))
    assert status == 0 and "Traceback" not in err and err.startswith("graded 3 answers"), err
    rows = [_strict_json(line) for line in (tmp_path / "out.jsonl").read_bytes().decode("utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["g1", line_id, "g2"]
    assert [r["verdict"] for r in rows] == ["correct", "error", "correct"]
    assert reason in rows[1]["feedback"] and "\n" not in rows[1]["feedback"]

    assert run_cli(capsys, "grade", str(path), "--format", "csv", "-o", str(tmp_path / "out.csv"))[0] == 0
    table = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_bytes().decode("utf-8"), newline="")))
    assert [(r["verdict"], r["points"], r["max_points"]) for r in table] == [
        ("correct", "1", "1"), ("error", "0", "1"), ("correct", "2.5", "2.5")]
    assert reason in table[1]["feedback"]

    assert run_cli(capsys, "grade", str(path), "--format", "gradescope", "-o", str(tmp_path / "results.json"))[0] == 0
    report = _strict_json((tmp_path / "results.json").read_bytes().decode("utf-8"))
    assert [t["status"] for t in report["tests"]] == ["passed", "failed", "passed"]
    assert report["score"] == 3.5


def test_a_line_that_overruns_its_time_is_timeout_and_the_rest_is_graded(tmp_path, capsys):
    slow = _line(id="slow", problem="mse", target="dl_dyhat", answer=r"(1+\hat y)^{99999}")
    path = _grade_file(tmp_path, slow)
    status, out, err = run_cli(capsys, "grade", str(path), "--timeout", "1")
    assert status == 0 and "Traceback" not in err
    assert [json.loads(line)["verdict"] for line in out.splitlines()] == ["correct", "timeout", "correct"]


def test_building_the_entry_in_a_fresh_worker_is_not_counted_in_the_limit(tmp_path, capsys):
    # A fresh worker builds and verifies softmax-ce (over a second here, where the disk cache is
    # off) before its first check: that is not the student's time, the check itself is milliseconds.
    path = _write(tmp_path / "class.jsonl", _line(id="a", problem="softmax-ce", target="dl_dz", answer="p_k - y_k"))
    status, out, err = run_cli(capsys, "grade", path, "--timeout", "0.5")
    assert status == 0 and json.loads(out)["verdict"] == "correct", out


def test_identical_requests_are_checked_once_and_fanned_out(tmp_path, capsys, monkeypatch):
    sent = []
    real_map = CheckPool.map

    def counting_map(pool, jobs):
        jobs = list(jobs)
        sent.extend(job for job, _ in jobs)
        return real_map(pool, jobs)

    monkeypatch.setattr(CheckPool, "map", counting_map)
    lines = [_line(id=f"s{n}", points=n % 3 + 1) for n in range(300)]  # one answer, 300 students
    lines += [_line(id="wrong", answer="2x"), _line(id="zh", lang="zh"), _line(id="last")]
    path = tmp_path / "class.jsonl"
    path.write_bytes(b"\n".join(lines))
    status, out, _ = run_cli(capsys, "grade", str(path), "--format", "csv", "--jobs", "2")
    table = list(csv.DictReader(io.StringIO(out, newline="")))
    assert status == 0 and len(sent) == 3  # x x (en), 2x, x x (zh)
    assert [r["id"] for r in table] == [f"s{n}" for n in range(300)] + ["wrong", "zh", "last"]
    assert [r["verdict"] for r in table] == ["correct"] * 300 + ["incorrect", "correct", "correct"]
    assert [r["points"] for r in table[:3]] == ["1", "2", "3"]
    assert table[-2]["feedback"] != table[-1]["feedback"]  # the zh line got its own (Chinese) check


INPUTS = [
    ("dev-zero", lambda tmp: "/dev/zero", "(limit grade.bytes)"),
    ("too-many-lines", lambda tmp: _write(tmp / "many.jsonl", b"\n" * 1_000_001), "(limit grade.lines)"),
    ("a-folder", lambda tmp: str(tmp), "cannot read"),
    ("missing", lambda tmp: str(tmp / "missing.jsonl"), "cannot read"),
]


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(("source", "mentions"), [row[1:] for row in INPUTS], ids=[row[0] for row in INPUTS])
def test_an_input_beyond_the_limits_is_one_line(tmp_path, capsys, source, mentions):
    status, out, err = run_cli(capsys, "grade", source(tmp_path))
    assert_one_line_error(status, err, mentions=mentions)
    assert out == ""


TIMEOUTS = ["nan", "inf", "-inf", "0", "-1", "601", "1e309", "five"]
COMMANDS = {
    "check": ["check", "sigmoid", "--target", "d1", "--answer", "x"],
    "grade": ["grade", "{file}"],
    "check-steps": ["check-steps", "sigmoid", "--file", "{file}"],
    "audit": ["audit", str(ROOT / "audits" / "seed-000.toml")],
}


@pytest.mark.parametrize("value", TIMEOUTS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_timeout_that_is_not_a_positive_finite_number_is_refused(tmp_path, capsys, command, value):
    path = _write(tmp_path / "in.txt", b"")
    args = [a.format(file=path) for a in COMMANDS[command]]
    status, _, err = run_cli(capsys, *args, f"--timeout={value}")
    assert_one_line_error(status, err, mentions="--timeout")


@pytest.mark.parametrize("value", ["0", "-1", "65", str(10**9), "1.5", "two"])
def test_a_job_count_out_of_range_is_refused(tmp_path, capsys, value):
    path = _write(tmp_path / "in.jsonl", _line(id="a"))
    status, _, err = run_cli(capsys, "grade", path, f"--jobs={value}")
    assert_one_line_error(status, err, mentions="--jobs")


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return kids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the workers through /proc")
@pytest.mark.parametrize(("number", "status", "line"), [(signal.SIGINT, 130, "derive: interrupted"),
                                                       (signal.SIGTERM, 143, "derive: ")], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_grade_ends_with_one_line_and_no_leftovers(tmp_path, number, status, line):
    slow = r"(1+\hat y)^{99999}"  # minutes of SymPy: the workers are busy when the signal comes
    path = _write(tmp_path / "class.jsonl", b"\n".join(
        _line(id=n, problem="mse", target="dl_dyhat", answer=slow + " " * n) for n in range(4)))
    run = subprocess.Popen([sys.executable, "-m", "derive", "grade", path, "--jobs", "2", "--timeout", "120",
                            "-o", str(tmp_path / "out.jsonl")], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env={**os.environ, "TMPDIR": str(tmp_path)}, preexec_fn=default_sigint)
    try:
        for _ in range(1200):  # at most a minute: until the forkserver has started both workers
            if len([w for server in _children(run.pid) for w in _children(server)]) >= 2:
                break
            try:
                run.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
        assert run.poll() is None, run.stderr.read()
        run.send_signal(number)
        _, err = run.communicate(timeout=60)
    finally:
        run.kill()
    err = err.decode("utf-8", "replace")
    assert_one_line_error(run.returncode, err, expected_status=status, mentions=line)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["class.jsonl"]  # no pymp-*, no half-written output
