"""Any function differentiated rule by rule: one rule of :mod:`derive.rules` per verified step.

:func:`differentiate` continues a Builder's line ``f'(x) = d/dx body``: each step rewrites the
first unevaluated derivative of the line by the first rule that applies (the engine verifies the
step as any other), then the result is simplified and rewritten in the course's named functions
where that is shorter (sigma, softplus). :func:`function_derivation` makes a whole catalog-style
Derivation of a definition ``f(x) = ...`` (LaTeX read with the project's reader, never evaluated,
or a SymPy body), with targets ``d1`` and, at order 2, ``d2``.
"""

from __future__ import annotations

import dataclasses
import re

import sympy as sp

from . import rules
from .engine import Builder, Derivation
from .errors import UsageError
from .notation import POSITIVE, REAL, Quantity
from .operations import prefer_one_minus

#: Steps a derivative takes at most before it is given up (a runaway expansion).
MAX_STEPS = 400
#: The largest exponent a definition may write (x^{10^100} would take SymPy hours to verify).
MAX_EXPONENT = 1000
#: The largest number a definition may write (e^{10^100 x} overflows every check).
MAX_NUMBER = 10**6
#: Count of operations above which the final simplification does not try to factor.
SIMPLIFY_OPS = 80
#: The step keys a derivative of :func:`differentiate` may print besides the rules themselves.
STEP_KEYS = rules.KEYS | {"definition", "differentiate-again", "rule-simplify", "rule-named"}

_SIGMOID = sp.Lambda(sp.Symbol("t", real=True), 1 / (1 + sp.exp(-sp.Symbol("t", real=True))))


def named_quantities(x: sp.Symbol) -> tuple[Quantity, ...]:
    """The course's named functions a derivative may be written in (sigma, softplus, Phi, phi)."""
    from .catalog.activations import PHI_CDF, PHI_PDF, SIGMA

    softplus = Quantity("softplus", rules.softplus, r"\operatorname{softplus}",
                        meaning=sp.Lambda(x, sp.log(1 + sp.exp(x))))
    return SIGMA, softplus, PHI_CDF, PHI_PDF


class DifferentiationError(UsageError):
    """A function no rule differentiates, or a derivative that does not finish."""


def differentiate(b: Builder, body: sp.Basic, x: sp.Symbol, rule_detail: bool = True,
                  finish: bool = True) -> sp.Basic:
    """Record the steps of d/dx ``body`` in ``b``, whose current line ends in ``d/dx body``.

    One rule per step (each step rewrites the first unevaluated derivative of the line; the chain
    rule records the inner function it names as the step's ``given`` pair u = ...); with
    ``rule_detail`` False, one step ``differentiate`` instead. Then (with ``finish``) one step
    simplifies and one rewrites in the named functions where either makes the result shorter;
    without it the caller goes on in its own steps (the course's sigmoid).

    Returns:
        the derivative the line arrives at.
    """
    if not rule_detail:
        b.apply("differentiate", lambda e: e.doit())
    else:
        for _ in range(MAX_STEPS):
            derivative = _first_derivative(b.current)
            if derivative is None:
                break
            rule = rules.rule_for(derivative.expr, x)
            if rule is None:
                raise DifferentiationError(f"no differentiation rule applies to {derivative.expr}")
            b.equals(rule.key, b.current.xreplace({derivative: rule.expand(derivative.expr, x)}))
            inner = rule.inner(derivative.expr)
            if inner is not None:
                b.steps[-1] = dataclasses.replace(b.steps[-1], given=((_placeholder(x), inner),))
        else:
            raise DifferentiationError(f"the derivative of {body} takes more than {MAX_STEPS} steps")
    current = b.current
    if not finish:
        return current
    simpler = simplest(current)
    if simpler != current:
        b.equals("rule-simplify", simpler)
    named = in_named_functions(simpler, x)
    if named != simpler:
        b.equals("rule-named", named)
    return b.current


def _first_derivative(expr: sp.Basic) -> sp.Derivative | None:
    """The first unevaluated derivative of ``expr``, reading it as the printers write it: terms in
    their printed order, a fraction's numerator before its denominator, factors in printed order."""
    if isinstance(expr, sp.Derivative):
        return expr
    if not expr.has(sp.Derivative):
        return None
    if isinstance(expr, sp.Add):
        children = expr.as_ordered_terms()
    elif isinstance(expr, sp.Mul):
        numerator, denominator = sp.fraction(expr, exact=True)
        children = [*sp.Mul(numerator, evaluate=False).as_ordered_factors(),
                    *sp.Mul(denominator, evaluate=False).as_ordered_factors()]
    else:
        children = expr.args
    return next((found for child in children if (found := _first_derivative(child)) is not None), None)


