"""``python -m derive serve``: the JSON API driven over loopback by a client (urllib), the real
server in its own process. Right, wrong and unreadable answers; a derivation with a planted slip;
hostile requests (each a 4xx JSON error or a verdict, never a 500 or a traceback); oversize bodies
(413); the rate limit (429); concurrent clients; the log file.

The expected verdicts are the course's (seed sheet 2.2: sigma' = sigma (1 - sigma)), not the code's.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from hostile import ROOT, TEX_ATTACKS, assert_one_line_error, run_derive

RIGHT, WRONG = r"\sigma(x)(1-\sigma(x))", r"\sigma(x)(1+\sigma(x))"
SHEET = ROOT / "examples" / "hw2-derivatives-zh.toml"
WORKED = ROOT / "examples" / "backprop-zh.toml"  # problem 1: seed sheet 000 2.1, the 2-2-1 ReLU network
QUESTIONS = ROOT / "examples" / "questions-en.toml"  # 1: choice, right A; 5: true/false, false; 9: short
#: markup and TeX a teacher's sheet might carry into the page: in a statement, a choice's options
MARKUP_ATTACKS = ("<script>alert(1)</script>", "</p><img src=x onerror=alert(1)>", r"\(\href{javascript:alert(1)}{x}\)")


def hostile_sheet() -> str:
    """A sheet whose statements and options are markup and TeX attacks: one choice question per attack."""
    problems = []
    for attack in (*MARKUP_ATTACKS, *TEX_ATTACKS):
        text = json.dumps(attack)
        problems.append(f"[[problem]]\nstatement = {text}\nchoice = {{ options = [{text}, \"$x^2$\"], answer = [1] }}\n")
    problems.append(f"[[problem]]\nentry = \"sigmoid\"\ntargets = [\"d1\"]\nstatement = {json.dumps(MARKUP_ATTACKS[1])}\n")
    return 'title = "hostile"\nlang = "en"\n\n' + "\n".join(problems)


class Server:
    """``python -m derive serve --port 0 ARGS`` in a child process, its address read from its output."""

    def __init__(self, *args: str, cwd=ROOT):
        self.process = subprocess.Popen([sys.executable, "-m", "derive", "serve", "--port", "0", *args],
                                        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        found: list[str] = []
        reader = threading.Thread(target=lambda: found.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(120)
        line = found[0] if found else ""
        if "serving on http://" not in line:
            self.stop()
            raise AssertionError(f"the server did not start: {line!r} {self.process.stderr.read()[-2000:]}")
        self.url = line.split("serving on ")[1].split()[0].rstrip("/")
        self.host, self.port = self.url.removeprefix("http://").split(":")

    def post(self, path: str, body, headers: dict | None = None) -> tuple[int, dict, dict]:
        """(status, the JSON answer, headers) of a POST; ``body`` a dict (sent as JSON) or bytes."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method="POST",
                                         headers={"Content-Type": "application/json", **(headers or {})})
        return _answer(request)

    def get(self, path: str) -> tuple[int, dict, dict]:
        """(status, the JSON answer, headers) of a GET."""
        return _answer(urllib.request.Request(self.url + path))

    def stop(self) -> str:
        """Stop the server; its standard error."""
        self.process.terminate()
        try:
            _, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err


def _answer(request) -> tuple[int, dict, dict]:
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, text, headers = response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, text, headers = error.code, error.read().decode(), dict(error.headers)
    headers = {key.lower(): value for key, value in headers.items()}
    assert "Traceback" not in text and 'File "' not in text, text
    assert headers.get("content-type", "").startswith("application/json"), headers
    return status, json.loads(text), headers


@pytest.fixture(scope="module")
def log_file(tmp_path_factory):
    return tmp_path_factory.mktemp("web") / "checks.jsonl"


