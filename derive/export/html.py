"""HTML for a learning system's question text: the documents' TeX, formulas for MathJax.

The statements, sub-questions and options of a sheet are already printed for TeX by the
documents' one mechanism (:func:`derive.statements.to_tex`, the wording tables through
:mod:`derive.markup`): text escaped by :func:`derive.printing.tex_escape`, formulas printed
from their parsed form as ``$...$`` (or ``\\[...\\]`` for a display). :func:`tex_html` turns that
TeX into HTML: each formula as MathJax's ``\\( ... \\)`` (``\\[ ... \\]``), the text unescaped and
written as inert HTML. A user's ``\\(``, ``$$`` or ``[tex]`` in text never becomes a formula:
their backslashes, dollars and brackets are character references (``&#92;``), which Moodle's
MathJax and TeX filters do not read as delimiters, and the browser shows as the characters.
"""

from __future__ import annotations

import html
import re

#: TeX's escapes of :func:`derive.printing.tex_escape` (and a control space) -> the character
_UNESCAPE = {r"\textbackslash{}": "\\", r"\textasciitilde{}": "~", r"\textasciigrave{}": "`", r"\^{}": "^",
             r"\{": "{", r"\}": "}", r"\$": "$", r"\&": "&", r"\#": "#", r"\_": "_", r"\%": "%", "\\ ": " ",
             r"\,": " ", r"\quad": " ", r"\qquad": " ", "~": "\u00a0"}
_TOKEN = re.compile(r"\\textbackslash\{\}|\\textasciitilde\{\}|\\textasciigrave\{\}|\\\^\{\}|\\[{}$&#_%, ]"
                    r"|\\q?quad\b ?|\\\[.*?\\\]|\$[^$]*\$|\\[A-Za-z]+\{?|[{}~]", re.DOTALL)
#: characters of the text that would start a formula or a filter's markup in Moodle
_INERT = {"\\": "&#92;", "$": "&#36;", "[": "&#91;", "]": "&#93;"}


def text_html(text: str) -> str:
    """Literal text as HTML: ``<``, ``&`` and quotes escaped, and backslashes, dollars and
    square brackets as character references (no MathJax or Moodle filter reads them)."""
    escaped = html.escape(text, quote=True)
    return "".join(_INERT.get(character, character) for character in escaped)


def math_html(tex: str, display: bool = False) -> str:
    """A formula a printer wrote, as MathJax's ``\\( tex \\)`` (``\\[ tex \\]`` if ``display``),
    its ``<`` and ``&`` escaped for HTML (MathJax reads the characters)."""
    opening, closing = (r"\[", r"\]") if display else (r"\(", r"\)")
    return f"{opening} {html.escape(tex.strip(), quote=False)} {closing}"


def tex_html(tex: str) -> str:
    """TeX that derive's printers wrote (escaped text, ``$...$`` and ``\\[...\\]`` formulas) as HTML.

    A command outside a formula that is not one of the escapes is a template's formatting
    (``\\textbf{``): it is dropped and its argument kept as text."""
    out, position = [], 0
    for found in _TOKEN.finditer(tex):
        out.append(text_html(tex[position:found.start()]))
        token = found.group()
        position = found.end()
        if token.startswith("$"):
            out.append(math_html(token[1:-1]))
        elif token.startswith(r"\["):
            out.append(math_html(token[2:-2], display=True))
        elif token.rstrip() in _UNESCAPE or token in _UNESCAPE:
            out.append(text_html(_UNESCAPE.get(token, _UNESCAPE.get(token.rstrip(), " "))))
        # any other command, and a group's braces: formatting, dropped
    out.append(text_html(tex[position:]))
    return "".join(out)


def paragraphs(*pieces: str) -> str:
    """HTML pieces as paragraphs (an empty piece left out)."""
    return "".join(f"<p>{piece}</p>" for piece in pieces if piece)
