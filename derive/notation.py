"""Quantities, their domains, and how courses and textbooks write them.

Notation is data: every derivation declares its quantities here, and the renderer and the
checker both read the same table.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp


@dataclass(frozen=True)
class Domain:
    """Where a quantity lives: used to validate parameters and to sample verification points.

    Attributes:
        kind: ``real``, ``integer``, ``index`` (an integer from 1 to ``upper``) or
            ``symmetric-density`` (a probability density with p(-z) = p(z)) or
            ``smooth-function`` (any differentiable function of one variable: an activation f).
        low, high: bounds, ``None`` for unbounded.
        low_open, high_open: whether the bounds themselves are excluded.
        upper: for ``index``, the symbol that bounds it (the class count C).
        latex: how the domain is written, e.g. ``(0, 1)``.
    """

    kind: str
    low: Fraction | None = None
    high: Fraction | None = None
    low_open: bool = True
    high_open: bool = True
    upper: sp.Symbol | None = None
    latex: str = r"\mathbb{R}"

    def contains(self, value: sp.Rational) -> bool:
        """Whether an exact number lies in this domain."""
        if self.kind in ("integer", "index") and not value.is_integer:
            return False
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            return False
        return True

    def describe(self) -> str:
        """The domain in words, for error messages: ``an integer in [1, inf)``."""
        if self.kind not in ("real", "integer"):
            return self.latex
        low = "-inf" if self.low is None else str(self.low)
        high = "inf" if self.high is None else str(self.high)
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high_open or self.high is None else "]"
        return f"{'an integer' if self.kind == 'integer' else 'a number'} in {left}{low}, {high}{right}"


REAL = Domain("real")
POSITIVE = Domain("real", low=Fraction(0), latex=r"(0, \infty)")
UNIT_OPEN = Domain("real", low=Fraction(0), high=Fraction(1), latex="(0, 1)")
UNIT_LEAK = Domain("real", low=Fraction(0), high=Fraction(1), low_open=False, latex="[0, 1)")
LABEL = Domain("real", low=Fraction(0), high=Fraction(1), low_open=False, high_open=False, latex="[0, 1]")
SIZE = Domain("integer", low=Fraction(1), low_open=False, latex=r"\mathbb{Z}_{>0}")
CLASS_COUNT = Domain("integer", low=Fraction(2), low_open=False, latex=r"\{2, 3, \dots\}")
SYMMETRIC_DENSITY = Domain("symmetric-density", latex=r"p(-z) = p(z)")
SMOOTH_FUNCTION = Domain("smooth-function", latex=r"C^1(\mathbb{R})")


#: Other names the course and textbooks give a loss L (E, J, ell, calligraphic L): the checker reads
#: them as the loss where the problem's loss is L and the name means nothing else there.
LOSS_NAMES = ("E", "J", r"\ell", r"\mathcal{L}")


def index_domain(upper: sp.Symbol) -> Domain:
    """The domain of a class index 1..upper."""
    return Domain("index", upper=upper, latex=rf"\{{1, \dots, {sp.latex(upper)}\}}")


@dataclass(frozen=True)
class Quantity:
    """One quantity of a derivation and the ways it is written.

    Attributes:
        key: its plain name: the CLI parameter key and the JSON name (``n_in``, ``alpha``).
        symbol: the SymPy object (a Symbol, an undefined Function class or an IndexedBase).
        latex: how `derive` writes it.
        domain: where it lives; ``None`` for a quantity that is defined, not free.
        meaning: what it stands for, if it is defined (an expression, or a Lambda for a
            function or an indexed family). The verifier unfolds it.
        aliases: other notations in use in the course and textbooks (LaTeX).
        bare: a function that may be written without its argument (a bare sigma for sigma(x)).
        text: how plain-text output writes it; by default the SymPy name.
        example: a typical value, used where a figure needs one and none was given.
    """

    key: str
    symbol: sp.Basic
    latex: str
    domain: Domain | None = None
    meaning: sp.Basic | None = None
    aliases: tuple[str, ...] = field(default=())
    bare: bool = False
    text: str = ""
    example: Fraction | None = None


def symmetric_densities(rng: random.Random) -> list[sp.Lambda]:
    """Concrete symmetric zero-mean densities of random scale, to stand in for an unknown one."""
    z = sp.Dummy("z", real=True)
    s = sp.Rational(rng.randint(3, 30), 10)
    return [
        sp.Lambda(z, sp.exp(-z**2 / (2 * s**2)) / sp.sqrt(2 * sp.pi * s**2)),
        sp.Lambda(z, sp.exp(-sp.Abs(z) / s) / (2 * s)),
        sp.Lambda(z, sp.exp(-z / s) / (s * (1 + sp.exp(-z / s)) ** 2)),
    ]


def smooth_functions(rng: random.Random) -> list[sp.Lambda]:
    """Concrete differentiable functions of random scale, to stand in for an unknown activation."""
    t = sp.Dummy("t", real=True)
    s = sp.Rational(rng.randint(5, 20), 10)
    return [sp.Lambda(t, sp.tanh(s * t)), sp.Lambda(t, 1 / (1 + sp.exp(-s * t))),
            sp.Lambda(t, sp.sin(s * t) + t / 2), sp.Lambda(t, t**3 / 3 + s * t)]
