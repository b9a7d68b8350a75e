"""The commands of ``python -m derive``: one module per command, each with ``parser()`` (its options
and an "example:" epilog) and ``run(argv) -> int``.

:data:`COMMANDS` is the table that :func:`derive.cli.run` dispatches by and that
``python -m derive --help`` prints (:func:`top_help`): a command not in it does not exist.
Nothing heavy is imported here; a command's module imports what it needs when it runs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

PROG = "python -m derive"


@dataclass(frozen=True)
class Command:
    """One command: its name, the module holding it, one line on what it is for, and the names of
    the module's function that runs it and of the one that makes its parser."""

    name: str
    module: str
    summary: str
    run: str = "run"
    parser: str = "parser"

    def load(self):
        return importlib.import_module(self.module, __name__)

    def make_parser(self):
        """The command's argparse parser (its ``--help``)."""
        return getattr(self.load(), self.parser)()

    def __call__(self, argv: list[str]) -> int:
        return getattr(self.load(), self.run)(argv)


# The order is the order of `python -m derive --help`: what a teacher does, roughly in turn.
COMMANDS: tuple[Command, ...] = (
    Command("list", ".listing", "list the catalog's derivations: name, family, title, targets"),
    Command("sheet", ".sheet", "write a homework handout and its answer key (.tex, --pdf), or one per student "
                               "(--variants)"),
    Command("check", ".check", "check one answer (LaTeX) against a derivation's target; exit 0 if correct"),
    Command("check-steps", ".check_steps", "check a student's whole derivation line by line"),
    Command("grade", ".grade", "grade a class: a file of answers (JSON lines) in, one verdict per answer out"),
    Command("export", "derive.export", "write a sheet as a Moodle question bank or a Gradescope autograder",
            run="main"),
    Command("serve", "derive.web.serve", "serve a web page where students check their answers", run="main"),
    Command("net", ".net", "a network's shapes, parameters, memory, MACs and receptive fields"),
    Command("backprop", ".worked", "a worked backpropagation problem from a spec: forward pass, gradients, "
                                   "one SGD step", run="backprop", parser="backprop_parser"),
    Command("conv2d", ".worked", "every output entry of a 2-D convolution as its sum of products",
            run="conv2d", parser="conv2d_parser"),
    Command("example", ".worked", "the course's own worked backprop and convolution problems, built in "
                                            "(example list names them)",
            run="example", parser="example_parser"),
    Command("diff", ".diff", "differentiate a function of your own, one rule per verified step"),
    Command("init", ".init", "initialization (Var(W), gain) for any activation, every step verified"),
    Command("simulate", ".simulate", "a Monte Carlo of a deep network's variance across depth vs the recursion"),
    Command("audit", ".audit", "recompute each claim of a published answer sheet and say which disagree"),
)

#: ``python -m derive NAME``: print a catalog entry's derivation (the command when no other matches).
DERIVATION = Command("NAME", ".derivation", "print a derivation, every step verified by SymPy")

BY_NAME = {command.name: command for command in COMMANDS}


def top_help() -> str:
    """The text of ``python -m derive --help``: how to print a derivation, every command, --catalog."""
    width = max(len(command.name) for command in COMMANDS) + 2
    rows = "\n".join(f"  {command.name:<{width}}{command.summary}" for command in COMMANDS)
    return f"""\
usage: {PROG} NAME [--latex | --md | --json | --pdf] [options]
       {PROG} COMMAND [options]
       {PROG} COMMAND --help

derive prints derivations for a neural-network course with every step verified by SymPy,
writes handouts and answer keys, and checks students' answers.

print a derivation (NAME is a catalog entry; {PROG} list shows them all):
  {PROG} xavier                    as text
  {PROG} xavier --latex --lang zh  as LaTeX, in Chinese (also --md, --json)
  {PROG} xavier --pdf              a PDF in out/ (needs TeX)
  {PROG} NAME --help               its options (--param, --notation, ...)

commands:
{rows}

every command:
  --catalog FILE.toml   add a teacher's own catalog entries (repeatable), for example
                        {PROG} mish --catalog examples/teacher-catalog.toml

{PROG} COMMAND --help prints a command's options and an example.
"""
