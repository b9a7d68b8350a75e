"""The lines of a written derivation: what is mathematics and what is the line's reason.

A derivation arrives as an ``align`` block, plain lines or Markdown; each line is a chain
``A = B = C``, a continuation ``= D``, or an equation marked as following from the one before
(``\\Rightarrow``). Environments, spacing and comments are not mathematics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp

from ..errors import UsageError

MAX_LINES, MAX_CHARACTERS = 60, 20_000

_ENVIRONMENTS = re.compile(r"\\(?:begin|end)\{(?:align|aligned|equation|gather|split|eqnarray|multline)\*?\}")
_COMMENTS = re.compile(r"\\(?:text|mbox|textrm|intertext)\s*\{[^{}]*(?:\s|[^\x00-\x7f])[^{}]*\}"
                       r"|\\(?:tag\*?|label|intertext)\s*\{[^{}]*\}|%[^\n]*")
_CASES = re.compile(r"\\begin\{cases\}.*?\\end\{cases\}", re.S)
_SPACING = re.compile(r"\\(?:quad|qquad|nonumber|notag|displaystyle|left\.|right\.)|\\[,;:!]|\$\$|\\\[|\\\]|\$")
_IMPLIES = re.compile(r"^\s*(?:\\(?:Rightarrow|Longrightarrow|implies|therefore|iff|Leftrightarrow)|=>)\s*")


@dataclass
class Line:
    """One line of the answer as written: its number in the file, its text, its parts split
    at the top-level '=' (an empty first part continues the line before), and whether it is
    marked as following from the line before (``\\Rightarrow``)."""

    n: int
    latex: str
    parts: list[str]
    implies: bool = False
    values: list[sp.Basic | None] = field(default_factory=list)


def split_lines(text: str) -> list[Line]:
    """The lines of an answer, with comments (\\text{...}), environments and spacing removed."""
    if len(text) > MAX_CHARACTERS:
        raise UsageError(f"the answer is longer than {MAX_CHARACTERS} characters")
    lines = []
    blocks: list[str] = []  # cases blocks keep their rows, '&' and '=' (set aside, put back in the parts)

    def set_aside(match: re.Match) -> str:
        blocks.append(match.group())
        return f"\x01{len(blocks) - 1}\x01"

    def put_back(part: str) -> str:
        return re.sub("\x01(\\d+)\x01", lambda m: blocks[int(m.group(1))], part)

    for raw in re.split(r"\\\\|\n", _CASES.sub(set_aside, text)):
        body = _SPACING.sub(" ", _COMMENTS.sub(" ", _ENVIRONMENTS.sub(" ", raw))).replace("&", " ")
        body = body.replace(":=", "=").strip().rstrip(",.;")
        implies = bool(_IMPLIES.match(body))
        body = _IMPLIES.sub("", body).strip()
        if body:
            lines.append(Line(len(lines) + 1, put_back(raw.strip()), [put_back(p) for p in _split_equals(body)],
                              implies))
    if not lines:
        raise UsageError("the answer has no lines")
    if len(lines) > MAX_LINES:
        raise UsageError(f"the answer has {len(lines)} lines; at most {MAX_LINES} are checked")
    return lines


def _split_equals(body: str) -> list[str]:
    """Split at every '=' outside braces and brackets."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(body):
        depth += {"{": 1, "(": 1, "[": 1, "}": -1, ")": -1, "]": -1}.get(char, 0)
        if char == "=" and depth == 0:
            parts.append(body[start:index].strip())
            start = index + 1
    parts.append(body[start:].strip())
    return parts