def _placeholder(x: sp.Symbol) -> sp.Symbol:
    """The name of the inner function: u, or v where the variable is itself called u."""
    return sp.Symbol("v" if x.name == "u" else "u")


def _size(expr: sp.Basic) -> int:
    return sp.count_ops(expr, visual=False)


def simplest(expr: sp.Basic) -> sp.Basic:
    """The shortest of a few equal forms of ``expr`` (as is, common factors taken out, over one
    denominator, and factored where small enough), by SymPy's count of operations; ties keep the
    earlier. (``sympy.simplify`` is not tried: its trigonometric search takes seconds.)"""
    if isinstance(expr, sp.Piecewise):
        return sp.Piecewise(*((simplest(branch), condition) for branch, condition in expr.args))
    expr = expr.replace(_has_sign_pair, _abs_of_sign_pair)
    candidates = [expr]
    if _size(expr) <= SIMPLIFY_OPS:  # factored first: of equal sizes the factored form reads best
        candidates.append(prefer_one_minus(sp.factor(expr)))
        candidates.append(prefer_one_minus(sp.factor_terms(sp.expand(expr))))  # common factors of the terms
    candidates += [prefer_one_minus(sp.factor_terms(expr)), sp.together(expr)]
    best = min(candidates, key=_size)
    return best if _size(best) < _size(expr) else expr


def _has_sign_pair(expr: sp.Basic) -> bool:
    """A product holding both u and sign(u)."""
    return isinstance(expr, sp.Mul) and any(isinstance(f, sp.sign) and f.args[0] in expr.args for f in expr.args)


def _abs_of_sign_pair(expr: sp.Mul) -> sp.Basic:
    """u sign(u) -> |u| in a product (u real)."""
    factors = list(expr.args)
    sign = next(f for f in factors if isinstance(f, sp.sign) and f.args[0] in factors)
    factors.remove(sign)
    factors.remove(sign.args[0])
    return sp.Mul(*factors, sp.Abs(sign.args[0]))


def in_named_functions(expr: sp.Basic, x: sp.Symbol) -> sp.Basic:
    """``expr`` rewritten in sigma and softplus where that is shorter: log(1 + e^u) is softplus(u),
    and e^{u}, e^{-u} are written through s = sigma(u) (e^u = s/(1 - s)) when no e^{+-u} is left:
    first factor by factor in each term (the rest of the term kept as it is: Mish' keeps its
    1 - tanh^2), else in the whole expression at once."""
    if isinstance(expr, sp.Piecewise):
        return sp.Piecewise(*((in_named_functions(branch, x), condition) for branch, condition in expr.args))
    softplus_form = expr.replace(
        lambda e: isinstance(e, sp.log) and _softplus_argument(e.args[0]) is not None,
        lambda e: rules.softplus(_softplus_argument(e.args[0])))
    best = softplus_form
    normal = _in_normal(best)
    if normal != best and _size(normal) < _size(best):
        best = normal
    for argument in sorted({abs_argument(e.args[0]) for e in best.atoms(sp.exp)}, key=sp.default_sort_key):
        s = rules.sigma(argument)
        to_sigma = {sp.exp(argument): s / (1 - s), sp.exp(-argument): (1 - s) / s}
        by_term = sp.Add(*(_in_sigma(term, to_sigma) for term in sp.Add.make_args(best)))
        whole = prefer_one_minus(sp.factor(best.xreplace(to_sigma)))
        free = [r for r in (by_term, whole, _in_tanh(best, argument))
                if r is not None and not any(abs_argument(e.args[0]) == argument for e in r.atoms(sp.exp))]
        if free and _size(shortest := min(free, key=_size)) <= _size(best):
            best = shortest
    return best if _size(best) <= _size(expr) else expr


def _in_tanh(expr: sp.Basic, argument: sp.Basic) -> sp.Basic | None:
    """``expr`` in t = tanh(u) where the exponentials are e^{+-2u} (tanh's own definition):
    e^{2u} = (1 + t)/(1 - t). None where the argument is no 2u, or where the result is no function
    of t alone."""
    coefficient = argument.as_coeff_Mul()[0]
    if coefficient % 2 != 0:
        return None
    t = sp.tanh(argument / 2)
    rewritten = expr.xreplace({sp.exp(argument): (1 + t) / (1 - t), sp.exp(-argument): (1 - t) / (1 + t)})
    if rewritten.xreplace({t: sp.Dummy()}).free_symbols & argument.free_symbols:
        return None  # the variable outside tanh too (x/(1 + e^{-2x})): sigma reads better, and verifies faster
    return min((prefer_one_minus(sp.factor(rewritten)), sp.expand(sp.cancel(rewritten))), key=_size)


