"""Reading a student's LaTeX in the course's notation into SymPy, without ever evaluating it.

A small recursive-descent parser: it builds SymPy objects directly from tokens and resolves
every name through the problem's :class:`~derive.check.table.ReadingTable`, so ``\\sigma``,
a bare ``\\sigma``, ``\\theta(x)``, primes, ``\\frac{\\partial L}{\\partial w_1}``,
``\\operatorname{Var}(W)``, ``n_{\\text{in}}``, ``\\delta_{ik}``, ``\\sum_j`` and ``cases`` all
mean what the course means. What it cannot read raises :class:`ReadError` with the position.

One grammar split by concern: :mod:`.tokens` (normalizing and tokens), :mod:`.grammar`
(expressions), :mod:`.commands` (fractions, derivatives, functions, sums, integrals, cases),
:mod:`.names` (identifiers through the table), :mod:`.structures` (lists of answers, relations,
tuples, intervals, sets, matrices) and :mod:`.course` (the course's own forms);
:class:`.grammar.Parser` mixes them together.
"""

from __future__ import annotations

from ..table import ReadingTable
from .grammar import Parser
from .tokens import (MAX_DEPTH, MAX_DIGITS, MAX_LENGTH, MAX_TERMS, MAX_TOWER, Reading, ReadError, normalize,
                     tokenize)

__all__ = ["MAX_DEPTH", "MAX_DIGITS", "MAX_LENGTH", "MAX_TERMS", "MAX_TOWER", "Parser", "ReadError",
           "Reading", "normalize", "read", "tokenize"]


def read(text: str, table: ReadingTable, layer_shift: int = 0) -> Reading:
    """Read an answer.

    Args:
        text: the LaTeX a student wrote (untrusted; never evaluated).
        table: the problem's reading table.
        layer_shift: read every layer label relative to l shifted by this much (a derivation written
            one layer down, delta^{(l-1)} = (W^{(l)})^T delta^{(l)} ..., read with +1 is the problem's
            delta^{(l)} = (W^{(l+1)})^T delta^{(l+1)} ...); a name whose subscript names l then refuses.

    Raises:
        ReadError: the answer cannot be read; the message says why and where.
    """
    parser = Parser(normalize(text), table)
    parser.layer_shift = layer_shift
    try:
        return parser.answer()
    except ReadError:
        raise
    except (TypeError, AttributeError, ValueError, NotImplementedError, ArithmeticError,
            RecursionError):
        # SymPy refusing a combination the grammar let through (a matrix times a matrix of the
        # wrong shape, a function of a set, sin of two arguments): not an answer it can read.
        raise parser.fail("these objects cannot be combined") from None
