"""Attention: softmax with a temperature T, and the 1/sqrt(d) scaling of dot-product attention.

The temperature's Jacobian is derived as softmax's is (softmax.py), with the inner derivative 1/T
of z_j/T: dp_i/dz_k = p_i (delta_ik - p_k) / T, checked entry by entry for C = 2..5 classes.
The scaling: q . k is a sum of d independent products q_i k_i of zero-mean unit-variance entries,
each of variance 1, so Var(q . k) = d, and dividing by sqrt(d) brings the variance back to 1.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from ..engine import Builder, Derivation
from ..notation import CLASS_COUNT, POSITIVE, REAL, SIZE, Quantity, index_domain
from .registry import Entry
from .shown import over, plus, times
from .softmax import rewrite_as_p, sift_deltas

C = sp.Symbol("C", integer=True, positive=True)
i, j, k = (sp.Symbol(name, integer=True, positive=True) for name in "ijk")
T = sp.Symbol("T", positive=True)
CONCRETE_SIZES = {C: range(2, 6)}


def softmax_temperature() -> Derivation:
    """p_i = e^{z_i/T} / sum_j e^{z_j/T}: dp_i/dz_k = p_i (delta_ik - p_k) / T."""
    z = sp.IndexedBase("z", real=True)
    p = sp.IndexedBase("p", positive=True)
    total = sp.Sum(sp.exp(z[j] / T), (j, 1, C))
    quantities = (
        Quantity("C", C, "C", CLASS_COUNT, aliases=("K",)),
        Quantity("i", i, "i", index_domain(C)),
        Quantity("k", k, "k", index_domain(C)),
        Quantity("T", T, "T", POSITIVE, aliases=(r"\tau",), example=Fraction(2)),
        Quantity("z", z, "z", REAL, aliases=("x", "a")),
        Quantity("p", p, "p", meaning=sp.Lambda(i, sp.exp(z[i] / T) / total), aliases=(r"\hat{y}", "s")),
    )
    b = Builder("softmax-temperature", "attention", quantities)
    delta_ik = sp.KroneckerDelta(i, k)
    b.define(sp.Derivative(p[i], z[k]), sp.Derivative(sp.exp(z[i] / T) / total, z[k]))
    b.apply("quotient-rule", sp.Derivative.doit)
    b.show(plus(over(times(delta_ik, sp.exp(z[i] / T)), times(T, total)),
                times(-1, over(times(sp.exp(z[i] / T), sp.Sum(times(delta_ik.subs(i, j), sp.exp(z[j] / T)), (j, 1, C))),
                               times(T, total**2)))))
    b.apply("sift-delta", sift_deltas)
    b.show(plus(over(times(delta_ik, sp.exp(z[i] / T)), times(T, total)),
                times(-1, over(times(sp.exp(z[i] / T), sp.exp(z[k] / T)), times(T, total**2)))))
    b.apply("rewrite-as-p", lambda e: sp.expand(rewrite_as_p(e, z, p, total)))
    b.show(plus(over(times(p[i], delta_ik), T), times(-1, over(times(p[i], p[k]), T))))
    b.apply("factor", sp.factor)
    b.show(over(times(p[i], plus(delta_ik, -p[k])), T))
    b.result("temp_jacobian", entrywise=CONCRETE_SIZES)
    return b.build()


def _moment(key: str, latex: str, text: str, **extra) -> Quantity:
    """A moment of the entries (E[q_i^2], Var(q . k)), named as the course writes it."""
    return Quantity(key, sp.Symbol(key, real=True), latex, extra.pop("domain", None), text=text, **extra)


d = sp.Symbol("d", integer=True, positive=True)
MEAN_Q = _moment("mean_q", r"\operatorname{E}[q_i]", "E[q_i]", domain=REAL)
MEAN_K = _moment("mean_k", r"\operatorname{E}[k_i]", "E[k_i]", domain=REAL)
VAR_Q = _moment("var_q", r"\operatorname{Var}(q_i)", "Var(q_i)", domain=POSITIVE)
VAR_K = _moment("var_k", r"\operatorname{Var}(k_i)", "Var(k_i)", domain=POSITIVE)
SQUARE_Q = _moment("square_q", r"\operatorname{E}[q_i^2]", "E[q_i^2]", meaning=VAR_Q.symbol + MEAN_Q.symbol**2)
SQUARE_K = _moment("square_k", r"\operatorname{E}[k_i^2]", "E[k_i^2]", meaning=VAR_K.symbol + MEAN_K.symbol**2)
VAR_TERM = _moment("var_qk_term", r"\operatorname{Var}(q_i k_i)", "Var(q_i k_i)")
VAR_DOT = _moment("var_qk", r"\operatorname{Var}(q \cdot k)", "Var(q.k)")
VAR_SCALED = _moment("var_scaled", r"\operatorname{Var}\left(\frac{q \cdot k}{\sqrt{d}}\right)", "Var(q.k/sqrt(d))")
UNIT_ENTRIES = {MEAN_Q.symbol: 0, MEAN_K.symbol: 0, VAR_Q.symbol: 1, VAR_K.symbol: 1}


def attention_scaling() -> Derivation:
    """For q, k in R^d with independent zero-mean unit-variance entries: Var(q . k) = d, the variance
    of a sum of d independent products of variance 1 each; hence Var(q . k / sqrt(d)) = 1."""
    quantities = (Quantity("d", d, "d", SIZE, aliases=("d_k", "n")),
                  Quantity("i", i, "i", index_domain(d)),
                  MEAN_Q, MEAN_K, VAR_Q, VAR_K, SQUARE_Q, SQUARE_K, VAR_TERM, VAR_DOT, VAR_SCALED)
    b = Builder("attention-scaling", "attention", quantities,
                assumptions=("independent-entries", "unit-variance-entries"), relations=UNIT_ENTRIES)
    mean_q, mean_k, square_q, square_k = MEAN_Q.symbol, MEAN_K.symbol, SQUARE_Q.symbol, SQUARE_K.symbol
    means = times(mean_q**2, mean_k**2)
    b.define(VAR_TERM.symbol, square_q * square_k - mean_q**2 * mean_k**2, "independent-product")
    b.show(plus(times(square_q, square_k), times(-1, means)))
    b.apply("second-moments", lambda e: e.xreplace({square_q: SQUARE_Q.meaning, square_k: SQUARE_K.meaning}))
    b.show(plus(times(SQUARE_Q.meaning, SQUARE_K.meaning), times(-1, means)))
    b.apply("unit-entries", lambda e: e.xreplace(UNIT_ENTRIES), given=UNIT_ENTRIES)
    b.result("term_var")

    b.define(VAR_DOT.symbol, sp.Sum(VAR_TERM.symbol, (i, 1, d)), "variance-of-independent-sum")
    b.substitute(VAR_TERM.symbol, rule="substitute-term-variance")
    b.show(sp.Sum(1, (i, 1, d)))
    b.apply("identical-terms", sp.Sum.doit)
    b.result("qk_var")

    b.define(VAR_SCALED.symbol, over(VAR_DOT.symbol, sp.Pow(sp.sqrt(d), 2, evaluate=False)), "variance-of-scaled")
    b.substitute(VAR_DOT.symbol, rule="substitute-dot-variance")
    b.show(over(d, sp.Pow(sp.sqrt(d), 2, evaluate=False)))
    b.apply("cancel", sp.cancel)
    b.result("scaled_var")
    return b.build()


ENTRIES = (
    Entry("softmax-temperature", "attention", softmax_temperature, ("temp_jacobian",)),
    Entry("attention-scaling", "attention", attention_scaling, ("term_var", "qk_var", "scaled_var")),
)
