"""Softmax, log-softmax and softmax cross-entropy: index-valued gradients over C classes.

Results hold for every class count C; each is also checked entry by entry for C = 2..5
against the definition written out with C concrete terms.
"""

from __future__ import annotations

import sympy as sp

from ..engine import Builder, Derivation
from ..notation import CLASS_COUNT, LABEL, REAL, Quantity, index_domain
from ..operations import differentiate_under_sum, linearity
from .registry import Entry, get
from .shown import over, plus, times

C = sp.Symbol("C", integer=True, positive=True)
i, j, k = (sp.Symbol(name, integer=True, positive=True) for name in "ijk")
y = sp.IndexedBase("y", real=True)
L = sp.Symbol("L")
CONCRETE_SIZES = {C: range(2, 6)}


def _family(logits: str) -> tuple[sp.IndexedBase, sp.IndexedBase, sp.Basic, tuple[Quantity, ...]]:
    """The logits, the softmax p over them, the normaliser, and the family's quantities."""
    x = sp.IndexedBase(logits, real=True)
    p = sp.IndexedBase("p", positive=True)
    total = sp.Sum(sp.exp(x[j]), (j, 1, C))
    quantities = (
        Quantity("C", C, "C", CLASS_COUNT, aliases=("K",)),
        Quantity("i", i, "i", index_domain(C)),
        Quantity("k", k, "k", index_domain(C)),
        Quantity(logits, x, logits, REAL, aliases=("z", "x", "a")),
        Quantity("p", p, "p", meaning=sp.Lambda(i, sp.exp(x[i]) / total),
                 aliases=(r"\operatorname{softmax}(x)", r"\hat{y}", "s")),
    )
    return x, p, total, quantities


def sift_deltas(expr: sp.Basic) -> sp.Basic:
    """Evaluate sums against a Kronecker delta, using that every index lies in 1..C."""
    evaluated = expr.replace(lambda e: isinstance(e, sp.Sum) and e.has(sp.KroneckerDelta),
                             lambda e: e.doit())
    return evaluated.replace(lambda e: isinstance(e, sp.Piecewise),
                             lambda e: e.args[0].expr)


def rewrite_as_p(expr: sp.Basic, x: sp.IndexedBase, p: sp.IndexedBase, total: sp.Basic) -> sp.Basic:
    """Replace exp(x_m) (or exp(x_m / T), the terms of ``total``) by p_m times the normaliser, then cancel."""
    normaliser = sp.Dummy("S", positive=True)
    expr = expr.xreplace({total: normaliser})
    exps = {}
    for power in expr.atoms(sp.exp):
        entries = [atom for atom in power.args[0].atoms(sp.Indexed) if atom.base == x]
        if len(entries) == 1:
            exps[power] = p[entries[0].indices[0]] * normaliser
    return sp.factor(sp.cancel(expr.xreplace(exps)))


def _opening(name: str, outer) -> tuple[Builder, sp.IndexedBase, sp.IndexedBase, sp.Basic]:
    """Open the line d outer(p_i) / dx_k = d outer(e^{x_i} / sum_j e^{x_j}) / dx_k."""
    x, p, total, quantities = _family("x")
    b = Builder(name, "softmax", quantities)
    b.define(sp.Derivative(outer(p[i]), x[k]), sp.Derivative(outer(sp.exp(x[i]) / total), x[k]))
    return b, x, p, total


def softmax() -> Derivation:
    """p_i = e^{x_i} / sum_j e^{x_j}: dp_i/dx_k = p_i (delta_ik - p_k)."""
    b, x, p, total = _opening("softmax", lambda e: e)
    delta_ik = sp.KroneckerDelta(i, k)
    b.apply("quotient-rule", sp.Derivative.doit)
    b.show(plus(over(times(delta_ik, sp.exp(x[i])), total),
                times(-1, over(times(sp.exp(x[i]), sp.Sum(times(delta_ik.subs(i, j), sp.exp(x[j])), (j, 1, C))),
                               total**2))))
    b.apply("sift-delta", sift_deltas)
    b.show(plus(over(times(delta_ik, sp.exp(x[i])), total), times(-1, over(times(sp.exp(x[i]), sp.exp(x[k])), total**2))))
    b.apply("rewrite-as-p", lambda e: sp.expand(rewrite_as_p(e, x, p, total)))
    b.show(plus(times(p[i], delta_ik), times(-1, p[i], p[k])))
    b.apply("factor", sp.factor)
    b.show(times(p[i], plus(delta_ik, -p[k])))
    b.result("jacobian", entrywise=CONCRETE_SIZES)
    return b.build()


def log_softmax() -> Derivation:
    """log p_i = x_i - log sum_j e^{x_j}: d log p_i / dx_k = delta_ik - p_k."""
    b, x, p, total = _opening("log-softmax", sp.log)
    b.apply("log-of-quotient", lambda e: sp.expand_log(e, force=True))
    b.apply("differentiate", sp.Derivative.doit)
    b.apply("sift-delta", sift_deltas)
    b.apply("rewrite-as-p", lambda e: rewrite_as_p(e, x, p, total))
    b.result("grad", entrywise=CONCRETE_SIZES)
    return b.build()


def labels_sum_to_one(labels: sp.IndexedBase, size: sp.Symbol) -> dict:
    """The relation sum_i y_i = 1 (one-hot or probability labels), for the checker: the last label
    is one minus the others, which range freely, so that an answer may use the sum either way."""
    free = sp.IndexedBase(sp.Dummy("y", real=True), real=True)
    m = sp.Dummy("m", integer=True, positive=True)
    return {labels: sp.Lambda(i, sp.Piecewise((1 - sp.Sum(free[m], (m, 1, size - 1)), sp.Eq(i, size)),
                                              (free[i], True)))}


def softmax_ce() -> Derivation:
    """L = -sum_i y_i log p_i with sum_i y_i = 1: dL/dz_k = p_k - y_k."""
    z, p, _, quantities = _family("z")
    labels = Quantity("y", y, "y", LABEL, aliases=("t", "q"))
    loss = Quantity("L", L, "L", meaning=-sp.Sum(y[i] * sp.log(p[i]), (i, 1, C)))
    b = Builder("softmax-ce", "softmax", (*quantities, labels, loss),
                assumptions=("labels-sum-to-one",), relations=labels_sum_to_one(y, C))
    b.define(sp.Derivative(L, z[k]), sp.Derivative(loss.meaning, z[k]))
    b.apply("linearity", lambda e: differentiate_under_sum(e, (p, z)))
    grad = get("log-softmax").target("grad").rhs
    b.apply("log-softmax-gradient",
            lambda e: e.replace(lambda d: isinstance(d, sp.Derivative), lambda d: grad))
    b.show(times(-1, sp.Sum(times(y[i], grad), (i, 1, C))))
    b.apply("linearity", lambda e: linearity(sp.expand(e)))
    b.apply("sift-delta", sift_deltas)
    one = {sp.Sum(y[i], (i, 1, C)): 1}
    b.apply("labels-sum-to-one", lambda e: e.xreplace(one), given=one)
    b.result("dl_dz", entrywise=CONCRETE_SIZES,
             constraint=lambda n: {y[n]: 1 - sum(y[m] for m in range(1, n))})
    return b.build()


ENTRIES = (
    Entry("softmax", "softmax", softmax, ("jacobian",)),
    Entry("log-softmax", "softmax", log_softmax, ("grad",)),
    Entry("softmax-ce", "softmax", softmax_ce, ("dl_dz",)),
)
