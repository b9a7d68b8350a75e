"""TeX injection: every user string that can reach a .tex, from every command, with every attack.

Each row puts one attack (tests/hostile.TEX_ATTACKS) into one user-controlled field and runs the
command as a user would. A field that is free text must come out escaped (no raw command in the
.tex of ``--pdf`` nor in ``--latex``); a field that must be a name or a number is refused with one
line and nothing is written. A few rows build the PDF for real, with ``\\input`` aimed at a file
holding a unique marker, and read it back: the marker never appears.
"""

import uuid
from pathlib import Path

import pytest
from hostile import (TEX_ATTACKS, assert_no_raw_tex, assert_one_line_error, backprop_spec, net_spec, run_cli,
                     sheet_spec, toml_string, write)
from test_pdf import needs_tex, text_of

from derive import pdf

ATTACK_IDS = ["input", "immediate-write18", "write18", "catcode", "hat-hat", "newline-input"]


def _no_tex(monkeypatch) -> None:
    """``--pdf`` writes its .tex and stops (exit 1) where it would start TeX."""
    monkeypatch.setattr(pdf, "tex_available", lambda: False)


def _all_tex(folder) -> str:
    files = sorted(folder.glob("*.tex"))
    assert files, f"no .tex written in {folder}"
    return "".join(path.read_text(encoding="utf-8") for path in files)


# Free-text fields: printed, escaped. (command, field)
ESCAPED = [("net", "name"), ("net", "title"), ("net", "layer"), ("backprop", "name"), ("backprop", "title")]


@pytest.mark.parametrize("attack", TEX_ATTACKS, ids=ATTACK_IDS)
@pytest.mark.parametrize("command, field", ESCAPED, ids=[f"{c}-{f}" for c, f in ESCAPED])
def test_free_text_of_a_spec_is_escaped_in_latex_and_pdf_source(tmp_path, capsys, monkeypatch, command, field,
                                                                attack):
    spec = tmp_path / "spec.toml"
    spec.write_text((net_spec if command == "net" else backprop_spec)(**{field: attack}), encoding="utf-8")
    status, out, err = run_cli(capsys, command, str(spec), "--latex")
    assert status == 0, err
    assert_no_raw_tex(out)
    _no_tex(monkeypatch)
    status, _, err = run_cli(capsys, command, str(spec), "--pdf", "-o", str(tmp_path / "out"))
    assert_one_line_error(status, err, expected_status=1, mentions="no TeX found")
    assert_no_raw_tex(_all_tex(tmp_path / "out"))
    assert [p.parent for p in tmp_path.rglob("*.tex")] == [tmp_path / "out"]


SHEET_FIELDS = ["title", "course", "date", "statement", "network-name", "network-title", "network-layer",
                "backprop-name", "backprop-title"]


@pytest.mark.parametrize("attack", TEX_ATTACKS, ids=ATTACK_IDS)
@pytest.mark.parametrize("field", SHEET_FIELDS)
def test_every_sheet_string_is_escaped_in_handout_key_and_formulas(tmp_path, capsys, field, attack):
    source, _, key = field.partition("-")
    if source == "network":
        (tmp_path / "net.toml").write_text(net_spec(**{key: attack}), encoding="utf-8")
        spec = sheet_spec(extra="[[problem]]\nnetwork = \"net.toml\"\n")
    elif source == "backprop":
        (tmp_path / "bp.toml").write_text(backprop_spec(**{key: attack}), encoding="utf-8")
        spec = sheet_spec(extra="[[problem]]\nbackprop = \"bp.toml\"\n")
    else:
        spec = sheet_spec(**{field: attack})
    (tmp_path / "sheet.toml").write_text(spec, encoding="utf-8")
    out = tmp_path / "out"
    status, _, err = run_cli(capsys, "sheet", str(tmp_path / "sheet.toml"), "--formulas", "-o", str(out))
    assert status == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["sheet-formulas.tex", "sheet-key.tex", "sheet.tex"]
    assert_no_raw_tex(_all_tex(tmp_path / "out"))


# Fields that are names or numbers: refused with one line, nothing written.
def _refused_backprop(field):
    return lambda tmp_path, attack: [
        "backprop", write(tmp_path / "bp.toml", backprop_spec(**{field: attack})), "--pdf"]


