"""The lines of a written derivation: what is mathematics and what is the line's reason.

A derivation arrives as an ``align`` block, plain lines or Markdown (``derive NAME --md``:
numbered items ``1. $...$ (reason)`` and ``$$...$$`` blocks); each line is a chain
``A = B = C``, a continuation ``= D``, or an equation marked as following from the one before
(``\\Rightarrow``). Environments and spacing are not mathematics; a line's reason is kept
beside it (:attr:`Line.reason`), never read as mathematics.

What is a reason (one mechanism, :func:`_reason_split`): a ``\\tag{...}``/``\\tag*{...}``; the
``&&`` column of an ``align`` (unless it holds an equation of its own); from a ``\\quad`` or
``\\qquad`` followed by ``\\text{...}`` (or ``(\\text{...})``) to the end of the line; a
``\\text{...}`` of words (holding a space, a parenthesis or a non-ASCII letter: ``\\text{由链式法则}``,
``\\text{since }``) at the start of a line, or to the end of the line from one later on; a
trailing ``%`` comment; in Markdown, the text outside the math spans (``(reason)``). A
``\\text{...}`` inside the mathematics (``n_{\\text{in}}``, ``\\text{Var}(W)``, ``\\text{PReLU}(z)``)
is mathematics. A reason that does not close (``\\tag{`` without ``}``) is no reason: it stays in
the mathematics, which then cannot be read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

import sympy as sp

from .. import limits
from ..errors import UsageError

_ENVIRONMENTS = re.compile(r"\\(?:begin|end)\{(?:align|aligned|equation|gather|gathered|split|eqnarray|multline)\*?\}")
_CASES = re.compile(r"\\begin\{cases\}.*?\\end\{cases\}", re.DOTALL)
_SPACING = re.compile(r"\\(?:quad|qquad|nonumber|notag|displaystyle|left\.|right\.|thinspace|medspace|thickspace"
                      r"|negthinspace|enspace)(?![A-Za-z])|\\[,;:!]|\$\$|\\\[|\\\]|\$")
_IMPLIES = re.compile(r"^\s*(?:\\(?:Rightarrow|Longrightarrow|implies|therefore|iff|Leftrightarrow)|=>)\s*")
_TEXT = r"\\(?:text|mbox|textrm|textit|textbf|textnormal|intertext)"
#: what makes a text command's argument words (a space, a parenthesis or a non-ASCII letter), not a name
_IS_WORDS = re.compile(r"[\s()\u0080-\U0010ffff]")
_OPENING = re.compile(r"\(?\s*")
_APPLIED = re.compile(r"\s*[(\[_^{']")
_TAG = re.compile(r"\\tag\*?\s*\{")
_LABEL = re.compile(r"\\label\s*\{[^{}]*\}")
_QUAD = re.compile(r"\\q?quad(?![A-Za-z])\s*")
#: ``a = b, \quad c = d``: two equations set side by side
_BESIDE = re.compile(r",\s*(?:\\q?quad(?![A-Za-z])\s*)+")
_SIZES = re.compile(r"\\(?:small|footnotesize|scriptsize|normalsize|tiny|large|quad|qquad|,|;|:|!)(?![A-Za-z])")
_TEXT_OPENING = re.compile(r"(?:" + _TEXT + r"|\\emph)\s*\{")
#: Markdown: a numbered item, a heading, a bullet, a line in bold, an HTML comment
_ITEM = re.compile(r"^\s*\d{1,3}[.)]\s+")
_MARKDOWN = re.compile(r"^\s*(?:\d{1,3}[.)]\s+\S|#{1,6}\s|\$\$)", re.MULTILINE)
_PROSE = re.compile(r"^\s*(?:#{1,6}\s|[-*+]\s|\*\*|__|<!--|>\s)")
#: how the Markdown template writes what GitHub would take for an escape
_MARKDOWN_COMMANDS = ((r"\cr", r"\\"), (r"\lbrace", r"\{"), (r"\rbrace", r"\}"), (r"\thinspace", r"\,"),
                      (r"\medspace", r"\:"), (r"\thickspace", r"\;"), (r"\negthinspace", r"\!"))


@dataclass
class Line:
    """One line of the answer as written: its number in the file, its text, its parts split
    at the top-level '=' (an empty first part continues the line before), whether it is
    marked as following from the line before (``\\Rightarrow``), and its reason as plain text
    (``chain rule``, ``由链式法则``, ``substitute $\\mathbb{E}[W] = 0$``; empty when none)."""

    n: int
    latex: str
    parts: list[str]
    implies: bool = False
    values: list[sp.Basic | None] = field(default_factory=list)
    reason: str = ""


def split_lines(text: str) -> list[Line]:
    """The lines of an answer (LaTeX or Markdown, told apart by :func:`is_markdown`), each with
    its mathematics split at '=' and its reason set aside; environments and spacing removed."""
    limits.check("check-steps.characters", len(text), what="characters in the derivation")
    lines: list[Line] = []
    pending: list[str] = []  # reasons on a line of their own (\intertext): the next line's
    for math, reasons, shown in (_markdown_pieces(text) if is_markdown(text) else _latex_pieces(text)):
        body, blocks = _set_aside_cases(math)
        body = _SPACING.sub(" ", _ENVIRONMENTS.sub(" ", body)).replace("&", " ")
        body = body.replace(":=", "=").strip().rstrip(",.;")
        implies = bool(_IMPLIES.match(body))
        body = _IMPLIES.sub("", body).strip()
        if not body:
            if reasons == ["\x00"]:
                continue
            if reasons and reasons[0] == "\x00" and lines:  # a comment after the line's \\
                lines[-1].reason = _joined([lines[-1].reason, *reasons[1:]])
            else:
                pending.extend(r for r in reasons if r != "\x00")
            continue
        reason = _joined([*pending, *(r for r in reasons if r != "\x00")])
        pending = []
        lines.append(Line(len(lines) + 1, _put_back(shown.strip(), blocks),
                          [_put_back(p, blocks) for p in _split_equals(body)], implies, reason=reason))
    if not lines:
        raise UsageError("the derivation has no lines")
    limits.check("check-steps.lines", len(lines), what="lines in the derivation")
    return lines


def is_markdown(text: str) -> bool:
    """Whether an answer is Markdown (as ``derive NAME --md`` prints): a numbered item
    (``1. ...``), a heading (``## ...``) or a ``$$`` display at the start of a line."""
    return _MARKDOWN.search(text) is not None


def _joined(reasons: list[str]) -> str:
    return "; ".join(r for r in (_plain(r) for r in reasons) if r)


def _plain(reason: str) -> str:
    """A reason as plain text: text commands unwrapped, sizes and spacing dropped, one pair of
    enclosing parentheses removed; the math in it (``$...$``) kept."""
    reason = " ".join(_SIZES.sub(" ", _unwrapped(reason)).replace("&", " ").split()).strip(" ,;:")
    while len(reason) >= 2 and reason[0] in "(（" and reason[-1] in ")）" and _closes_at_end(reason):
        reason = reason[1:-1].strip()
    return reason


def _unwrapped(reason: str) -> str:
    """A reason with every text command replaced by its argument (braces inside kept), in one
    pass: a stack says which closing brace is a text command's."""
    kept, stack, index = [], [], 0
    while index < len(reason):
        opening = _TEXT_OPENING.match(reason, index) if reason[index] == "\\" else None
        if opening:
            stack.append(False)
            index = opening.end()
            continue
        char = reason[index]
        if char == "\\":
            kept.append(reason[index:index + 2])
            index += 2
            continue
        if char == "{":
            stack.append(True)
        elif char == "}" and stack and not stack.pop():
            index += 1
            continue
        kept.append(char)
        index += 1
    return "".join(kept)


def _closes_at_end(text: str) -> bool:
    """Whether the parenthesis opening ``text`` is the one closing it."""
    depth = 0
    for index, char in enumerate(text):
        depth += (char in "(（") - (char in ")）")
        if depth == 0:
            return index == len(text) - 1
    return False


# -- LaTeX -----------------------------------------------------------------------------------

def _latex_pieces(text: str):
    """(mathematics, reasons, as written) for every row of a LaTeX answer: rows end at ``\\\\``
    and at line ends (rows of a ``cases`` block stay together). A ``%`` comment is a reason of
    the row it ends; a comment alone on its line is marked "\\x00" and dropped, and one after a
    row's ``\\\\`` (``... \\\\ % checked``) goes to that row (marked so by a leading "\\x00")."""
    for physical in text.split("\n"):
        code, comment = _comment(physical)
        body, blocks = _set_aside_cases(code)
        rows = _rows(body)
        for number, row in enumerate(rows):
            pieces = [(_put_back(m, blocks), [_put_back(r, blocks) for r in rs]) for m, rs in _reason_split(row)]
            row = _put_back(row, blocks)
            for piece, (math, reasons) in enumerate(pieces):
                if comment is not None and number == len(rows) - 1 and piece == len(pieces) - 1:
                    if not math.strip(" \t&") and (number > 0 or not row.strip()):
                        reasons = ["\x00", comment, *reasons] if number > 0 else ["\x00"]
                    else:
                        reasons = [*reasons, comment]
                yield math, reasons, row if len(pieces) == 1 else math


def _rows(code: str) -> list[str]:
    """A line's rows: split at ``\\\\`` outside braces (``\\substack{a \\\\ b}`` is one row)."""
    rows, depth, start, index = [], 0, 0, 0
    while index < len(code):
        char = code[index]
        if char == "\\":
            if code.startswith("\\\\", index) and depth == 0:
                rows.append(code[start:index])
                start = index + 2
            index += 2
            continue
        depth = max(depth + (char == "{") - (char == "}"), 0)
        index += 1
    return [*rows, code[start:]]


def _comment(physical: str) -> tuple[str, str | None]:
    """A line's code and its ``%`` comment (None: none); ``\\%`` is a percent sign."""
    escaped = False
    for index, char in enumerate(physical):
        if char == "%" and not escaped:
            return physical[:index], physical[index + 1:]
        escaped = char == "\\" and not escaped
    return physical, None


def _set_aside_cases(text: str) -> tuple[str, list[str]]:
    """A ``cases`` block keeps its rows, '&' and '=': set aside (put back with :func:`_put_back`)."""
    blocks: list[str] = []

    def set_aside(match: re.Match) -> str:
        blocks.append(match.group())
        return f"\x01{len(blocks) - 1}\x01"

    return _CASES.sub(set_aside, text), blocks


def _put_back(part: str, blocks: list[str]) -> str:
    return re.sub("\x01(\\d+)\x01", lambda m: blocks[int(m.group(1))], part)


def _reason_split(row: str) -> list[tuple[str, list[str]]]:
    """A row's mathematics and its reasons (see the module's docstring), scanning once at the
    top level of braces; a label of words ending in a colon before more mathematics
    (``\\quad \\text{一阶导数: } \\sigma'(x) = ...``), and an equation set beside another
    (``a = b, \\quad c = d``), start a row of their own."""
    rows: list[tuple[str, list[str]]] = []
    reasons: list[str] = []
    row = _LABEL.sub(" ", row)
    math: list[str] = []
    depth, brackets, index, start_of_math = 0, 0, 0, True
    while index < len(row):
        char = row[index]
        if char == "\\" and index + 1 < len(row) and row[index + 1] in "{}\\%$&":
            math.append(row[index:index + 2])
            index += 2
            start_of_math = False
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        elif depth == 0:
            taken = _reason_at(row, index, start_of_math, brackets <= 0)
            if taken is not None:
                reason, end = taken
                if end is not None and end < 0:  # a label: the mathematics after it is a row of its own
                    rows.append(("".join(math), reasons))
                    math, reasons, start_of_math = [], [], True
                    end = -end
                reasons.append(reason)
                if end is None:
                    break
                index = end
                continue
        if not (char.isspace() or char == "&"):
            start_of_math = False
        if depth == 0:
            brackets += (char in "([") - (char in ")]")
        math.append(char)
        index += 1
    return [*rows, ("".join(math), reasons)]


def _reason_at(row: str, index: int, at_start: bool, outside_brackets: bool) -> tuple[str, int | None] | None:
    """The reason beginning at ``row[index]`` (at the top level) and where the mathematics goes
    on (None: the reason runs to the end of the row; negative: a label, or the ``, \\quad``
    between two equations set side by side, after which the mathematics is a new row), or None:
    mathematics."""
    rest = row[index:]
    if rest.startswith("\\tag"):
        match = _TAG.match(rest)
        close = _closing(row, index + match.end()) if match else None
        if close is None:
            return None  # no closing brace: left to the reader, which cannot read it
        return row[index + match.end():close], close + 1
    if rest.startswith("&&"):
        column = rest[2:]
        if "=" in _SPACING.sub(" ", _without_text(column)).replace("\\neq", ""):
            return None  # an equation of its own in the column: mathematics
        return column, None
    beside = _BESIDE.match(rest)
    if beside and outside_brackets and "=" in row[:index] and "=" in _without_text(rest) and not _TEXT_OPENING.match(rest, beside.end()):
        return "", -(index + beside.end())  # two equations side by side: two lines
    quad = _QUAD.match(rest)
    opening = quad.end() if quad else 0
    if not (quad or rest.startswith(("(", "\\"))):
        return None
    words = _words(rest, opening, after_space=quad is not None)
    if words is None:
        return None
    if at_start and not quad:
        closing = re.compile(r"\s*\)").match(rest, words) if rest.startswith("(") else None
        words = closing.end() if closing else words
        return rest[:words], index + words
    text = rest[:words]
    if not outside_brackets:  # words inside parentheses, (300 \text{ (image width)} - 5): a note, taken out
        return text, index + words
    if re.search(r"[:：]\s*\}\s*$", text) and "=" in rest[words:]:
        return text, -(index + words)
    return rest, None


def _without_text(column: str) -> str:
    """A column without its text commands and tags (their arguments may hold math: ``\\text{write
    $e^{-x} = \\dots$}``); an argument that does not close runs to the end."""
    kept, index = [], 0
    for match in re.finditer(_TEXT + r"\s*\{|\\tag\*?\s*\{", column):
        if match.start() < index:
            continue
        kept.append(column[index:match.start()])
        close = _closing(column, match.end())
        index = len(column) if close is None else close + 1
    return "".join(kept) + column[index:]


def _words(rest: str, start: int, after_space: bool) -> int | None:
    """Where a text command of words (after an optional '(') that begins at ``rest[start]`` ends;
    after a ``\\quad`` one word is enough (``\\quad \\text{simplify}``) unless it is applied
    (``\\quad \\text{Var}(W)``)."""
    call = _TEXT_OPENING.match(rest, _OPENING.match(rest, start).end())
    close = _closing(rest, call.end()) if call is not None and not call.group().startswith("\\emph") else None
    if close is None:
        return None
    if (_IS_WORDS.search(rest[call.end():close]) or call.group().startswith("\\intertext")
            or after_space and not _APPLIED.match(rest, close + 1)):
        return close + 1
    return None


def _closing(text: str, index: int) -> int | None:
    """Where the brace opened just before ``text[index]`` closes (None: it does not)."""
    depth = 1
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        depth += (char == "{") - (char == "}")
        if depth == 0:
            return index
        index += 1
    return None


# -- Markdown --------------------------------------------------------------------------------

def _markdown_pieces(text: str):
    """(mathematics, reasons, as written) for a Markdown answer: every numbered item, ``$$``
    block and line of math; headings, bullets (assumptions, results), bold lines, HTML comments
    and prose are not lines. In an item, the math spans are the mathematics and the text around
    them its reason; spans apart (``$a = b$, so $c = d$``) are lines apart."""
    rows = text.split("\n")
    index, in_comment = 0, False
    while index < len(rows):
        row = rows[index]
        index += 1
        if in_comment or "<!--" in row:
            in_comment = "-->" not in row.split("<!--")[-1] if "<!--" in row else "-->" not in row
            continue
        if row.lstrip().startswith("$$"):
            block = row.lstrip()[2:]
            while "$$" not in block and index < len(rows):
                block += "\n" + rows[index]
                index += 1
            math, _, after = block.partition("$$")
            yield from _latex_pieces_with(_markdown_math(math), [after], f"$${math}$$")
            continue
        if not row.strip() or _PROSE.match(row):
            continue
        item = _ITEM.sub("", row, count=1)
        yield from _item_pieces(item, row, numbered=item != row)


def _item_pieces(item: str, row: str, numbered: bool):
    item, trailing = _trailing_reason(item)
    spans = _math_spans(item)
    if not spans:
        if not numbered and not re.search(r"[\\=^_]", item):
            return  # prose
        yield from _latex_pieces_with(_markdown_math(item), trailing, row)
        return
    before = item[:spans[0][0]]
    groups: list[tuple[str, list[str]]] = []  # math spans joined where only '=' stands between them
    reasons = [before] if before.strip() else []
    math = item[spans[0][0] + 1:spans[0][1]]
    for (_, end), (start, stop) in pairwise(spans):
        between = item[end + 1:start]
        if between.strip() in ("", "="):
            math += f" {between.strip()} " + item[start + 1:stop]
            continue
        groups.append((math, [*reasons, between]))
        math, reasons = item[start + 1:stop], []
    groups.append((math, [*reasons, item[spans[-1][1] + 1:], *trailing]))
    for math, reasons in groups:  # spans apart are shown apart (split again, they give the same lines)
        yield from _latex_pieces_with(_markdown_math(math), reasons, row if len(groups) == 1 else f"${math}$")


def _trailing_reason(item: str) -> tuple[str, list[str]]:
    """An item without the ``(reason)`` it ends with (outside its math spans; with no math span,
    a parenthesis of words only: ``f(x)`` is mathematics), and that reason."""
    stripped = item.rstrip()
    depth, opened, in_math, escaped, spans = 0, None, False, False, False
    for index, char in enumerate(stripped):
        if char == "$" and not escaped:
            in_math, spans = not in_math, True
        elif not in_math and char in "(（":
            if depth == 0:
                opened = index
            depth += 1
        elif not in_math and char in ")）":
            depth -= 1
            if depth == 0 and index == len(stripped) - 1 and opened:
                inside = stripped[opened:]
                if spans or _IS_WORDS.search(inside[1:-1]):
                    return stripped[:opened], [inside]
        escaped = char == "\\" and not escaped
    return item, []


def _latex_pieces_with(math: str, reasons: list[str], shown: str):
    """The rows of a piece of Markdown math, the item's reasons on its last row."""
    pieces = list(_latex_pieces(math))
    for number, (body, own, row) in enumerate(pieces):
        last = number == len(pieces) - 1
        yield body, [*own, *(reasons if last else [])], shown if len(pieces) == 1 else row


def _markdown_math(math: str) -> str:
    for written, command in _MARKDOWN_COMMANDS:
        math = re.sub(re.escape(written) + r"(?![A-Za-z])\s*", lambda _m, c=command: c + " ", math)
    return math


def _math_spans(item: str) -> list[tuple[int, int]]:
    """Where each ``$...$`` span of an item opens and closes (``\\$`` is a dollar sign)."""
    spans, start, index = [], None, 0
    while index < len(item):
        if item[index] == "\\":
            index += 2
            continue
        if item[index] == "$":
            if start is None:
                start = index
            else:
                spans.append((start, index))
                start = None
        index += 1
    return spans


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
