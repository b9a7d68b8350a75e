"""Hostile inputs against the size and time limits (issue 13, point 6), as tables.

Every documented limit (derive/limits.py, the manual's table of limits, docs/reference/limits.md) has a row just over it,
refused before any work with one line naming the limit and the value (exit status 2), and,
where a command can run there in a few seconds, a row at it that works. The inputs that used
to hang or run for minutes (20,000 layers, steps = 10^9, exp(exp(exp(100))), padding 10^9,
/dev/zero as an input file, 5,000 nested arrays, a slow line or claim) are rows too. Each table
runs in one fresh process under a time limit (``run_table``), so a regression fails instead of
hanging the test run. Nothing here measures time: a stopped check is recognised by its verdicts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hostile import ROOT, assert_one_line_error, run_table, write

from derive import limits
from derive.architecture.spec import network_from
from derive.errors import UsageError
from derive.files import read_toml
from derive.simulate import parse_config

REFUSED, WORKS = "refused", "works"


# -- spec builders ------------------------------------------------------------------------------------
def _net(layers: str, input_shape=(8, 8, 1)) -> str:
    return f"name = \"n\"\ninput = {list(input_shape)}\nrounding = \"floor\"\n{layers}"


def _relus(count: int) -> str:
    return "[[layer]]\ntype = \"relu\"\n" * count


def _residuals(depth: int) -> str:
    """A residual whose main path is a residual ..., ``depth`` deep (2 TOML levels each), around
    a concat of one relu: 3 + 2 depth + 3 levels in all."""
    inner = '{ type = "concat", branches = [[{ type = "relu" }]] }'
    for _ in range(depth):
        inner = f'{{ type = "residual", main = [{inner}] }}'
    return f"layer = [{inner}]\n"


def _backprop(nodes: dict, inputs: dict | None = None, params: dict | None = None, steps: int = 0,
              samples: list | None = None, loss: str = "L") -> str:
    lines = [f"loss = {json.dumps(loss)}", f"steps = {steps}", "[inputs]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in (inputs or {"x": 1}).items()]
    lines += ["[params]"] + [f"{k} = {json.dumps(v)}" for k, v in (params if params is not None else {"w": 1}).items()]
    lines += ["[nodes]"] + [f"{k} = {json.dumps(v)}" for k, v in nodes.items()]
    for sample in samples or []:
        lines += ["[[sample]]"] + [f"{k} = {json.dumps(v)}" for k, v in sample.items()]
    return "\n".join(lines) + "\n"


def _matrix(rows: int, cols: int) -> str:
    return json.dumps([[(i + j) % 3 for j in range(cols)] for i in range(rows)])


def _claims(count: int) -> str:
    claim = '[[claim]]\nwhere = "c{n}"\nnetwork = "resnet18"\nquantity = "params"\nclaims = "11 689 512"\n'
    return 'sheet = "x.txt"\nlang = "en"\n' + "".join(claim.format(n=n) for n in range(count))


SIGMOID_DERIVATION = "\\sigma'(x) = \\frac{e^{-x}}{(1+e^{-x})^2}\n= \\sigma(x)(1-\\sigma(x))\n"


def _rows(folder: Path) -> dict[str, tuple[list[str], str, str]]:
    """Row id -> (command line, REFUSED or WORKS, the limit key or a fragment the output must hold)."""
    f = lambda name, text: write(folder / name, text)  # noqa: E731
    padded = _net(_relus(1))
    padded += "#" * (limits.value("file.bytes") - len(padded.encode()) - 1) + "\n"
    derivation = f("sigmoid.tex", SIGMOID_DERIVATION)
    claims_at = f("claims-at.toml", _claims(limits.value("audit.claims")))
    return {
        # files: size and nesting
        "file.bytes over": (["net", f("big.toml", padded + "#\n")], REFUSED, "file.bytes"),
        "file.bytes at": (["net", f("full.toml", padded), "--json"], WORKS, '"params"'),
        "file.depth 5000 arrays": (["net", f("deep.toml", "x = " + "[" * 5000 + "]" * 5000 + "\n")],
                                   REFUSED, "file.depth"),
        "file.depth over": (["net", f("deep34.toml", _net(_residuals(14)))], REFUSED, "file.depth"),
        "file.depth at (13 nested residuals)": (["net", f("deep32.toml", _net(_residuals(13))), "--json"], WORKS,
                                                 '"residual'),
        "dev/zero as a backprop spec": (["backprop", "/dev/zero"], REFUSED, "not a regular file"),
        "dev/zero as a sheet spec": (["sheet", "/dev/zero"], REFUSED, "not a regular file"),
        "dev/zero as a claims file": (["audit", "/dev/zero"], REFUSED, "not a regular file"),
        "a 5000-digit integer in a spec": (["net", f("digits.toml", _net(_relus(1)) + f"x = {'9' * 5000}\n")],
                                           REFUSED, "too many digits"),
        # net
        "net.layers 20,000": (["net", f("l20000.toml", _net(_relus(20_000)))], REFUSED, "net.layers"),
        "net.layers over": (["net", f("l2001.toml", _net(_relus(2_001)))], REFUSED, "net.layers"),
        "net.layers over, nested": (["net", f("nested.toml", _net(
            '[[layer]]\ntype = "residual"\nmain = [{ type = "relu" }]\n' * 1_001))], REFUSED, "net.layers"),
        "net.size over": (["net", f("wide.toml", _net(_relus(1), (10_000_001, 1, 1)))], REFUSED, "net.size"),
        "net.size over, a layer": (["net", f("out.toml", _net('[[layer]]\ntype = "linear"\nout = 10000001\n'))],
                                   REFUSED, "net.size"),
        "net.size over, --input": (["net", "resnet18", "--input", "224x224x" + "9" * 5000], REFUSED, "net.size"),
        "net.size at": (["net", f("side.toml", _net('[[layer]]\ntype = "gap"\n', (10_000_000, 1, 1))), "--json"],
                        WORKS, "10000000"),
        # backprop: counts
        "backprop.inputs over": (["backprop", f("i201.toml", _backprop(
            {"L": "w*x0"}, {f"x{n}": 1 for n in range(201)}))], REFUSED, "backprop.inputs"),
        "backprop.inputs at": (["backprop", f("i200.toml", _backprop(
            {"L": "w*x0"}, {f"x{n}": 1 for n in range(200)})), "--json"], WORKS, '"L"'),
        "backprop.params over": (["backprop", f("p201.toml", _backprop(
            {"L": "w0*x"}, params={f"w{n}": 1 for n in range(201)}))], REFUSED, "backprop.params"),
        "backprop.params at": (["backprop", f("p200.toml", _backprop(
            {"L": "w0*x"}, params={f"w{n}": 1 for n in range(200)})), "--json"], WORKS, '"w199"'),
        "backprop.nodes over": (["backprop", f("n201.toml", _backprop(
            {"n0": "w*x", **{f"n{k}": f"n{k - 1}" for k in range(1, 200)}, "L": "n199"}))], REFUSED,
            "backprop.nodes"),
        "backprop.nodes at": (["backprop", f("n200.toml", _backprop(
            {"n0": "w*x", **{f"n{k}": f"n{k - 1}" for k in range(1, 199)}, "L": "n198"})), "--json"], WORKS,
            '"n198"'),
        "backprop.expression over": (["backprop", f("e1001.toml", _backprop(
            {"L": "w" + " + w" * 250}))], REFUSED, "backprop.expression"),
        "backprop.expression at": (["backprop", f("e1000.toml", _backprop(
            {"L": "w" + " + w" * 249 + "   "})), "--json"], WORKS, '"250"'),
        "backprop.samples 20,000": (["backprop", f("s20000.toml", _backprop(
            {"L": "2"}, params={}, samples=[{"x": n % 7} for n in range(20_000)]))], REFUSED, "backprop.samples"),
        "backprop.samples over": (["backprop", f("s1001.toml", _backprop(
            {"L": "2"}, params={}, samples=[{"x": n % 7} for n in range(1_001)]))], REFUSED, "backprop.samples"),
        "backprop.samples at": (["backprop", f("s1000.toml", _backprop(  # work (1 + 1 parameter) x 1,000
            {"L": "2"}, samples=[{"x": n % 7} for n in range(1_000)])), "--json"], WORKS, '"L"'),
        "backprop.steps 10^9": (["backprop", f("t1e9.toml", _backprop({"L": "w*x"}, steps=10**9))], REFUSED,
                                "backprop.steps"),
        "backprop.steps over": (["backprop", f("t101.toml", _backprop({"L": "w*x"}, steps=101))], REFUSED,
                                "backprop.steps"),
        "backprop.steps at": (["backprop", f("t100.toml", _backprop({"L": "w - x"}, steps=100)), "--json"], WORKS,
                              '"loss_after"'),
        # L = w*x: (1 node + 2 operands + 1 parameter) x samples x (steps + 1)
        "backprop.work over": (["backprop", f("w2008.toml", _backprop(
            {"L": "w*x"}, steps=1, samples=[{"x": n % 5} for n in range(251)]))], REFUSED, "backprop.work"),
        "backprop.work at": (["backprop", f("w2000.toml", _backprop(
            {"L": "w*x"}, steps=1, samples=[{"x": n % 5} for n in range(250)])), "--json"], WORKS, '"loss_after"'),
        # backprop: exact values
        "backprop.digits over": (["backprop", f("d1001.toml", _backprop({"L": "x^1000*w"}, {"x": "0.1"}))],
                                 REFUSED, "backprop.digits"),      # 1/10^1000: a denominator of 1,001 digits
        "backprop.digits at": (["backprop", f("d1000.toml", _backprop({"L": "x^999*w"}, {"x": "0.1"})), "--json"],
                               WORKS, '"1/1' + "0" * 999 + '"'),
        "backprop.digits, x^1000000000": (["backprop", f("pow.toml", _backprop({"L": "(w + x)^1000000000"}))],
                                          REFUSED, "backprop.digits"),
        "backprop.magnitude exp(exp(exp(100)))": (["backprop", f("eee.toml", _backprop(
            {"y": "w*x", "L": "exp(exp(exp(100)))*y"}))], REFUSED, "backprop.magnitude"),
        "backprop.magnitude over": (["backprop", f("m691.toml", _backprop({"L": "exp(691)*w"}))], REFUSED,
                                    "backprop.magnitude"),
        "backprop.magnitude at": (["backprop", f("m690.toml", _backprop({"L": "exp(690)*w"})), "--json"], WORKS,
                                  '"L"'),
        "backprop.terms over": (["backprop", f("terms.toml", _backprop(
            {"h": "sigmoid(w*x)", "L": "mse(h, x)"}, {"x": 0.5}, {"w": 0.25}, steps=8))], REFUSED, "backprop.terms"),
        # conv2d
        "conv2d 100x100 image": (["conv2d", "--image", _matrix(100, 100), "--kernel", "[[1]]"], REFUSED,
                                 "conv2d.image"),
        "conv2d.image over": (["conv2d", "--image", _matrix(65, 1), "--kernel", "[[1]]"], REFUSED, "conv2d.image"),
        "conv2d.image at": (["conv2d", "--image", _matrix(64, 64), "--kernel", _matrix(64, 64), "--json"], WORKS,
                            '"output"'),
        "conv2d.kernel over": (["conv2d", "--image", "[[1]]", "--kernel", _matrix(1, 65)], REFUSED, "conv2d.kernel"),
        "conv2d.padding 300": (["conv2d", "--image", "[[1]]", "--kernel", "[[1]]", "--padding", "300"], REFUSED,
                               "conv2d.padding"),
        "conv2d.padding 10^9": (["conv2d", "--image", "[[1]]", "--kernel", "[[1]]", "--padding", "1000000000"],
                                REFUSED, "conv2d.padding"),
        "conv2d.padding over": (["conv2d", "--image", "[[1]]", "--kernel", "[[1]]", "--padding", "65"], REFUSED,
                                "conv2d.padding"),
        "conv2d.padding and stride at": (["conv2d", "--image", "[[1]]", "--kernel", _matrix(40, 40), "--padding",
                                          "64", "--stride", "64", "--json"], WORKS, '"stride": 64'),
        "conv2d.stride over": (["conv2d", "--image", "[[1]]", "--kernel", "[[1]]", "--stride", "65"], REFUSED,
                               "conv2d.stride"),
        "conv2d.outputs over": (["conv2d", "--image", _matrix(33, 33), "--kernel", "[[1]]"], REFUSED,
                                "conv2d.outputs"),
        "conv2d.outputs at": (["conv2d", "--image", _matrix(32, 32), "--kernel", "[[1]]", "--json"], WORKS,
                              '"output"'),
        "conv2d.products over": (["conv2d", "--image", _matrix(25, 25), "--kernel", _matrix(5, 5)], REFUSED,
                                 "conv2d.products"),
        "conv2d.products at": (["conv2d", "--image", _matrix(24, 24), "--kernel", _matrix(5, 5), "--json"], WORKS,
                               '"output"'),
        "conv2d nested 100,000 deep": (["conv2d", "--image", "[" * 100_000, "--kernel", "[[1]]"], REFUSED,
                                       "must be rows of numbers"),
        # simulate (the runs at the limits take seconds to minutes: their options are checked below)
        "simulate.depth over": (["simulate", "--act", "relu", "--init", "xavier", "--depth", "1001"], REFUSED,
                                "simulate.depth"),
        "simulate.width over": (["simulate", "--act", "relu", "--init", "xavier", "--width", "16385"], REFUSED,
                                "simulate.width"),
        "simulate.batch over": (["simulate", "--act", "relu", "--init", "xavier", "--batch", str(2**28 + 1)],
                                REFUSED, "simulate.batch"),
        "simulate.weights over": (["simulate", "--act", "relu", "--init", "xavier", "--depth", "513"], REFUSED,
                                  "simulate.weights"),
        "simulate.inputs over": (["simulate", "--act", "relu", "--init", "xavier", "--depth", "1", "--batch",
                                  str(2**19 + 1)], REFUSED, "simulate.inputs"),
        "simulate.work over": (["simulate", "--act", "relu", "--init", "xavier", "--depth", "32", "--batch", "4097"],
                               REFUSED, "simulate.work"),
        # check-steps
        "check-steps.bytes over": (["check-steps", "sigmoid", "--file", f("big.tex", "x" * 100_001)], REFUSED,
                                   "check-steps.bytes"),
        "check-steps.bytes /dev/zero": (["check-steps", "sigmoid", "--file", "/dev/zero"], REFUSED,
                                        "check-steps.bytes"),
        "check-steps.bytes at (then 20,000 characters)": (["check-steps", "sigmoid", "--file", f(
            "full.tex", "x" * 100_000)], REFUSED, "at most 20,000 (limit check-steps.characters)"),
        # audit
        "audit.claims over": (["audit", f("claims-over.toml", _claims(limits.value("audit.claims") + 1))], REFUSED,
                              "audit.claims"),
        "audit.claims at": (["audit", claims_at, "--json"], WORKS, '"agree": 1000'),
        **_time_rows({"check-steps": (["check-steps", "sigmoid", "--file", derivation], "final result is right"),
                      "audit": (["audit", claims_at, "--json"], '"agree": 1000')}),
    }


def _time_rows(commands: dict[str, tuple[list[str], str]]) -> dict[str, tuple[list[str], str, str]]:
    """--timeout and --budget of each command: over the limit, not a number of seconds in range
    (nan, inf, 0, negative), and at the limit (the command works: its output holds the text given)."""
    rows = {}
    for command, (line, works) in commands.items():
        for option in ("timeout", "budget"):
            key = f"{command}.{option}"
            for given in (f"{limits.value(key) + 0.5:g}", "nan", "inf", "0", "-1"):
                rows[f"{key} {given}"] = ([*line, f"--{option}", given], REFUSED, key)
            rows[f"{key} at"] = ([*line, f"--{option}", f"{limits.value(key):g}"], WORKS, works)
    return rows


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """Every row's command line and its outcome, run in one process."""
    rows = _rows(tmp_path_factory.mktemp("limits"))
    return rows, run_table({key: args for key, (args, _, _) in rows.items()}, timeout=600)