def _refused_sheet(extra):
    return lambda tmp_path, attack: ["sheet", write(tmp_path / "sheet.toml", sheet_spec().replace(
        'entry = "mse"', extra.format(toml_string(attack)))), "--pdf"]


REFUSED = {
    "backprop-input": _refused_backprop("input"),
    "backprop-param": _refused_backprop("param"),
    "backprop-node": _refused_backprop("node"),
    "derivation-name": lambda tmp_path, attack: [attack, "--pdf"],
    "derivation-param": lambda tmp_path, attack: ["xavier", "--param", f"n_in={attack}", "--pdf"],
    "sheet-entry": _refused_sheet("entry = {}"),
    "sheet-target": _refused_sheet('entry = "mse"\ntargets = [{}]'),
    "sheet-param": _refused_sheet('entry = "xavier"\nparams = {{ n_in = {} }}'),
    "sheet-network": _refused_sheet("network = {}"),
    "sheet-example": _refused_sheet("example = {}"),
    "simulate-act": lambda tmp_path, attack: ["simulate", "--act", attack, "--init", "xavier", "--pdf"],
    "simulate-init": lambda tmp_path, attack: ["simulate", "--act", "relu", "--init", attack, "--pdf"],
    "conv2d-image": lambda tmp_path, attack: ["conv2d", "--image", attack, "--kernel", "[[1]]", "--pdf"],
    "example-name": lambda tmp_path, attack: ["example", attack, "--pdf"],
}


@pytest.mark.parametrize("attack", TEX_ATTACKS, ids=ATTACK_IDS)
@pytest.mark.parametrize("field", REFUSED)
def test_a_name_or_number_that_cannot_be_printed_is_refused_in_one_line(tmp_path, capsys, monkeypatch, field,
                                                                       attack):
    _no_tex(monkeypatch)
    monkeypatch.chdir(tmp_path)
    status, out, err = run_cli(capsys, *REFUSED[field](tmp_path, attack), "-o", str(tmp_path / "out"))
    assert_one_line_error(status, err)
    assert not (tmp_path / "out").exists() and not list(tmp_path.rglob("*.tex"))


def test_a_backprop_name_refusal_says_what_a_name_must_be(tmp_path, capsys):
    spec = write(tmp_path / "bp.toml", backprop_spec(param="w-2"))
    status, _, err = run_cli(capsys, "backprop", spec, "--latex")
    assert_one_line_error(status, err, mentions="'w-2': an input, parameter or node name must be a letter")


# PDFs for real: \input aimed at a file holding a marker; the marker never reaches the PDF. TeX takes
# seconds per PDF, so three rows: every free-text field of each spec at once.
SPECS = {
    "net": lambda attack, folder: ["net", write(folder / "n.toml", net_spec(attack, attack, attack))],
    "backprop": lambda attack, folder: ["backprop", write(folder / "b.toml", backprop_spec(attack, attack))],
}
PDF_ROWS = {"net-newline-input": ("net", "a\n"), "backprop-input": ("backprop", ""),
            "sheet-newline-input": ("sheet", "a\n")}


@needs_tex
@pytest.mark.parametrize("command, before", PDF_ROWS.values(), ids=PDF_ROWS)
def test_the_attacked_file_never_reaches_the_pdf(tmp_path, capsys, command, before):
    marker = f"DERIVESECRET{uuid.uuid4().hex}"
    secret = tmp_path / "secret.tex"
    secret.write_text(marker + "\n", encoding="utf-8")
    attack = before + rf"\input{{{secret}}}"
    if command == "sheet":  # its network and backprop problems carry the attack too
        SPECS["net"](attack, tmp_path), SPECS["backprop"](attack, tmp_path)
        args = ["sheet", write(tmp_path / "s.toml", sheet_spec(attack, attack, attack, attack, (
            "[[problem]]\nnetwork = \"n.toml\"\n[[problem]]\nbackprop = \"b.toml\"\n")))]
    else:
        args = SPECS[command](attack, tmp_path)
    status, _, err = run_cli(capsys, *args, "--pdf", "-o", str(tmp_path / "out"))
    assert status == 0, err
    pdfs = sorted((tmp_path / "out").glob("*.pdf"))
    assert len(pdfs) == (2 if command == "sheet" else 1)
    for path in pdfs:
        text = text_of(path)
        assert marker not in text
        assert "secret.tex" in text.replace("\n", "").replace(" ", "")  # the attack printed literally
    assert marker not in _all_tex(tmp_path / "out")


