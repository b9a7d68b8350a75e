"""Help for every command: ``python -m derive --help`` names every command of the table (the one the
dispatch reads), and ``python -m derive COMMAND --help`` prints the command's options and examples
that parse with its own parser and name files of the repository."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from derive.cli import _catalog_files, cli
from derive.commands import BY_NAME, COMMANDS, DERIVATION, PROG, top_help

ROOT = Path(__file__).resolve().parent.parent
ALL = [*COMMANDS, DERIVATION]
OUTPUTS = {"-o", "--output", "--log"}  # options whose file is written, not read
INPUT_SUFFIXES = (".toml", ".csv", ".jsonl", ".json", ".tex")


def _help_of(capsys, argv: list[str]) -> str:
    """What ``cli(argv)`` prints for ``--help``; it must end the process with status 0."""
    with pytest.raises(SystemExit) as ended:
        cli(argv)
    assert ended.value.code in (0, None)
    out, err = capsys.readouterr()
    assert err == ""
    return out


def _examples(epilog: str) -> list[str]:
    """The epilog's command lines: what follows ``python -m derive`` on each line that runs it."""
    return [line.split(f"{PROG} ", 1)[1] for line in epilog.splitlines() if f"{PROG} " in line]


def _argv(command_line: str) -> list[str]:
    """A command line of an example as the command line's words (up to a pipe or redirection)."""
    words = []
    for word in shlex.split(command_line):
        if word in ("|", ">", ">>", "&&", ";"):
            break
        words.append(word)
    return words


@pytest.mark.parametrize("command", ALL, ids=[c.name for c in ALL])
def test_every_command_prints_its_options_and_examples(capsys, command):
    parser = command.make_parser()
    argv = ["xavier", "--help"] if command is DERIVATION else [command.name, "--help"]
    out = _help_of(capsys, argv)
    assert out == parser.format_help()
    for action in parser._actions:
        for option in action.option_strings:
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", out), (command.name, option)
        if not action.option_strings:
            assert (action.metavar or action.dest) in out
    assert parser.description and re.search(r"^examples?:$", out, re.MULTILINE), command.name
    assert "--catalog FILE.toml" in out  # the option every command takes, outside its own parser


@pytest.mark.parametrize("command", ALL, ids=[c.name for c in ALL])
def test_every_example_parses_and_names_files_that_exist(command):
    parser = command.make_parser()
    epilog = parser.epilog
    examples = _examples(epilog)
    assert 1 <= len(examples) <= 2, epilog
    made = set(re.findall(r"^\s*cat > (\S+)", epilog, re.MULTILINE))  # a file the example itself writes
    for line in examples:
        argv, catalogs = _catalog_files(_argv(line))
        if command is not DERIVATION:
            assert argv[0] == command.name, line
            argv = argv[1:]
        parser.parse_args(argv)  # a UsageError if it does not parse
        for before, word in zip(["", *argv], argv):
            if word.endswith(INPUT_SUFFIXES) and before not in OUTPUTS and word not in made:
                assert (ROOT / word).is_file(), (line, word)
        for name in catalogs:
            assert (ROOT / name).is_file(), line


def test_the_top_help_names_every_command_and_how_to_print_a_derivation(capsys):
    assert cli(["--help"]) == 0
    out = capsys.readouterr().out
    assert cli(["-h"]) == 0 and capsys.readouterr().out == out
    assert cli([]) == 2 and capsys.readouterr().out == out  # no command: the help, and exit status 2
    assert out == top_help()
    listed = re.findall(r"^  (\S+)  +\S", out.split("\ncommands:\n", 1)[1].split("\n\n", 1)[0], re.MULTILINE)
    assert listed == [command.name for command in COMMANDS]
    assert set(listed) == set(BY_NAME)  # what the dispatch accepts is what the help lists
    for summary in (command.summary for command in COMMANDS):
        assert summary and "\n" not in summary and len(summary) < 100
    for words in (f"{PROG} NAME", f"{PROG} list", "--catalog FILE.toml", f"{PROG} COMMAND --help"):
        assert words in out


def test_every_command_module_is_in_the_table():
    folder = ROOT / "derive" / "commands"
    modules = {path.stem for path in folder.glob("*.py")} - {"__init__", "options"}
    tabled = {command.module.lstrip(".") for command in ALL if command.module.startswith(".")}
    assert modules == tabled
    for command in ALL:  # every entry runs something and has a parser
        module = command.load()
        assert callable(getattr(module, command.run)) and callable(getattr(module, command.parser))


@pytest.mark.parametrize("word, said", [
    ("lsit", "unknown command or derivation 'lsit'; did you mean the command 'list'?"),
    ("chek", "did you mean the command 'check'?"),
    ("check-step", "did you mean the command 'check-steps'?"),
    ("sigmoidd", "unknown derivation 'sigmoidd'; did you mean 'sigmoid'?"),  # an entry is closer than a command
    ("zzz", "unknown derivation 'zzz'"),
    ("\\input{/etc/passwd}", "unknown derivation"),
])
def test_a_word_that_is_no_command_is_a_derivation_name_or_a_mistyped_command(capsys, word, said):
    assert cli([word]) == 2
    error = capsys.readouterr().err
    assert said in error and error.count("\n") == 1


def test_the_module_prints_the_help_as_a_process():
    done = subprocess.run([sys.executable, "-m", "derive", "--help"], check=False, capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert (done.returncode, done.stderr) == (0, "") and done.stdout == top_help()
    done = subprocess.run([sys.executable, "-m", "derive", "sheet", "--help"], check=False, capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0 and "examples/hw2-derivatives-zh.toml" in done.stdout


@pytest.mark.parametrize("argv, said", [
    (["optimizers", "--help"], "unknown derivation 'optimizers'"),  # not an entry's help, exit 0
    (["lsit", "--help"], "did you mean the command 'list'?"),
    (["check", "sigmoid", "--answer", "x"], "give --target: which result of 'sigmoid' the answer is for"),
    (["check", "resnet18", "--answer", "3"], "give --target: which result of 'resnet18'"),
    (["check", "sigmoidx", "--answer", "3"], "unknown problem 'sigmoidx'; did you mean 'sigmoid'?"),
    (["check", "sigmoid", "--target", "d3", "--answer", "3"], "unknown target 'd3' in 'sigmoid'; known: d1, d2"),
])
def test_a_missing_or_unknown_name_is_one_line_that_says_what_to_give(capsys, argv, said):
    assert cli(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and said in captured.err and captured.err.count("\n") == 1