def _in_normal(expr: sp.Basic) -> sp.Basic:
    """``expr`` in the standard normal's Phi and phi: erf(a) = 2 Phi(sqrt(2) a) - 1, and
    e^{-u^2/2} = sqrt(2 pi) phi(u); simplified together (GELU's x Phi(x) from erf)."""
    def density(e: sp.exp) -> sp.Basic:
        square = -2 * e.args[0]
        if isinstance(square, sp.Pow) and square.exp == 2:
            return sp.sqrt(2 * sp.pi) * rules.phi(square.base)
        return e

    rewritten = expr.replace(lambda e: isinstance(e, sp.erf), lambda e: 2 * rules.Phi(sp.sqrt(2) * e.args[0]) - 1)
    rewritten = rewritten.replace(lambda e: isinstance(e, sp.exp), density)
    if rewritten == expr:
        return expr
    return min((sp.expand(rewritten), sp.factor_terms(sp.expand(rewritten))), key=_size)


def _in_sigma(term: sp.Basic, to_sigma: dict) -> sp.Basic:
    """The factors of ``term`` that hold e^{+-u}, together written in sigma(u); the others kept."""
    exponentials = tuple(to_sigma)
    holding = [f for f in sp.Mul.make_args(term) if f.has(*exponentials)]
    if not holding:
        return term
    others = [f for f in sp.Mul.make_args(term) if not f.has(*exponentials)]
    part = prefer_one_minus(sp.factor(sp.Mul(*holding).xreplace(to_sigma)))
    return sp.Mul(*others, part)


def _softplus_argument(argument: sp.Basic) -> sp.Basic | None:
    """u where ``argument`` is 1 + e^u, else None."""
    constant, rest = argument.as_coeff_Add()
    return rest.args[0] if constant == 1 and isinstance(rest, sp.exp) else None


def abs_argument(argument: sp.Basic) -> sp.Basic:
    """The argument with its sign taken out (-x -> x), so that e^x and e^-x share one sigma."""
    return -argument if argument.could_extract_minus_sign() else argument


_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,19}")


def read_definition(definition: str | sp.Basic,
                    constants: frozenset = frozenset()) -> tuple[str | None, sp.Basic, sp.Symbol]:
    """(the function's own name or None, its body, its variable) of ``f(x) = ...`` in LaTeX or of
    a SymPy body in x. The variable becomes a real symbol of the same name.

    Raises:
        UsageError: the definition does not read, has no variable or more than one.
    """
    from .check.reader import ReadError, read
    from .check.table import declare_function, table_for

    name = None
    if isinstance(definition, str):
        if not definition.strip():
            raise UsageError("the definition is empty: write it as f(x) = ...")
        table = table_for(None)
        for key, function in (("sigma", rules.sigma), ("softplus", rules.softplus), ("Phi", rules.Phi),
                              ("phi", rules.phi)):
            declare_function(table, key, function)  # the course's named functions, where applied: \sigma(x)
        try:
            sides = read(definition, table).sides
        except ReadError as error:
            raise UsageError(f"the definition does not read: {error}") from None
        if len(sides) > 2:
            raise UsageError("the definition has more than one '=': write it as f(x) = ...")
        if len(sides) == 2:
            head, body = sides
            if not (isinstance(head, sp.core.function.AppliedUndef) and len(head.args) == 1
                    and isinstance(head.args[0], sp.Symbol)):
                raise UsageError("the left side of the definition is not a function of one variable, f(x)")
            name, variable = str(head.func), head.args[0]
        else:
            body, variable = sides[0], None
    else:
        body, variable = sp.sympify(definition, strict=True), None
    if not isinstance(body, sp.Expr) or body.has(sp.Derivative, sp.Integral, sp.Sum):
        raise UsageError("the definition is not an expression of one variable")
    for number in body.atoms(sp.Number):
        if abs(number) > MAX_NUMBER:
            raise UsageError(f"the number {_short(number)} is too large (at most {MAX_NUMBER:,} in size)")
    for power in body.atoms(sp.Pow):
        if power.exp.is_number and abs(power.exp) > MAX_EXPONENT:
            raise UsageError(f"the exponent {_short(power.exp)} is too large (at most {MAX_EXPONENT} in size)")
    body = body.replace(lambda e: isinstance(e, (sp.Max, sp.Min)), lambda e: e.rewrite(sp.Piecewise))
    unknown = sorted({str(e.func) for e in body.atoms(sp.Function)
                      if type(e) not in rules.OUTER and not isinstance(e, sp.Piecewise)})
    if unknown:
        raise UsageError(f"no differentiation rule knows {', '.join(unknown)}: the rules know "
                         "exp, ln, sin, cos, tan, arctan, sinh, cosh, tanh, erf, sigma, softplus, Phi, phi, "
                         "|x|, sign, max, min and cases")
    free = body.free_symbols - constants
    if variable is None:
        if len(free) != 1:
            raise UsageError(f"the definition must have exactly one variable, not {len(free)}"
                             + (f" ({', '.join(sorted(map(str, free)))})" if free else ""))
        (variable,) = free
    elif free - {variable}:
        raise UsageError(f"the definition uses {', '.join(sorted(map(str, free - {variable})))} "
                         f"besides its variable {variable}")
    elif not free:
        raise UsageError(f"the definition does not use its variable {variable}")
    real = sp.Symbol(variable.name, real=True)
    return name, body.xreplace({variable: real}), real