@pytest.fixture(scope="module")
def server(log_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cwd")  # the server's working folder: nothing is written there
    hostile = tmp_path_factory.mktemp("sheets") / "hostile.toml"
    hostile.write_text(hostile_sheet(), encoding="utf-8")
    running = Server("--rate", "0", "--jobs", "2", "--timeout", "3", "--log", str(log_file), "--sheet", str(SHEET),
                     "--sheet", str(WORKED), "--sheet", str(QUESTIONS), "--sheet", str(hostile), cwd=folder)
    yield running
    err = running.stop()
    assert "Traceback" not in err, err
    assert list(folder.iterdir()) == []


def test_right_wrong_and_unreadable_answers(server):
    status, right, _ = server.post("/api/check", {"problem": "sigmoid", "target": "d1", "answer": RIGHT})
    assert status == 200 and right["verdict"] == "correct"
    assert {"problem", "target", "verdict", "expected", "parsed", "feedback", "certificate"} <= right.keys()
    status, wrong, _ = server.post("/api/check", {"problem": "sigmoid", "target": "d1", "answer": WRONG})
    assert status == 200 and wrong["verdict"] == "incorrect" and wrong["certificate"]["method"] == "counterexample"
    status, unread, _ = server.post("/api/check", {"problem": "sigmoid", "target": "d1", "answer": r"\frac{1}{"})
    assert status == 200 and unread["verdict"] == "unparsable"
    status, free, _ = server.post("/api/check", {"expected": "2x", "answer": "x + x", "lang": "zh"})
    assert status == 200 and free["verdict"] == "correct"


def test_a_sheets_problems_listed_and_checked_by_number(server):
    status, listing, _ = server.get("/api/problems?lang=zh")
    assert status == 200
    ids = {p["id"]: p for p in listing["problems"]}
    first = ids["hw2-derivatives-zh#1"]  # the sheet's problem 1: the sigmoid's d1 and d2
    assert first["kind"] == "sheet" and [t["name"] for t in first["targets"]] == ["d1", "d2"]
    assert ids["sigmoid"]["kind"] == "catalog"
    _, right, _ = server.post("/api/check", {"problem": "hw2-derivatives-zh#1", "target": "d1", "answer": RIGHT})
    _, wrong, _ = server.post("/api/check", {"problem": "hw2-derivatives-zh#1", "target": "d1", "answer": WRONG})
    assert (right["verdict"], wrong["verdict"]) == ("correct", "incorrect")
    assert right["problem"] == "hw2-derivatives-zh#1"
    # a worked problem's own target (updated_w11): the seed publishes w11 after one step, 0.54068
    _, right, _ = server.post("/api/check", {"problem": "backprop-zh#1", "target": "updated_w11", "answer": "0.54068"})
    _, wrong, _ = server.post("/api/check", {"problem": "backprop-zh#1", "target": "updated_w11", "answer": "0.45932"})
    assert (right["verdict"], wrong["verdict"]) == ("correct", "incorrect")


def test_a_worked_problems_statement_holds_its_givens_as_formulas(server):
    problems = {p["id"]: p for p in server.get("/api/problems?lang=zh")[1]["problems"]}
    worked = problems["backprop-zh#1"]["statement_html"]
    # the seed's givens (sheet 000 2.1): x1 = 0.2, x2 = 0.3, v11 = 0.6, w21 = 0.8, each a formula
    for given in (r"\( x_{1} = 0.2 \)", r"\( x_{2} = 0.3 \)", r"\( v_{11} = 0.6 \)", r"\( w_{21} = 0.8 \)"):
        assert given in worked
    assert "已知" in worked and worked.startswith("<p>")
    asked = {t["name"]: t["asked_html"] for t in problems["hw2-derivatives-zh#1"]["targets"]}
    assert asked["d1"].startswith("求") and asked["d2"] != asked["d1"]


@pytest.mark.parametrize("number, answer, verdict", [
    (1, "A", "correct"), (1, "B", "incorrect"), (1, " a ", "correct"), (1, "A,B", "incorrect"), (1, "Z", "unparsable"),
    (2, "A,B", "correct"), (2, "AB", "correct"), (2, "A", "incorrect"), (2, "A,B,C", "incorrect"),
    (5, "false", "correct"), (5, "错", "correct"), (5, "对", "incorrect"), (5, "maybe", "unparsable"),
    (6, "true", "correct"), (6, "F", "incorrect"),
    (7, "0.25", "correct"), (7, "0.2505", "correct"), (7, "0.3", "incorrect"), (7, "1/4", "correct"),
    (9, "ReLU does not saturate for x > 0", "manual"),
])
def test_a_sheets_questions_judged_by_their_keys(server, number, answer, verdict):
    # questions-en.toml: 1 sigma' is option A; 2 sigmoid and tanh saturate (A, B); 5 false; 6 true;
    # 7 sigma'(0) = 1/4 within 0.001; 9 a short answer, graded by hand with the model answer shown
    status, result, _ = server.post("/api/check", {"problem": f"questions-en#{number}", "target": "answer",
                                                   "answer": answer})
    assert status == 200 and result["verdict"] == verdict, result
    assert result["problem"] == f"questions-en#{number}"
    if verdict == "manual":
        assert "does not saturate there" in result["feedback"]


def test_a_sheets_questions_are_listed_with_their_options(server):
    problems = {p["id"]: p for p in server.get("/api/problems")[1]["problems"]}
    choice = problems["questions-en#1"]
    assert choice["question"] == "choice" and [t["name"] for t in choice["targets"]] == ["answer"]
    assert len(choice["options_html"]) == 4 and r"\sigma(x)" in choice["options_html"][0]
    assert problems["questions-en#9"]["question"] == "short"
    assert server.post("/api/check-steps", {"problem": "questions-en#1", "derivation": "x = 1"})[0] == 400


@pytest.mark.parametrize("number, attack", enumerate((*MARKUP_ATTACKS, *TEX_ATTACKS, MARKUP_ATTACKS[1]), 1))
def test_a_hostile_sheets_text_is_escaped_html(server, number, attack):
    import html
    import re

    problem = next(p for p in server.get("/api/problems")[1]["problems"] if p["id"] == f"hostile#{number}")
    statement, options = problem["statement_html"], problem.get("options_html", [])
    for part in (statement, *options):  # no tag but the paragraphs export/html.py writes
        assert "<" not in re.sub("</?p>", "", part) and ">" not in re.sub("</?p>", "", part), part
        # a user's backslash is a character reference: never a formula delimiter nor a TeX command
        assert "\\" not in part.replace(r"\( x^{2} \)", "").replace(r"\( \sigma'(x) \)", ""), part
    shown = " ".join(attack.split())  # the teacher's text, shown as written (a line break as a space)
    assert shown in html.unescape(re.sub("</?p>", "", statement))
    assert options == [] or html.unescape(options[0]) == shown


def test_a_derivation_with_a_planted_slip_names_its_first_wrong_line(server):
    lines = (r"\sigma(x) = \frac{1}{1+e^{-x}}", r"\sigma'(x) = \frac{e^{-x}}{(1+e^{-x})^2}",
             r"= \sigma(x)(1+\sigma(x))")  # line 3: the sign flipped
    derivation = "\n".join(lines)
    status, report, _ = server.post("/api/check-steps", {"problem": "sigmoid", "derivation": derivation})
    assert status == 200 and report["first_error"] == 3
    assert [line["verdict"] for line in report["lines"]][2] == "wrong"
    assert report["verdict"] == "incorrect" and report["final"]["verdict"] == "incorrect"


_D1 = {"problem": "sigmoid", "target": "d1"}
#: (path, body): each a 4xx JSON error or a verdict that is not "correct".
HOSTILE = {
    **{f"tex-{n}": ("/api/check", {**_D1, "answer": attack}) for n, attack in enumerate(TEX_ATTACKS)},
    **{f"steps-tex-{n}": ("/api/check-steps", {"problem": "sigmoid", "derivation": attack})
       for n, attack in enumerate(TEX_ATTACKS[:2])},
    "script": ("/api/check", {**_D1, "answer": "<script>alert(1)</script>"}),
    "script-problem": ("/api/check", {"problem": "<script>alert(1)</script>", "target": "d1", "answer": "1"}),
    "huge-answer": ("/api/check", {**_D1, "answer": "x+" * 9000 + "x"}),
    "huge-power": ("/api/check", {**_D1, "answer": "9^{9^{9^{9}}}"}),
    "not-json": ("/api/check", b"answer=1"),
    "not-utf8": ("/api/check", b'{"problem": "sigmoid", "target": "d1", "answer": "\xff\xfe"}'),
    "lone-surrogate": ("/api/check", b'{"problem": "sigmoid", "target": "d1", "answer": "\\ud800"}'),
    "nested": ("/api/check", b"[" * 5000 + b"]" * 5000),
    "nested-field": ("/api/check", {**_D1, "answer": [[[["x"]]]]}),
    "array": ("/api/check", [1, 2]),
    "answer-number": ("/api/check", {**_D1, "answer": 1}),
    "answer-null": ("/api/check", {**_D1, "answer": None}),
    "problem-number": ("/api/check", {"problem": 7, "target": "d1", "answer": "1"}),
    "long-integer": ("/api/check", b'{"answer": ' + b"9" * 5000 + b"}"),
    "no-answer": ("/api/check", _D1),
    "unknown-field": ("/api/check", {**_D1, "answer": "1", "id": "s001"}),
    "unknown-problem": ("/api/check", {"problem": "sigmoidd", "target": "d1", "answer": "1"}),
    "file-problem": ("/api/check", {"problem": "../../etc/passwd.toml", "target": "params", "answer": "1"}),
    "unknown-target": ("/api/check", {"problem": "sigmoid", "target": "d9", "answer": "1"}),
    "unknown-sheet-target": ("/api/check", {"problem": "hw2-derivatives-zh#1", "target": "d9", "answer": "1"}),
    "unknown-sheet-number": ("/api/check", {"problem": "hw2-derivatives-zh#99", "target": "d1", "answer": "1"}),
    "bad-lang": ("/api/check", {**_D1, "answer": "1", "lang": "fr"}),
    "steps-not-string": ("/api/check-steps", {"problem": "sigmoid", "derivation": ["a", 1]}),
    "steps-unknown": ("/api/check-steps", {"problem": "resnet18", "derivation": "x = 1"}),
    "steps-many-lines": ("/api/check-steps", {"problem": "sigmoid", "derivation": "=x\n" * 4000}),
}


@pytest.mark.parametrize("path, body", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_requests_are_refused_or_judged(server, path, body):
    status, answer, _ = server.post(path, body)
    assert status == 200 or 400 <= status < 500, (status, answer)
    if status == 200:
        assert answer["verdict"] in ("incorrect", "unparsable", "timeout", "error"), answer
    else:
        assert isinstance(answer["error"], str) and "\n" not in answer["error"]


def test_every_answer_allows_only_the_servers_own_scripts(server):
    policy = server.get("/api/problems")[2]["content-security-policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy
    assert server.post("/api/check", b"nope")[2]["x-content-type-options"] == "nosniff"


def test_wrong_method_and_path_are_json_errors(server):
    assert server.get("/api/check")[0] == 405
    assert server.get("/api/nothing")[0] == 404


def test_an_oversize_body_is_413_by_its_length_and_by_its_bytes(server):
    big = json.dumps({**_D1, "answer": "x" * 25_000}).encode()
    assert server.post("/api/check", big)[0] == 413
    connection = http.client.HTTPConnection(server.host, int(server.port), timeout=30)  # chunked: no length
    connection.request("POST", "/api/check", body=iter([big[:10_000], big[10_000:]]), encode_chunked=True,
                       headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    response = connection.getresponse()
    assert response.status == 413 and "error" in json.loads(response.read())
    connection.close()


def test_concurrent_clients_each_get_their_own_verdict(server):
    def ask(n: int) -> str:
        return server.post("/api/check", {**_D1, "answer": RIGHT if n % 2 else WRONG})[1]["verdict"]

    with ThreadPoolExecutor(20) as clients:
        verdicts = list(clients.map(ask, range(20)))
    assert verdicts == ["correct" if n % 2 else "incorrect" for n in range(20)]


def test_the_log_has_one_line_per_check_and_nothing_the_student_sent(server, log_file):
    server.post("/api/check", {**_D1, "answer": r"\sigma(x) - \sigma(x)^2 + 0 \cdot q_{secret}"})
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert lines and all(set(line) == {"time", "problem", "target", "verdict", "ms"} for line in lines)
    text = log_file.read_text()
    assert "secret" not in text and "127.0.0.1" not in text and r"\sigma" not in text
    assert {"problem": "sigmoid", "target": "d1", "verdict": "correct"}.items() <= lines[-1].items()


def test_the_rate_limit_answers_429_with_retry_after():
    limited = Server("--rate", "3", "--jobs", "1")
    try:
        statuses = [limited.post("/api/check", {"expected": "x", "answer": "x"})[0] for _ in range(3)]
        status, answer, headers = limited.post("/api/check", {"expected": "x", "answer": "x"})
        assert statuses == [200, 200, 200] and status == 429 and "error" in answer
        assert 1 <= int(headers["retry-after"]) <= 60
        assert limited.get("/api/problems")[0] == 200  # reading the list is not a check
    finally:
        limited.stop()


def test_it_listens_on_loopback_unless_told(server):
    assert server.host == "127.0.0.1"


def test_a_failure_inside_is_a_json_500_and_one_log_line(caplog):
    import asyncio

    from derive.web.app import Guard

    async def broken(scope, receive, send):
        raise KeyError("secret detail")

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/api/check", "headers": [], "client": ("10.0.0.1", 5)}
    asyncio.run(Guard(broken, rate=0)(scope, receive, send))
    assert sent[0]["status"] == 500 and json.loads(sent[1]["body"]) == {"error": "internal error"}
    records = [r.getMessage() for r in caplog.records if r.name == "derive.web"]
    assert len(records) == 1 and "\n" not in records[0] and "KeyError" in records[0]
    assert "secret" not in records[0] and "10.0.0.1" not in records[0]


@pytest.mark.parametrize("args, mentions", [(["--port", "http"], "--port"), (["--sheet", "no-such.toml"], "no-such"),
                                            (["--rate", "-1"], "--rate"), (["--host", "no such host"], "no such host"),
                                            (["--sheet", str(ROOT / "examples" / "teacher-catalog.toml")], "entry")])
def test_bad_options_are_one_line_errors(args, mentions):
    done = run_derive("serve", *args)
    assert_one_line_error(done.returncode, done.stderr, mentions=mentions)


def test_a_port_in_use_is_a_one_line_error():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        done = run_derive("serve", "--port", str(taken.getsockname()[1]))
    assert_one_line_error(done.returncode, done.stderr, mentions="cannot listen on 127.0.0.1")
