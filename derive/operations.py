"""SymPy operations that catalog entries apply as steps, beyond SymPy's own.

Each takes an expression and returns a new one; the engine verifies that they agree.
"""

from __future__ import annotations

import sympy as sp


def rewrite_in_terms_of(expr: sp.Basic, applied: sp.Basic, definition: sp.Basic,
                        variable: sp.Symbol) -> sp.Basic:
    """Rewrite ``expr`` (in ``variable``) in terms of a named function ``applied = definition``.

    Solves ``t = definition`` for the variable, substitutes the inverse and simplifies, so that
    ``exp(-x)/(1 + exp(-x))**2`` becomes ``sigma(x)*(1 - sigma(x))``.
    """
    t = sp.Dummy("t", positive=True)
    for inverse in sp.solve(sp.Eq(t, definition), variable):
        if sp.simplify(definition.subs(variable, inverse) - t) == 0:
            return sp.factor(sp.simplify(expr.subs(variable, inverse))).subs(t, applied)
    raise ValueError(f"cannot invert {definition} for {variable}")


def split_at_zero(integral: sp.Integral) -> sp.Basic:
    """Split an integral over the real line at 0, resolving a piecewise integrand on each half."""
    (variable, low, high), integrand = integral.limits[0], integral.function
    negative, positive = sp.Dummy("z", negative=True), sp.Dummy("z", positive=True)
    halves = []
    for dummy, limits in ((negative, (low, 0)), (positive, (0, high))):
        resolved = sp.piecewise_fold(integrand).subs(variable, dummy).subs(dummy, variable)
        halves.append(sp.Integral(resolved, (variable, *limits)))
    return sp.Add(*(h for h in halves if h.function != 0))


def reflect_negative_half(expr: sp.Basic) -> sp.Basic:
    """Substitute z -> -z in every integral over (-oo, 0), turning it into one over (0, oo)."""
    def reflect(integral):
        variable = integral.limits[0][0]
        return integral.transform(-variable, variable)

    return expr.replace(
        lambda e: isinstance(e, sp.Integral) and e.limits[0][1:] == (-sp.oo, 0), reflect)


def use_symmetry(expr: sp.Basic, density: sp.FunctionClass) -> sp.Basic:
    """Replace p(-z) by p(z) for a symmetric density p."""
    return expr.replace(
        lambda e: isinstance(e, density) and e.args[0].could_extract_minus_sign(),
        lambda e: density(-e.args[0]))


def half_line_to_full(expr: sp.Basic) -> sp.Basic:
    """Write each integral over (0, oo) of an even integrand as half the one over the line."""
    return expr.replace(
        lambda e: isinstance(e, sp.Integral) and e.limits[0][1:] == (0, sp.oo),
        lambda e: sp.Integral(e.function, (e.limits[0][0], -sp.oo, sp.oo)) / 2)


def differentiate_under_sum(expr: sp.Basic, carriers: tuple) -> sp.Basic:
    """d/dv (c * sum_i a_i f_i) -> c * sum_i a_i df_i/dv (linearity): the derivative moves inside
    the sum, and factors that do not contain any of ``carriers`` (the quantities that depend
    on v, such as the softmax p) come out of it."""
    def inside(derivative: sp.Derivative) -> sp.Basic:
        constant, total = derivative.expr.as_independent(sp.Sum, as_Add=False)
        if not isinstance(total, sp.Sum):
            return derivative
        fixed, varying = sp.Mul(*(f for f in sp.Mul.make_args(total.function) if not f.has(*carriers))), \
            sp.Mul(*(f for f in sp.Mul.make_args(total.function) if f.has(*carriers)))
        return constant * sp.Sum(fixed * sp.Derivative(varying, *derivative.variable_count), *total.limits)

    return expr.replace(lambda e: isinstance(e, sp.Derivative), inside)