def _short(number: sp.Basic) -> str:
    text = str(number)
    return text if len(text) <= 20 else f"{text[:8]}... ({len(text)} characters)"


def _domain(body: sp.Basic, x: sp.Symbol):
    """Where the function is real: the real line, or x > 0 where it is not real for x < 0
    (x^x, ln x, sqrt x)."""
    for point in (sp.Rational(-1, 3), sp.Rational(-7, 4)):
        value = sp.N(body.xreplace({x: point}), 15)
        if value.has(sp.I) or value.is_real is False or value.has(sp.zoo, sp.nan):
            return POSITIVE
    return REAL


def function_quantity(name: str, body: sp.Basic, x: sp.Symbol) -> Quantity:
    """The quantity of the function ``name(x) = body``: written \\operatorname{name} where the name
    is plain letters and digits, else f."""
    plain = name if _NAME.fullmatch(name) else "f"
    latex = plain if len(plain) == 1 else rf"\operatorname{{{plain}}}"
    return Quantity(plain, sp.Function(plain), latex, meaning=sp.Lambda(x, body), aliases=("f",))


def function_derivation(name: str, definition: str | sp.Basic, order: int = 1, title: str | None = None,
                        family: str = "activations", rule_detail: bool = True,
                        parameters: tuple[Quantity, ...] = (), function_name: str | None = None) -> Derivation:
    """The verified derivation of f' (and f'' at order 2) of a definition, rule by rule.

    Args:
        name: the derivation's name (a catalog or file entry's name, or the function's own).
        definition: LaTeX ``f(x) = ...`` (read with the neutral table, never evaluated) or a
            SymPy body in one variable.
        order: 1 or 2.
        title: the derivation's own title (None: the name).
        family: its catalog family.
        rule_detail: one rule per step (True) or one ``differentiate`` step.
        parameters: the quantities of a SymPy body's constants besides its variable (the catalog's
            alpha of ELU), with their domains.
        function_name: how the function is written (LeakyReLU); default the definition's own name
            (f in ``f(x) = ...``), else ``name``.

    Returns:
        a Derivation with targets ``d1`` (and ``d2``).

    Raises:
        UsageError: the definition does not read, or no rule differentiates it.
    """
    if order not in (1, 2):
        raise UsageError(f"the order must be 1 or 2, not {order}")
    own, body, x = read_definition(definition, frozenset(q.symbol for q in parameters))
    f = function_quantity(function_name or own or name, body, x)
    variable = Quantity(x.name, x, sp.latex(x), _domain(body, x))
    named = named_quantities(x)
    b = Builder(name, family, (variable, f, *parameters, *named), conventions=_conventions(body))
    b.define(sp.Derivative(f.symbol(x), x), sp.Derivative(body, x))
    d1 = differentiate(b, body, x, rule_detail)
    b.result("d1")
    if order == 2:
        b.define(sp.Derivative(f.symbol(x), (x, 2)), sp.Derivative(d1, x), "differentiate-again")
        differentiate(b, d1, x, rule_detail)
        b.result("d2")
    derivation = b.build(title if title is not None else None)
    used = set().union(*(s.rhs.atoms(sp.Function) for s in derivation.steps if isinstance(s.rhs, sp.Basic)))
    used = {type(e) for e in used}
    keep = tuple(q for q in derivation.quantities if q not in named or q.symbol in used)
    return dataclasses.replace(derivation, quantities=keep)


def _conventions(body: sp.Basic) -> tuple[str, ...]:
    """The conventions a derivative's value at a kink depends on."""
    conventions = []
    if body.has(sp.Piecewise):
        conventions.append("piecewise-at-kink")
    if body.has(sp.Abs):
        conventions.append("abs-at-kink")
    return tuple(conventions)