def _row_ids() -> list[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return list(_rows(Path(folder)))


@pytest.mark.parametrize("row", _row_ids())
def test_limit_row(table, row):
    """Just over a limit: one line naming the limit and the value, exit 2; at it: the command works."""
    rows, results = table
    _, outcome, expected = rows[row]
    status, out, err = results[row]
    if outcome == REFUSED:
        named = expected in limits.LIMITS
        assert_one_line_error(status, err, 2, f"(limit {expected})" if named else expected)
        if named:  # the value, then the limit's value
            assert re.search(r": [^;]*(\d|nan|inf)[^;]*; at most [\d,.]+ \(limit", err), err
    else:
        assert status in (0, 1) and "Traceback" not in err, (status, err)
        assert expected in out, out[-500:]


# -- at the limits, where a whole run takes too long for a test: the options are accepted --------------
@pytest.mark.parametrize("depth, width, batch", [
    (limits.value("simulate.depth"), 1, 1),
    (512, 512, 1),                                   # exactly 2^27 weights
    (1, 16, 2**24),                                  # exactly 2^28 inputs
    (32, 512, 4096),                                 # exactly 2^35 multiply-accumulates
])
def test_simulate_options_at_the_limits_are_accepted(depth, width, batch):
    """At the limits the options are accepted (the runs take seconds to minutes: docs/benchmarks.md measures them)."""
    config = parse_config("relu", "xavier", depth, width, batch)
    assert (config.depth, config.width, config.batch) == (depth, width, batch)
    assert depth * width**2 <= limits.value("simulate.weights") and batch * width <= limits.value("simulate.inputs")


def test_network_of_2000_layers_nested_included_is_accepted():
    """2,000 layers, half of them inside residual blocks: at the limit, built (the run is measured in docs/benchmarks.md)."""
    layers = [{"type": "residual", "main": [{"type": "relu"}]}] * 1_000
    network = network_from({"name": "n", "input": [4, 4, 1], "layer": layers}, "n")
    assert len(network.layers) == 1_000 and all(len(layer.paths[0]) == 1 for layer in network.layers)
    with pytest.raises(UsageError, match=r"2,001; at most 2,000 \(limit net.layers\)"):
        network_from({"name": "n", "input": [4, 4, 1], "layer": [*layers, {"type": "relu"}]}, "n")


@pytest.mark.parametrize("arrays, refused", [(limits.value("file.depth") - 1, False),
                                             (limits.value("file.depth"), True)])
def test_toml_nesting_at_and_over_the_limit(tmp_path, arrays, refused):
    """The table itself is one level: 31 nested arrays inside it make 32 levels."""
    path = tmp_path / "nested.toml"
    path.write_text("x = " + "[" * arrays + "1" + "]" * arrays + "\n", encoding="utf-8")
    if refused:
        with pytest.raises(UsageError, match=r"33 or more levels; at most 32 \(limit file.depth\)"):
            read_toml(path)
    else:
        value = read_toml(path)["x"]
        for _ in range(arrays):
            value = value[0]
        assert value == 1


# -- time limits that stop a check part way: the lines and claims judged so far are kept -----------------
@pytest.fixture(scope="module")
def stopped(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stopped")
    derivation = write(folder / "sigmoid.tex", SIGMOID_DERIVATION)
    slow_claims = 'sheet = "x.txt"\nlang = "en"\n' + "".join(
        f'[[claim]]\nwhere = "q{n}"\nentry = "sigmoid"\ntarget = "d1"\nclaims = \'\\sigma(x)(1-\\sigma(x)) + {n}\'\n'
        for n in range(12))
    rows = {
        "line": ["check-steps", "sigmoid", "--file", derivation, "--timeout", "0.001", "--json"],
        "budget": ["check-steps", "sigmoid", "--file", derivation, "--budget", "0.001", "--json"],
        "audit": ["audit", write(folder / "twelve.toml", slow_claims), "--budget", "0.001", "--json"],
    }
    return run_table(rows, timeout=300)


def test_a_line_over_its_limit_stops_the_check_and_later_lines_are_undecided(stopped):
    status, out, err = stopped["line"]
    report = json.loads(out)
    assert status == 1 and not err
    assert [line["verdict"] for line in report["lines"]] == ["undecided", "undecided"]
    assert "took longer than 0.001 s" in report["lines"][0]["feedback"]
    assert "stopped before this line" in report["lines"][1]["feedback"]
    assert report["final"] == {"target": None, "verdict": "undecided"}


def test_a_spent_file_budget_stops_check_steps(stopped):
    status, out, _ = stopped["budget"]
    report = json.loads(out)
    assert status == 1 and report["lines"][0]["verdict"] == "undecided"
    assert "time budget of 0.001 s" in report["lines"][0]["feedback"]


def test_a_spent_file_budget_leaves_the_remaining_claims_undecided(stopped):
    status, out, _ = stopped["audit"]
    report = json.loads(out)
    assert status == 1 and len(report["claims"]) == 12
    assert all(c["verdict"] == "disagrees" and c["reason"] == "undecided" for c in report["claims"])
    assert all("time budget of 0.001 s" in c["detail"] for c in report["claims"])


# -- the table of limits is the manual's ---------------------------------------------------------------
def test_every_limit_is_documented_in_the_manual():
    page = (ROOT / "docs" / "reference" / "limits.md").read_text(encoding="utf-8")
    assert limits.markdown_table() in page, "docs/reference/limits.md's table differs from derive/limits.py"