# --template-dir: a template pack from anywhere runs sandboxed; a broken one is one line naming the file.
MARK = "derive-template-ran"
WORDING = (Path(__file__).parents[1] / "templates" / "wording" / "en.toml").read_text(encoding="utf-8")
# (a template, or a wording table; the line named; what the message says)
TEMPLATES = {
    "os.system through cycler": (rf"\VAR{{cycler.__init__.__globals__.os.system('touch {MARK}')}}", 1,
                                 ["SecurityError"]),
    "os through lipsum": (f"ok\n\\VAR{{lipsum.__globals__['os'].system('touch {MARK}')}}", 2,
                          ["SecurityError"]),
    "format reaching __class__": (r"\VAR{'{0.__class__.__mro__}'.format(lipsum)}", 1, ["SecurityError"]),
    "a list changed": (r"\BLOCK{set l = [1]}\VAR{l.append(2)}", 1, ["SecurityError"]),
    "syntax": ("ok\n\\BLOCK{if lang}\n", 2, ["endif"]),
    "undefined name": ("ok\nok\n\\VAR{nothing.here}\n", 3, ["UndefinedError", "'nothing' is undefined"]),
    "unknown filter": (r"\VAR{lang|nope}", 1, ["nope"]),
    "missing include": (r'\BLOCK{include "gone.j2"}', None, ["no template 'gone.j2'"]),
    "a bad format": (r"\VAR{'{x}'.format(1)}", 1, ["KeyError"]),
    "a missing wording key": (r"\VAR{words.ui.nope}", None, ["wording/en.toml: no key 'ui.nope'"]),
    "wording not TOML": ("[ui\n", None, ["wording/en.toml: TOML syntax", "line 1"]),
    "wording without a key": ("[ui]\nverified = 'x'\n", None, ["wording/en.toml: no key '"]),
    "wording placeholder": (WORDING.replace('verified = "', 'verified = "{bogus} ', 1), None,
                            ["wording/en.toml: 'ui.verified'", "bogus"]),
}
FORMAT_TEMPLATE = {"--text": "derivation.txt.j2", "--latex": "derivation.tex.j2", "--pdf": "single.tex.j2"}


@pytest.mark.parametrize("fmt", FORMAT_TEMPLATE)
@pytest.mark.parametrize("case", TEMPLATES)
def test_a_template_pack_runs_sandboxed_and_a_broken_one_is_one_line(tmp_path, capsys, monkeypatch, case,
                                                                      fmt):
    text, line, mentions = TEMPLATES[case]
    pack = tmp_path / "pack"
    (pack / "wording").mkdir(parents=True)
    if case.startswith("wording"):
        (pack / "wording" / "en.toml").write_text(text, encoding="utf-8")
    else:
        for template in FORMAT_TEMPLATE.values():
            (pack / template).write_text(text, encoding="utf-8")
    if line is not None:
        mentions = [f"{FORMAT_TEMPLATE[fmt]}, line {line}", *mentions]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pdf, "tex_available", lambda: False)
    status, _, err = run_cli(capsys, "xavier", fmt, "--template-dir", str(pack), "-o", str(tmp_path / "out"))
    assert_one_line_error(status, err)
    for words in mentions:
        assert words in err, (words, err)
    assert not (tmp_path / MARK).exists() and not (tmp_path / "out").exists()


def test_a_sheet_with_a_hostile_template_pack_is_one_line_and_runs_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "handout.tex.j2").write_text(
        rf"\VAR{{cycler.__init__.__globals__.os.system('touch {MARK}')}}", encoding="utf-8")
    spec = write(tmp_path / "s.toml", sheet_spec())
    status, _, err = run_cli(capsys, "sheet", spec, "--template-dir", str(tmp_path / "pack"), "-o", "out")
    assert_one_line_error(status, err, mentions="handout.tex.j2, line 1: SecurityError")
    assert not (tmp_path / MARK).exists() and not (tmp_path / "out").exists()
