"""A worked backprop problem in the course's arithmetic: decimals, max{0, x}, one line per value.

The run computes exactly (see :mod:`derive.backprop.exact`); this module only changes how its
derivation is printed. Every value becomes a decimal as seed 000 2.1 writes it: a value with at
most :data:`EXACT_DECIMALS` decimals in full (0.025538, 0.253504), any other rounded to
:data:`DIGITS` significant digits and marked with ≈ (0.01598), the rounding stated once as a
convention of the derivation. ``exact=True`` keeps the exact fractions. A ReLU node prints as
max{0, x}; its derivative as cases with the complementary condition (never "otherwise").

Each computed value is one line, ``lhs = formula = numbers = value`` (a chain-rule sum: the
formula on one line, the numbers and the value on the next), and a local derivative is shown only
where the chain-rule lines do not already show it: not toward an input, not a bare name or number;
the error δ of a node shared by several gradients is written once (:mod:`derive.backprop.deltas`).
The targets keep their exact values (the checker grades against them); only their display changes.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal, localcontext

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from ..engine import DEFINE, EQUALS, Derivation, Step
from ..notation import Quantity
from .deltas import with_deltas

#: Significant digits of a value that is not a short decimal (the seed's 0.01598, 0.3212).
DIGITS = 4
#: A value with at most this many decimals is printed in full (the seed's 0.3212453271).
EXACT_DECIMALS = 10
#: The convention key (wording tables, ``[conventions]``) that states the rounding.
ROUNDING = "backprop-decimals"


class Times(sp.Expr):
    """A product of numbers as the seed writes it: 0.6 × 0.2, a negative factor in parentheses."""

    is_commutative = True
    precedence = PRECEDENCE["Mul"]

    def _latex(self, printer):
        return r" \times ".join(_factor(printer, a, r"\left(", r"\right)", strict=True) for a in self.args)

    def _derive_str(self, printer):
        return " * ".join(_factor(printer, a, "(", ")") for a in self.args)

    _sympystr = _derive_str


def _factor(printer, factor, left: str, right: str, strict: bool = False) -> str:
    """A factor of a product of numbers, in parentheses where it is negative or binds more loosely
    (a fraction too in text, 9/50 * 1/2 being ambiguous there; not in LaTeX, where it is stacked)."""
    shown = printer._print(factor)
    negative = factor.is_number and factor.is_negative
    loose = printer.parenthesize(factor, PRECEDENCE["Mul"], strict=strict) != shown
    return f"{left}{shown}{right}" if negative or loose else shown


class Neg(sp.Expr):
    """-x of a formula's -1 coefficient, with the number put in: -(-0.5) where x is -0.5 (a value
    -1 put in for a name is a factor, never taken for the sign)."""

    is_commutative = True
    precedence = PRECEDENCE["Mul"]

    def _latex(self, printer):
        return "-" + _factor(printer, self.args[0], r"\left(", r"\right)", strict=True)

    def _derive_str(self, printer):
        return "-" + _factor(printer, self.args[0], "(", ")")

    _sympystr = _derive_str


class Terms(sp.Expr):
    """A sum with the numbers put in, its terms in the order the formula prints them (2*y - 2*t:
    2 * 0.5 - 2 * 1); args alternate a sign (true: minus) and a term's magnitude."""

    is_commutative = True
    precedence = PRECEDENCE["Add"]

    def _latex(self, printer):
        return self._joined(printer, r"\left(", r"\right)")

    def _derive_str(self, printer):
        return self._joined(printer, "(", ")")

    _sympystr = _derive_str

    def _joined(self, printer, left: str, right: str) -> str:
        text = ""
        for n, (minus, term) in enumerate(zip(self.args[::2], self.args[1::2], strict=True)):
            if isinstance(term, sp.Number) and term.is_negative:  # 0.5 + (-1) as 0.5 - 1
                minus, term = not minus, -term
            shown = printer._print(term)
            if printer.parenthesize(term, PRECEDENCE["Add"], strict=bool(minus)) != shown:
                shown = f"{left}{shown}{right}"
            text += (" - " if minus else " + ") + shown if n else ("-" if minus else "") + shown
        return text


