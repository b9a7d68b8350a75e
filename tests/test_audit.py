"""derive audit: the seeds' claims files and their findings, planted wrong claims, bad input, JSON.

The expected findings were checked by hand from the seed texts (shared/seeds); each claims file
says at each group of claims how (the products and sums written out). In short:

- 000 and 001 (the same sheet, as PDF text and as Markdown): 1.1's "≈ 6.4 x 10^9" is
  6,480,242,100 rounded down (6.5 x 10^9 to one decimal); 2.5 gives the average-pooling gradient
  (delta/K'^2 to every entry) under "max pooling", a swapped label; in 3.3 the memory figures are
  in K rounded down (150,528 -> "150 K", 802,816 -> "802 K", 200,704 -> "200 K", three times, and
  4 x 50,176 = 200,704 -> "200 K"), so the sums built from them are off: 4 x 200,704 = 802,816 is
  not "800 K" (802 K), 4 x 100,352 = 401,408 is not "400 K" (401 K), and the total 2,660,840 is not
  "≈ 2,653.5 K". Everything else (parameters, backprop numbers, derivatives, Xavier, PReLU) holds.
- 002: everything holds (27,000,100; 7,600; 296; 8,761,600; 55, 27, 13; 34,944; 614,656; ...).
- 003: the bottleneck module's total is 191,873,024, 191.9 M; the sheet adds its rounded parts
  (25.7 + 99.5 + 66.6) and writes 191.8 M, the exact total rounded down. Everything else holds,
  including fc6's receptive field 195 + 5 x 32 = 355.
- 004: the "simplified result" dL/dyhat = yhat - y is dL/dz (and dL/db): a swapped label.
"""

import json
from fractions import Fraction
from pathlib import Path

import pytest

from derive.architecture.arithmetic import analyse
from derive.audit import audit, read_claims
from derive.audit.claims import parse_matrix, parse_number
from derive.audit.judge import _near, _rounded_down, format_exact, sentences, value_only
from derive.catalog import architectures
from derive.check.pool import CheckPool
from derive.cli import cli

AUDITS = Path(__file__).parents[1] / "audits"
TIMEOUT = 20.0

MEMORY_ROUNDED_DOWN = ["3.3 INPUT memory", "3.3 CONV7-64 memory", "3.3 POOL memory", "3.3 conv2_x CONV3-64 memory",
                       "3.3 conv2_x CONV3-64 memory (2)", "3.3 conv4_x memory 累计"]
SHEET_000 = {"1.1 总参数量 ≈": "rounding", "2.5 假如是最大池化": "swapped-label",
             **dict.fromkeys(MEMORY_ROUNDED_DOWN, "rounding"),
             "3.3 conv2_x memory 累计": "arithmetic", "3.3 conv3_x memory 累计": "arithmetic",
             "3.3 TOTAL memory": "arithmetic"}
EXPECTED = {"000": SHEET_000, "001": SHEET_000, "002": {}, "003": {"二、3 b) 总共 (改进后)": "rounding"},
            "004": {"感知器 第2步 2. (简化结果)": "swapped-label"}}


@pytest.fixture(scope="module")
def pool():
    with CheckPool(1, TIMEOUT) as shared:
        yield shared


@pytest.fixture(scope="module")
def seeds(pool):
    return {seed: audit(read_claims(AUDITS / f"seed-{seed}.toml"), "en", TIMEOUT, pool) for seed in EXPECTED}


