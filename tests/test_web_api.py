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
    running = Server("--rate", "0", "--jobs", "2", "--timeout", "3", "--log", str(log_file), "--sheet", str(SHEET),
                     "--sheet", str(WORKED), cwd=folder)
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