def _printed_order(terms: tuple) -> list:
    """A sum's terms in the order derive's printers write them (stored order, a positive term
    first: see derive.printing._NotationRules._as_ordered_terms)."""
    terms = list(terms)
    if terms and terms[0].could_extract_minus_sign():
        for n, term in enumerate(terms):
            if not term.could_extract_minus_sign():
                return [term, *terms[:n], *terms[n + 1:]]
    return terms


class Relu(sp.Expr):
    """max{0, x}: the course's ReLU (seed 000: f(x) = max{0, x})."""

    is_commutative = True

    def _latex(self, printer):
        return rf"\max\{{0, {printer._print(self.args[0])}\}}"

    def _derive_str(self, printer):
        return f"max{{0, {printer._print(self.args[0])}}}"

    _sympystr = _derive_str


class Cases(sp.Expr):
    """A piecewise value (ReLU's derivative): cases in LaTeX, "1 if a > 0; 0 if a <= 0" in text."""

    is_commutative = True

    def _latex(self, printer):
        return printer._print(self.args[0])

    def _derive_str(self, printer):
        branches, previous = [], None
        for value, condition in self.args[0].args:
            if condition is sp.true and isinstance(previous, sp.core.relational.Relational):
                condition = previous.negated
            branches.append(f"{printer._print(value)} if {printer._print(condition)}")
            previous = condition
        return "(" + "; ".join(branches) + ")"

    _sympystr = _derive_str


class Chain(sp.Expr):
    """Equal (or, where a number is rounded, approximately equal) forms of one value on one line."""

    is_commutative = True

    def _latex(self, printer):
        return self._joined(printer, " = ", r" \approx ")

    def _derive_str(self, printer):
        return self._joined(printer, " = ", " ~ ")

    _sympystr = _derive_str

    def _joined(self, printer, equal: str, approx: str) -> str:
        parts, text = self.args[::2], printer._print(self.args[0])
        for part, rounded in zip(parts[1:], self.args[1::2], strict=True):
            text += (approx if rounded else equal) + printer._print(part)
        return text


def decimal(value: sp.Basic) -> tuple[sp.Basic, bool]:
    """``value`` as the seed prints it, and whether it was rounded: an integer as it is, a
    rational with at most EXACT_DECIMALS decimals in full, anything else to DIGITS significant
    digits (a value that is not a real number is returned as it is)."""
    if value.is_Integer or not value.is_number or not value.is_real:
        return value, False
    if value.is_Rational and 10**EXACT_DECIMALS % value.q == 0:
        with localcontext() as context:
            context.prec = len(str(abs(value.p))) + EXACT_DECIMALS + 2
            text, rounded = str(Decimal(value.p) / Decimal(value.q)), False
    else:
        number = Decimal(str(sp.N(value, 30)))
        if number == 0:
            return sp.Integer(0), True
        if abs(number) >= 10 ** (DIGITS - 1):  # 1234.5678 -> 1235, 123456.7 -> 123457: a whole number
            return sp.Integer(int(number.to_integral_value())), True
        text, rounded = f"{number:.{DIGITS}g}", True
    shown = Decimal(text).normalize()
    if shown == shown.to_integral_value() and not rounded:
        return sp.Integer(int(shown)), False
    digits = max(1, len(shown.as_tuple().digits))
    return sp.Float(format(shown, "f") if abs(shown) >= Decimal("1e-4") else str(shown), digits), rounded


def _numbers(expr: sp.Basic, exact: bool) -> tuple[sp.Basic, bool]:
    """An exact number shown as a decimal (or kept, ``exact``), and whether it was rounded."""
    return (expr, False) if exact else decimal(expr)


def _course(expr: sp.Basic) -> sp.Basic:
    """ReLU written as max{0, x}: Piecewise((a, a > 0), (0, True)) becomes Relu(a)."""
    def relu(node):
        if isinstance(node, sp.Piecewise) and len(node.args) == 2 and node.args[1].cond is sp.true \
                and node.args[1].expr == 0 and isinstance(node.args[0].cond, sp.StrictGreaterThan) \
                and node.args[0].cond.rhs == 0 and node.args[0].cond.lhs == node.args[0].expr:
            return Relu(_course(node.args[0].expr))
        return Cases(node) if isinstance(node, sp.Piecewise) else None
    if not isinstance(expr, sp.Basic) or expr.is_Atom:
        return expr
    replaced = relu(expr)
    if replaced is not None:
        return replaced
    with sp.evaluate(False):
        return expr.func(*(_course(a) for a in expr.args)) if expr.args else expr


