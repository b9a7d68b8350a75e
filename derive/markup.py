"""Math markup of the wording tables: a phrase in every output form.

A wording phrase writes its formulas as ``$LaTeX$`` (``独立：$\\mathbb{E}[Wa] = \\mathbb{E}[W]\\,\\mathbb{E}[a]$``);
everything outside the dollars is text. :func:`marked` turns a phrase into a :class:`Marked`:

- ``tex``: the text through :func:`~derive.printing.tex_escape`, the formulas kept as ``$...$``
  (the wording tables are as trusted as the templates);
- ``text``: plain Unicode for ``--text`` and JSON (σ, δ, ŷ, ≤, →, ``M_(l-1)``), the formulas
  converted by pylatexenc's ``LatexNodes2Text`` with a few macros of our own (fractions and
  scripts keep their grouping as parentheses);
- ``md``: Markdown, the formulas as ``$...$`` spans that open and close with a non-space
  (pandoc, GitHub and GitLab render no other).

A phrase's ``{name}`` placeholders (outside the formulas) are filled with values that are
already :class:`Marked`: :func:`user` for a user's string (never read as markup, always
escaped), :func:`math` for a formula a printer wrote. Inside a formula, ``\\q{name}`` is the
quantity ``name`` as the document's notation profile writes it (``$\\q{n_in} \\operatorname{Var}(W)$``).
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

from pylatexenc import latexwalker
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from .errors import UsageError
from .printing import tex_escape


class MarkupError(UsageError):
    """A phrase whose math markup cannot be read (a ``$`` left open, an unknown placeholder)."""


@dataclass(frozen=True)
class Marked:
    """One phrase in each output form: ``text`` (plain Unicode), ``tex`` (LaTeX), ``md`` (Markdown)."""

    text: str
    tex: str
    md: str

    def __add__(self, other: Marked) -> Marked:
        return Marked(self.text + other.text, self.tex + other.tex, self.md + other.md)


def user(text) -> Marked:
    """A user's string (a sheet title, a statement, a network name): printed literally in every
    form, its ``$`` and backslashes included."""
    text = str(text)
    return Marked(text, tex_escape(text), text)


def math(tex: str, text: str | None = None) -> Marked:
    """A formula a printer wrote: ``tex`` as a math span, ``text`` (by default converted from
    ``tex``) for plain text."""
    tex = tex.strip()
    return Marked(latex_to_text(tex) if text is None else text, f"${tex}$", f"${tex}$")


_MATH = re.compile(r"(?<!\\)\$")


def parts(phrase: str) -> list[tuple[bool, str]]:
    """A phrase cut into (is_math, piece) at its ``$`` signs (``\\$`` is a literal dollar)."""
    pieces = _MATH.split(str(phrase))
    if len(pieces) % 2 == 0:
        raise MarkupError(f"a '$' opens a formula that is not closed: {phrase!r}")
    return [(n % 2 == 1, piece) for n, piece in enumerate(pieces)]


def marked(phrase: str, fields: Mapping[str, Marked] | None = None) -> Marked:
    """A wording phrase in every form, its ``{name}`` placeholders filled with ``fields``.

    Text outside the formulas is escaped for TeX; a formula is kept as math (TeX, Markdown)
    or converted to Unicode (text)."""
    result = Marked("", "", "")
    for is_math, piece in parts(phrase):
        if is_math:
            if not piece.strip():
                raise MarkupError(f"an empty formula '$$' in {phrase!r}")
            result += math(_QUANTITY.sub(lambda found: _inside(found.group(1), phrase, fields), piece))
            continue
        try:
            pieces = list(string.Formatter().parse(piece))
        except ValueError as error:
            raise MarkupError(f"a brace that is not a placeholder in {phrase!r}: {error}") from None
        for literal, name, spec, conversion in pieces:
            literal = literal.replace(r"\$", "$")
            result += Marked(literal, tex_escape(literal), literal)
            if name is None:
                continue
            if spec or conversion or name not in (fields or {}):
                raise MarkupError(f"cannot fill in the placeholder {{{name}}} of {phrase!r}")
            result += fields[name]
    return result


#: ``\q{key}`` inside a formula: the quantity ``key`` as the document's notation writes it
_QUANTITY = re.compile(r"\\q\{(\w+)\}")


def _inside(name: str, phrase: str, fields: Mapping[str, Marked] | None) -> str:
    """The LaTeX of the field ``name`` (a formula) for use inside another formula, grouped."""
    field = (fields or {}).get(name)
    if field is None or not (field.tex.startswith("$") and field.tex.endswith("$")):
        raise MarkupError(f"cannot fill in \\q{{{name}}} of {phrase!r}: no quantity '{name}'")
    return "{" + field.tex[1:-1] + "}"


#: Chinese characters and punctuation (CJK symbols, ideographs, full-width forms), as a class
CJK = "[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]"
_CJK_SPACE = re.compile(f"(?<={CJK}) +(?={CJK})")


def title_tex(title) -> str:
    """A user's title for TeX: escaped, and a space between two Chinese characters kept
    (``神经网络基础 第三次作业``: xeCJK drops a plain space there, not a control space)."""
    return _CJK_SPACE.sub(r"\\ ", tex_escape(title))


# --- formulas as plain text --------------------------------------------------------------------


def _grouped(content: str) -> str:
    """A script or a fraction's part as text: one token stays bare (M_l, e^x), more get
    parentheses (M_(l-1)), a part already in parentheses keeps them ((l))."""
    content = content.strip()
    if re.fullmatch(r"[\w.'′]+|\(.*\)|\[.*\]|\|.*\|", content) or len(content) == 1:
        return content
    return f"({content})"


def _fraction(node, l2tobj) -> str:
    numerator, denominator = (_grouped(l2tobj.node_arg_to_text(node, k)) for k in (0, 1))
    return f"{numerator}/{denominator}"


def _sqrt(node, l2tobj) -> str:
    radicand = l2tobj.node_arg_to_text(node, 1).strip()
    return f"√{radicand}" if re.fullmatch(r"\w", radicand) else f"√({radicand})"


def _argument(node, l2tobj) -> str:
    return l2tobj.node_arg_to_text(node, 0)


class _FormulaText(LatexNodes2Text):
    """pylatexenc's LaTeX-to-text, with a sub- or superscript group kept as one (``M_(l-1)``) and
    the spaces of the source kept (a formula's characters are printed as written)."""

    def nodelist_to_text(self, nodelist):
        """Each node as text; a group right after ``_`` or ``^`` through :func:`_grouped`."""
        out, previous = "", None
        for node in nodelist:
            if (node is not None and node.isNodeType(latexwalker.LatexGroupNode) and previous is not None
                    and previous.isNodeType(latexwalker.LatexCharsNode) and previous.chars.endswith(("_", "^"))):
                out += _grouped(self._groupnodecontents_to_text(node))
            else:
                if self._is_bare_macro_node(previous):
                    out += previous.macro_post_space  # x \\le 0: the space after \\le kept
                is_chars = node is not None and node.isNodeType(latexwalker.LatexCharsNode)
                out += node.chars.replace("~", " ") if is_chars else self.node_to_text(node)
            previous = node
        return out


@functools.cache
def _converter() -> _FormulaText:
    context = get_default_latex_context_db().filter_context(keep_categories=None)
    ours = [MacroTextSpec(name, simplify_repl=_fraction) for name in ("frac", "tfrac", "dfrac")]
    ours += [MacroTextSpec("sqrt", simplify_repl=_sqrt), MacroTextSpec("ne", simplify_repl="≠"),
             MacroTextSpec("prime", simplify_repl="'"), MacroTextSpec("top", simplify_repl="T"),
             MacroTextSpec("operatorname", simplify_repl=_argument),
             MacroTextSpec("mathrm", simplify_repl=_argument), MacroTextSpec("text", simplify_repl=_argument)]
    context.add_context_category("derive", macros=ours, prepend=True)
    return _FormulaText(latex_context=context, math_mode="text", strict_latex_spaces="based-on-source")


_SPACES = re.compile(r"\s+")


def latex_to_text(formula: str) -> str:
    """A LaTeX formula as readable Unicode text: ``\\sigma = g/\\sqrt{M_{l-1}}`` is
    ``σ = g/√(M_(l-1))``, ``\\hat{y}`` is ``ŷ``, ``x \\le 0`` is ``x ≤ 0``."""
    converted = _converter().latex_to_text(formula)
    converted = converted.replace("^'", "'").replace("^T", "ᵀ")
    return _SPACES.sub(" ", converted).strip()