def derivative_inside(expr: sp.Basic) -> sp.Basic:
    """d/dv (sum_u c_u g_u + b) -> sum_u c_u dg_u/dv: the derivative goes term by term and into
    sums; terms without v vanish, and factors without v stay outside the derivative."""
    def inside(derivative: sp.Derivative) -> sp.Basic:
        (variable, order), = derivative.variable_count
        quantity = variable.base if isinstance(variable, sp.Indexed) else variable

        def term(e: sp.Basic) -> sp.Basic:
            if not e.has(quantity):
                return sp.Integer(0)
            if isinstance(e, sp.Sum):
                return sp.Sum(term(e.function), *e.limits)
            if isinstance(e, sp.Add):
                return sp.Add(*(term(a) for a in e.args))
            constant, varying = e.as_independent(quantity, as_Add=False)
            return constant * sp.Derivative(varying, (variable, order))

        return term(derivative.expr)

    return expr.replace(lambda e: isinstance(e, sp.Derivative) and len(e.variable_count) == 1, inside)


def exchange_sums(expr: sp.Basic) -> sp.Basic:
    """sum_p c_p sum_u g_pu -> sum_u sum_p c_p g_pu: an inner sum whose bounds do not depend on
    the outer index becomes the outer one."""
    def exchange(outer: sp.Sum) -> sp.Basic:
        outer_indices = {limit[0] for limit in outer.limits}
        factors = sp.Mul.make_args(outer.function)
        inner = [f for f in factors if isinstance(f, sp.Sum)
                 and not any(bound.has(*outer_indices) for limit in f.limits for bound in limit[1:])]
        if len(inner) != 1:
            return outer
        (total,) = inner
        rest = sp.Mul(*(f for f in factors if f is not total))
        return sp.Sum(sp.Sum(rest * total.function, *outer.limits), *total.limits)

    return expr.replace(lambda e: isinstance(e, sp.Sum) and any(isinstance(f, sp.Sum) for f in sp.Mul.make_args(e.function)),
                        exchange)


def count_operations(expr: sp.Basic) -> tuple[sp.Basic, sp.Basic]:
    """(multiplications, additions) to evaluate ``expr`` once, as expressions in the sizes.

    A sum of T terms costs T times its term and T - 1 additions; a product of k factors k - 1
    multiplications (a sign is free); a subtraction is an addition; an integer power x^e costs
    e - 1 multiplications. Applying a function (sigma, sigma') counts nothing, as the course
    counts it: its cost is a constant per entry, apart from the matrix products.
    """
    if isinstance(expr, sp.Sum):
        (_, low, high), *rest = expr.limits
        inner = sp.Sum(expr.function, *rest) if rest else expr.function
        terms = high - low + 1
        multiplications, additions = count_operations(inner)
        return terms * multiplications, terms * additions + terms - 1
    if isinstance(expr, (sp.Mul, sp.Add)):
        parts = [count_operations(a) for a in expr.args]
        multiplications, additions = (sp.Add(*column) for column in zip(*parts, strict=True))
        own = len(expr.args) - 1
        if isinstance(expr, sp.Mul):
            return multiplications + own - (1 if expr.args[0] == -1 else 0), additions
        return multiplications, additions + own
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp > 1:
        multiplications, additions = count_operations(expr.base)
        return multiplications + expr.exp - 1, additions
    return sp.Integer(0), sp.Integer(0)


def linearity(expr: sp.Basic) -> sp.Basic:
    """Split every sum and integral over the terms of its body, and pull out of each term the
    factors that do not depend on the bound variable: sum_i c y_i -> c sum_i y_i."""
    def split(operator):
        variable = operator.limits[0][0]
        parts = []
        for term in sp.Add.make_args(sp.expand(operator.function)):
            constant, varying = term.as_independent(variable, as_Add=False)
            parts.append(constant * operator.func(varying, *operator.limits))
        return sp.Add(*parts)

    return expr.replace(lambda e: isinstance(e, (sp.Sum, sp.Integral)), split)


def prefer_one_minus(expr: sp.Basic) -> sp.Basic:
    """Write factors like (s - 1) as (1 - s), moving the signs out: -(s - 1) s -> s (1 - s)."""
    if not isinstance(expr, sp.Mul):
        return expr
    sign, rest = expr.as_coeff_Mul()
    factors = []
    for factor in sp.Mul.make_args(rest):
        base, exponent = factor.as_base_exp()
        if isinstance(base, sp.Add) and base.as_coeff_Add()[0].is_negative and exponent.is_integer:
            base = sp.Add(*(-term for term in base.args))
            sign *= (-1) ** exponent
            factor = base**exponent
        factors.append(factor)
    if sign == 1:
        return sp.Mul(*factors)
    return sp.Mul(sign, *factors, evaluate=False)