def _substituted(formula: sp.Basic, values: dict, exact: bool) -> tuple[sp.Basic, bool]:
    """The formula with the numbers put in (as decimals unless ``exact``), products of numbers
    written with ×; and whether a number was rounded."""
    rounded = False
    shown = {}
    for symbol, value in values.items():
        shown[symbol], was = _numbers(value, exact)
        rounded |= was
    return _put_in(_course(formula), shown), rounded


def _short(number) -> bool:
    return isinstance(number, (sp.Float, sp.Integer)) or isinstance(number, sp.Rational) \
        and 10**EXACT_DECIMALS % number.q == 0


def _put_in(expr: sp.Basic, shown: dict) -> sp.Basic:
    """``expr`` with the numbers ``shown`` put in for its names, written as the formula is: a sum's
    terms in the formula's printed order, the formula's own signs kept apart from the values (a
    value -1 put in stays a factor), a product of numbers with ×."""
    if expr in shown:
        return shown[expr]
    if not isinstance(expr, sp.Basic) or expr.is_Atom or not expr.args:
        return expr
    if isinstance(expr, sp.Add):
        args = []
        for term in _printed_order(expr.args):
            minus = term.could_extract_minus_sign()
            args += [sp.true if minus else sp.false, _put_in(-term if minus else term, shown)]
        return Terms(*args)
    if isinstance(expr, sp.Mul) and expr.args[0] == -1:
        with sp.evaluate(False):
            rest = sp.Mul(*expr.args[1:]) if len(expr.args) > 2 else expr.args[1]
        rest = _put_in(rest, shown)
        return -rest if isinstance(rest, sp.Number) else Neg(rest)  # e^{-x} at x = 0.5: e^{-0.5}
    args = [_put_in(a, shown) for a in expr.args]
    with sp.evaluate(False):
        if isinstance(expr, sp.Mul) and len(args) >= 2 and all(_short(a) for a in args):
            return Times(*args)
        return expr.func(*args)


@dataclasses.dataclass(frozen=True)
class Record:
    """One value the run computed: ``lhs = formula``, the numbers put in, the exact value, the
    rule, and the operand a local derivative is taken toward (its kind: input, param or node)."""

    lhs: sp.Basic
    formula: sp.Basic
    values: dict
    value: sp.Basic
    rule: str
    count: int
    toward: str = ""


def course_form(derivation: Derivation, records: list[Record], exact: bool = False) -> Derivation:
    """The derivation as the course prints it (see the module's docstring): one line per value,
    decimals unless ``exact``, the local derivatives the chain-rule lines do not show left out,
    the errors δ of shared nodes written once (:mod:`derive.backprop.deltas`)."""
    proved, position = [], 0
    for record in records:
        proof = derivation.steps[position + record.count - 1].certificate
        position += record.count
        if record.rule == "chain-rule":
            record = dataclasses.replace(record, formula=_along_paths(record.formula))
        proved.append((record, proof))
    latex = {q.key: q.latex for q in derivation.quantities}
    shown_records, quantities, group = [], [], []
    for record, proof in [*proved, (None, None)]:
        if record is not None and record.rule == "chain-rule":
            group.append((record, proof))
            continue
        if group:
            proofs = {id(r): p for r, p in group}
            rewritten, made = with_deltas([r for r, _ in group], latex)
            first = group[0][1]
            shown_records += [(r, proofs.get(id(r), first)) for r in rewritten]
            quantities += made
            group = []
        if record is not None:
            shown_records.append((record, proof))
    steps, local = [], {}
    for record, proof in shown_records:
        steps += _lines(record, proof, local, exact)
    targets = {name: dataclasses.replace(target, shown=_numbers(target.rhs, exact)[0])
               if isinstance(target.rhs, sp.Expr) and target.rhs.is_number else target
               for name, target in derivation.targets.items()}
    decimals = any(isinstance(step.shown, sp.Basic) and step.shown.has(sp.Float) for step in steps)
    conventions = derivation.conventions + ((ROUNDING,) if decimals and ROUNDING not in derivation.conventions
                                            else ())
    known = {q.key for q in derivation.quantities}
    quantities += _partials(steps, latex, known)
    quantities = derivation.quantities + tuple({q.key: q for q in quantities if q.key not in known}.values())
    return dataclasses.replace(derivation, steps=tuple(steps), targets=targets, conventions=conventions,
                               quantities=quantities)