def run(capsys, *args):
    status = cli([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("seed", list(EXPECTED))
def test_each_seed_gives_its_expected_findings(seeds, seed):
    findings = seeds[seed]
    wheres = [f.claim.where for f in findings]
    assert len(wheres) == len(set(wheres)), "every claim's where is unique"
    assert len(findings) >= 20
    for finding in findings:
        reason = EXPECTED[seed].get(finding.claim.where)
        assert (finding.verdict, finding.reason) == (("agrees", None) if reason is None else ("disagrees", reason)), \
            (finding.claim.where, finding.reason, finding.detail)
    assert set(EXPECTED[seed]) <= set(wheres)


def test_the_findings_name_what_is_swapped_and_by_how_much(seeds):
    by_where = {f.claim.where: f for f in seeds["000"]}
    assert "average_error" in by_where["2.5 假如是最大池化"].detail
    assert "2,660,840" in by_where["3.3 TOTAL memory"].detail and "-7,340" in by_where["3.3 TOTAL memory"].detail
    assert "6.5 x 10^9" in by_where["1.1 总参数量 ≈"].detail
    assert "803 K" in by_where["3.3 CONV7-64 memory"].detail
    assert "191.9 M" in {f.claim.where: f for f in seeds["003"]}["二、3 b) 总共 (改进后)"].detail
    swapped = {f.claim.where: f for f in seeds["004"]}["感知器 第2步 2. (简化结果)"].detail
    assert "dl_dz" in swapped and "dl_db" in swapped


PLANTED = r"""
sheet = "planted.txt"
lang = "en"

[[claim]]
where = "wrong number"              # 8 is right (4 x 2 x 1 x 1)
example = "relu-chain"
quantity = "grad.w1"
claims = "9"

[[claim]]
where = "swapped number"            # 16 is dL/dw2
example = "relu-chain"
quantity = "grad.w1"
claims = "16"

[[claim]]
where = "swapped formula"           # the average pooling's gradient under max pooling
entry = "pool-backprop"
target = "max_error"
claims = '\frac{\delta^{(l)}}{Kp^2}'

[[claim]]
where = "other convention"          # the sheet's count, said to be torchvision's
network = "resnet18"
quantity = "params"
convention = "full"
claims = "11 506 880"

[[claim]]
where = "kink"                      # 1 at x = 0, where the catalog takes 0
entry = "relu"
target = "d1"
claims = '\begin{cases} 1 & x \geq 0 \\ 0 & x < 0 \end{cases}'

[[claim]]
where = "kink stated"
entry = "relu"
target = "d1"
convention = "kink:1"
claims = '\begin{cases} 1 & x \geq 0 \\ 0 & x < 0 \end{cases}'

[[claim]]
where = "slip"                      # sigma(1 + sigma)
entry = "sigmoid"
target = "d1"
claims = '\sigma(1+\sigma)'

[[claim]]
where = "xavier slip"               # the product n_in n_out for the sum
entry = "xavier"
target = "var"
claims = '\frac{2}{n_{in} n_{out}}'

[[claim]]
where = "xavier forward only"       # 1/n_in is forward_var (and a slip): the label explains it
entry = "xavier"
target = "var"
claims = '\frac{1}{n_{in}}'

[[claim]]
where = "wrong formula"
entry = "sigmoid"
target = "d1"
claims = '\sigma^2'

[[claim]]
where = "wrong left side"           # the value of dL/dyhat written as dL/dz
entry = "bce-sigmoid"
target = "dl_dyhat"
claims = '\frac{\partial L}{\partial z} = \frac{\hat{y} - y}{\hat{y}(1 - \hat{y})}'

[[claim]]
where = "rounded up"                # 11.51 M is not 11.6 M either way
network = "resnet18"
quantity = "params"
convention = "sheet"
claims = "≈ 11.6 M"

[[claim]]
where = "rounded down"
network = "resnet18"
quantity = "activations"
layer = "conv1"
convention = "sheet"
claims = "802 K"

[[claim]]
where = "wrong shape"               # MaxPool-1 is 27 x 27 x 96
network = "sheet002-q6"
quantity = "output_shape"
layer = "MaxPool-1"
claims = "27 x 27 x 256"

[[claim]]
where = "wrong matrix"              # entry (2, 2) is 160
example = "conv2d-4x4"
quantity = "output.p0s2"
claims = "[[160, 200], [320, 361]]"

[[claim]]
where = "input"
entry = "sigmoid"
target = "d1"
claims = '\input{/etc/passwd}'

[[claim]]
where = "write18"
entry = "sigmoid"
target = "d1"
claims = '\immediate\write18{rm -rf /}'

[[claim]]
where = "tower"
entry = "sigmoid"
target = "d1"
claims = '9^{9^{9^{9}}}'

[[claim]]
where = "factorial"
entry = "sigmoid"
target = "d1"
claims = '(10^{10})!'

[[claim]]
where = "right"
entry = "sigmoid"
target = "d1"
claims = '\sigma(x)(1 - \sigma(x))'
"""

PLANTED_REASONS = {"wrong number": "arithmetic", "swapped number": "swapped-label", "swapped formula": "swapped-label",
                   "other convention": "convention", "kink": "convention", "kink stated": None, "slip": "slip",
                   "xavier slip": "slip", "xavier forward only": "swapped-label", "wrong formula": "wrong", "wrong left side": "swapped-label",
                   "rounded up": "arithmetic", "rounded down": "rounding", "wrong shape": "swapped-label",
                   "wrong matrix": "arithmetic", "input": "unreadable", "write18": "unreadable", "tower": "unreadable",
                   "factorial": "unreadable", "right": None}


def test_planted_claims_get_exactly_their_reasons(pool, tmp_path):
    path = tmp_path / "planted.toml"
    path.write_text(PLANTED, encoding="utf-8")
    findings = audit(read_claims(path), "en", TIMEOUT, pool)
    assert {f.claim.where: f.reason for f in findings} == PLANTED_REASONS
    for finding in findings:  # never a false "agrees"
        assert (finding.verdict == "agrees") == (PLANTED_REASONS[finding.claim.where] is None)
    details = {f.claim.where: f.detail for f in findings}
    assert "sheet convention" in details["other convention"] and "grad.w2" in details["swapped number"]
    assert "not the product n_in n_out" in details["xavier slip"]
    assert "forward_var" in details["xavier forward only"] and "n_in alone" in details["xavier forward only"]
    assert "(2, 2): 361 / 360" in details["wrong matrix"] and "Conv-2" in details["wrong shape"]


def test_planted_claims_in_chinese(pool, tmp_path):
    path = tmp_path / "planted.toml"
    path.write_text(PLANTED, encoding="utf-8")
    findings = audit(read_claims(path), "zh", TIMEOUT, pool)
    assert {f.claim.where: f.reason for f in findings} == PLANTED_REASONS
    assert "符号" in {f.claim.where: f.detail for f in findings}["slip"]  # the checker's own zh slip wording


NETWORK_ONLY = """
sheet = "n.txt"
title = "networks only"
lang = "zh"
[[claim]]
where = "q5"
network = "sheet002-q5-fc"
quantity = "params"
claims = "27,000,100"
[[claim]]
where = "bytes"
network = "resnet18"
convention = "sheet"
quantity = "activation_bytes"
claims = "≈ 10.6 MB"
"""


def test_cli_text_json_and_output_file(capsys, tmp_path):
    path = tmp_path / "n.toml"
    path.write_text(NETWORK_ONLY, encoding="utf-8")
    status, out, err = run(capsys, "audit", path)
    assert status == 0 and not err
    assert out.startswith("审核 n.txt — networks only\n共 2 条：2 条一致，0 条不一致")
    status, out, _ = run(capsys, "audit", path, "--lang", "en", "--json")
    document = json.loads(out)
    assert status == 0 and set(document) == {"sheet", "title", "claims", "agree", "disagree"}
    assert (document["sheet"], document["agree"], document["disagree"]) == ("n.txt", 2, 0)
    assert set(document["claims"][0]) == {"where", "quantity", "claims", "computed", "verdict", "reason", "detail"}
    assert document["claims"][1]["computed"] == "10,643,360" and document["claims"][1]["reason"] is None
    report = tmp_path / "report.txt"
    status, out, _ = run(capsys, "audit", path, "--lang", "en", "-o", report)
    assert status == 0 and not out and report.read_text(encoding="utf-8").startswith("Audit of n.txt")
    path.write_text(NETWORK_ONLY.replace("27,000,100", "27,000,001"), encoding="utf-8")
    status, out, _ = run(capsys, "audit", path, "--lang", "en")
    assert status == 1 and "DISAGREES" in out and "arithmetic: off by -99 from the exact 27,000,100" in out


def test_cli_on_a_shipped_seed(capsys):
    status, out, err = run(capsys, "audit", AUDITS / "seed-002.toml", "--json")
    document = json.loads(out)
    assert status == 0 and not err and document["disagree"] == 0 and document["agree"] == len(document["claims"])


CLAIM = 'sheet = "s"\n[[claim]]\nwhere = "w1"\n'


@pytest.mark.parametrize("text, message", [
    ("a = [", "TOML syntax"),
    ('sheet = "s"\nfoo = 1\n', "unknown key 'foo'"),
    ('sheet = "s"\n', "no [[claim]] tables"),
    ('sheet = "s"\nlang = "fr"\n[[claim]]\n', "'lang' must be"),
    (CLAIM + 'entry = "sigmoid"\ntarget = "d9"\nclaims = "1"\n', "claim 1 (where = 'w1'): 'sigmoid' has no target 'd9'"),
    (CLAIM + 'entry = "sigmod"\ntarget = "d1"\nclaims = "1"\n', "did you mean 'sigmoid'"),
    (CLAIM + 'network = "resnet81"\nquantity = "params"\nclaims = "1"\n', "unknown network 'resnet81'"),
    (CLAIM + 'network = "resnet18"\nquantity = "flops"\nclaims = "1"\n', "unknown quantity 'flops'"),
    (CLAIM + 'network = "resnet18"\nquantity = "params"\nconvention = "odd"\nclaims = "1"\n', "unknown convention 'odd'"),
    (CLAIM + 'network = "resnet18"\nquantity = "params"\nlayer = "conv9"\nclaims = "1"\n', "no layer matching 'conv9'"),
    (CLAIM + 'network = "../x.toml"\nquantity = "params"\nclaims = "1"\n', "must be a file name"),
    (CLAIM + 'network = "resnet18"\nquantity = "params"\nclaims = "\\\\input{/etc/passwd}"\n', "cannot be read as a number"),
    (CLAIM + 'network = "resnet18"\nquantity = "params"\nclaims = "1e99999"\n', "cannot be read as a number"),
    (CLAIM + 'network = "resnet18"\nquantity = "params"\nclaims = "' + "9" * 3000 + '"\n', "at most 2000"),
    (CLAIM + 'example = "relu-chian"\nquantity = "z"\nclaims = "3"\n', "unknown example 'relu-chian'"),
    (CLAIM + 'example = "relu-chain"\nquantity = "grad.w9"\nclaims = "3"\n', "has no quantity 'grad.w9'"),
    (CLAIM + 'entry = "sigmoid"\nnetwork = "resnet18"\ntarget = "d1"\nclaims = "1"\n', "exactly one of"),
    (CLAIM + 'entry = "sigmoid"\ntarget = "d1"\napprox = true\nclaims = "1"\n', "'approx' does not apply"),
    (CLAIM + 'entry = "sigmoid"\ntarget = "d1"\nclaims = "\\u202e1"\n', "control character U+202E"),
    (CLAIM + 'entry = "sigmoid"\ntarget = "d1"\nclaims = true\n', "'claims' must be"),
    (CLAIM + 'entry = "sigmoid"\ntarget = "d1"\nsteps = 3\nclaims = "1"\n', "unknown key 'steps'"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    status, out, err = run(capsys, "audit", path)
    assert status == 2 and not out
    assert err.count("\n") == 1 and err.startswith(f"derive: error: {path}") and message in err, err


def test_missing_file_and_bad_options(capsys, tmp_path):
    status, _, err = run(capsys, "audit", tmp_path / "none.toml")
    assert status == 2 and err.count("\n") == 1 and "no such file" in err
    status, _, err = run(capsys, "audit", AUDITS / "seed-002.toml", "--timeout", "0")
    assert status == 2 and "--timeout" in err


def test_numbers_as_sheets_write_them():
    assert parse_number("6, 400, 040, 000").value == 6_400_040_000
    assert parse_number(r"2\,359\,296").value == parse_number("2 359 296").value == 2_359_296
    assert parse_number(r"9 \text{ 408}").value == 9408 and parse_number(r"36 \ 864").value == 36864
    number = parse_number(r"\approx 2\,653.5\text{ K}")
    assert number.value == 2_653_500 and number.unit == 100
    assert parse_number(r"6.4 \times 10^9").unit == 10**8 and parse_number("77.5%").value == Fraction(31, 40)
    assert parse_number("10.6 MB").value == 10_600_000 and parse_number("0.3212", approx=True).unit == Fraction(1, 10**4)
    assert parse_number("-0.226").value == Fraction(-113, 500) and parse_number("-0.226").unit is None
    for bad in ("1e99999", "1+1", "__import__('os')", "12 34", "", "K"):
        with pytest.raises(ValueError):
            parse_number(bad)
    assert parse_matrix(r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}") == parse_matrix("[[1, 2], [3, 4]]")


def test_rounding_rules():
    # 802,816 shown as "802 K": not the nearest (803 K), but the exact value rounded down.
    assert not _near(parse_number("802 K"), Fraction(802_816)) and _rounded_down(parse_number("802 K"), Fraction(802_816))
    assert _near(parse_number("100 K"), Fraction(100_352)) and _near(parse_number("≈ 11.5 M"), Fraction(11_506_880))
    assert not _rounded_down(parse_number("≈ 2 653.5 K"), Fraction(2_660_840))
    assert not _near(parse_number("8"), Fraction(80001, 10000))  # exact claims are exact
    assert format_exact(Fraction(-113, 500)) == "-0.226" and format_exact(Fraction(6_480_242_100)) == "6,480,242,100"
    assert format_exact(Fraction(1, 3)).startswith("1/3 (≈ 0.333")


def test_value_only_keeps_equals_signs_inside_groups():
    assert value_only(r"\frac{\partial L}{\partial w} = a = (b - c)") == "(b - c)"
    assert value_only(r"\begin{cases} 1 & k = i \\ 0 & k \neq i \end{cases}") == \
        r"\begin{cases} 1 & k = i \\ 0 & k \neq i \end{cases}"


def test_a_fully_connected_layer_after_a_map_sees_all_of_it():
    # Sheet 003, question 6: fc6 takes pool5's 6 x 6 map, so 195 + (6 - 1) x 32 = 355.
    rows = {r.name: r for r in analyse(architectures.builtin("alexnet")).rows}
    assert (rows["pool5"].receptive_field, rows["flatten1"].receptive_field, rows["fc6"].receptive_field,
            rows["fc8"].receptive_field) == (195, 195, 355, 355)
    # After global average pooling (ResNet) there is nothing more to see.
    rows = {r.name: r for r in analyse(architectures.builtin("resnet18")).rows}
    assert rows["fc"].receptive_field == rows["avgpool"].receptive_field


@pytest.mark.parametrize(("lang", "detail"), [
    # the swapped label's sentence, then the slip's, each ending with its full stop (they ran together:
    # "... xavier's forward_var, not var Xavier uses both ...")
    ("en", r"this is \frac{1}{n_{in}}: xavier's forward_var, not var. Xavier uses both n_in and n_out"),
    ("zh", r"这是 \frac{1}{n_{in}}，即 xavier 的 forward_var，不是 var。"),
])
def test_a_swapped_label_and_its_slip_are_two_sentences(capsys, tmp_path, lang, detail):
    path = tmp_path / "x.toml"
    path.write_text(f'sheet = "x.txt"\nlang = "{lang}"\n[[claim]]\nwhere = "1"\nentry = "xavier"\n'
                    'target = "var"\nclaims = "\\\\frac{1}{n_{in}}"\n', encoding="utf-8")
    status, out, err = run(capsys, "audit", path, "--json")
    (claim,) = json.loads(out)["claims"]
    assert status == 1 and not err and claim["reason"] == "swapped-label", claim
    assert claim["detail"].startswith(detail), claim["detail"]


@pytest.mark.parametrize(("parts", "lang", "joined"), [
    (["this is a: b, not c", "Xavier uses both."], "en", "this is a: b, not c. Xavier uses both."),
    (["one.", "two"], "en", "one. two"),
    (["this is a: b, not c", None], "en", "this is a: b, not c"),
    (["", "only"], "en", "only"),
    (["这是 a，不是 c", "只用了 n_in。"], "zh", "这是 a，不是 c。只用了 n_in。"),
    ([], "en", ""),
])
def test_reasons_are_joined_as_sentences(parts, lang, joined):
    assert sentences(parts, lang) == joined