def _partials(steps: list[Step], latex: dict[str, str], known: set[str]) -> list[Quantity]:
    """The factors dT/dB of the chain lines that have no quantity of their own (a sample's or a
    later step's chain: its local derivatives carry the label), written as fractions of partials."""
    found = []
    for step in steps:
        for symbol in step.shown.free_symbols if isinstance(step.shown, sp.Basic) else ():
            match = re.fullmatch(r"d([A-Za-z]\w*)/d([A-Za-z]\w*)", symbol.name)
            if match and symbol.name not in known:
                top, below = (latex.get(n, n) for n in match.groups())
                found.append(Quantity(symbol.name, symbol, rf"\frac{{\partial {top}}}{{\partial {below}}}",
                                      text=symbol.name))
    return found


def _lines(record: Record, proof, local: dict, exact: bool) -> list[Step]:
    """The lines of one computed value: none for a local derivative the chain lines show, one
    (lhs = formula = numbers = value), or two for a chain-rule sum (the formula, then the rest)."""
    if record.rule == "local-derivative":
        local[record.lhs.name] = record
        if record.toward == "input" or isinstance(record.formula, (sp.Symbol, sp.Number)):
            return []
    if record.rule == "chain-rule" and isinstance(record.formula, sp.Symbol) and record.formula.name in local \
            and record.toward != "delta":
        # one edge to the loss (df/dz of f = s z): the local derivative is the whole chain
        direct = local[record.formula.name]
        record = dataclasses.replace(record, formula=direct.formula, values=direct.values, rule="local-derivative")
    value, rounded = _numbers(record.value, exact)
    formula = _course(record.formula)
    if record.formula.is_Number:
        return [Step(record.rule, DEFINE, record.value, record.lhs, proof, shown=value)]
    numbers, approx = _substituted(record.formula, record.values, exact)
    piecewise = record.formula.has(sp.Piecewise) and not isinstance(formula, Relu)
    parts = [] if not record.values or piecewise or numbers == value else [numbers, approx]
    one_product = record.rule == "chain-rule" and len(sp.Mul.make_args(record.formula)) <= 5 and not isinstance(
        record.formula, sp.Add)
    if record.rule in ("chain-rule", "batch-mean") and record.toward != "delta" and not one_product:
        shown = Chain(numbers, sp.true if rounded or approx else sp.false, value) if parts else value
        return [Step(record.rule, DEFINE, record.formula, record.lhs, shown=formula),
                Step("evaluate", EQUALS, record.value, None, proof, shown=shown)]
    return [Step(record.rule, DEFINE, record.value, record.lhs, proof, shown=_chain(formula, parts, value, rounded))]


def _along_paths(chain: sp.Basic) -> sp.Basic:
    """A chain-rule sum with each product's factors in the order of its path, from the loss down
    (dE/dy dy/dbeta dbeta/dw, as the seed writes it), not SymPy's alphabetical order."""
    def split(factor):
        top, _, below = factor.name[1:].partition("/d") if isinstance(factor, sp.Symbol) else ("", "", "")
        return top, below

    def ordered(term):
        factors = list(sp.Mul.make_args(term))
        if not all(isinstance(f, sp.Symbol) and "/d" in f.name for f in factors):
            return term
        belows = {split(f)[1] for f in factors}
        path = [f for f in factors if split(f)[0] not in belows][:1]
        while path and len(path) < len(factors):
            following = [f for f in factors if split(f)[0] == split(path[-1])[1] and f not in path]
            if not following:
                return term
            path.append(following[0])
        return sp.Mul(*path, evaluate=False) if len(path) == len(factors) else term

    terms = [ordered(t) for t in sp.Add.make_args(chain)]
    return sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]


def _chain(formula: sp.Basic, parts: list, value: sp.Basic, rounded: bool) -> sp.Basic:
    """formula = numbers = value, ≈ before rounded numbers and before a rounded result (the seed's
    E+ = 1/2 (y' - yhat)^2 ≈ 1/2 (0.3212 - 0.5)^2 ≈ 0.01598)."""
    args = [formula]
    if parts:
        numbers, approx = parts
        args += [sp.true if approx else sp.false, numbers, sp.true if approx or rounded else sp.false, value]
    else:
        args += [sp.true if rounded else sp.false, value]
    return Chain(*args)
