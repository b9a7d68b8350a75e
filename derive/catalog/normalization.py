"""Normalization layers: batch normalization forward and backward (layer normalization over features).

Batch normalization of one feature over a batch x_1..x_m: the batch mean mu_B, the batch variance
sigma_B^2, the normalized x^_i = (x_i - mu_B)/sqrt(sigma_B^2 + eps) and the output y_i = gamma x^_i + beta.
The backward pass takes the upstream gradient g_i = dL/dy_i as given (the loss L is any function of
the outputs; every gradient is linear in g, so the engine stands L = sum_k g_k y_k in for it) and
derives dL/dbeta, dL/dgamma, dL/dx^_i, then dL/dsigma_B^2 and dL/dmu_B by the chain rule through the
batch statistics, and last dL/dx_i through x^_i, sigma_B^2 and mu_B, rewritten in the compact form
gamma/(m sqrt(sigma_B^2 + eps)) (m g_i - sum_j g_j - x^_i sum_j g_j x^_j). Each step is verified
against the total derivative, which SymPy takes through every definition; dL/dx_i is also checked
entry by entry at batch sizes m = 2, 3, 4. Layer normalization is the same derivation over the d
features of one sample, with a gamma_i and beta_i per feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from ..engine import Builder, Derivation
from ..notation import POSITIVE, REAL, Domain, Quantity, index_domain
from ..verify import Comparison, Verifier
from .registry import Entry
from .shown import over, plus, times
from .softmax import sift_deltas

#: a batch (or a layer) holds at least two entries (one alone normalizes to 0); the engine samples
#: sizes 2 to 4 (every check writes the sums out and differentiates through them), as backpropagation's widths
COUNT = Domain("integer", low=Fraction(2), high=Fraction(4), low_open=False, high_open=False,
               latex=r"\{2, 3, \dots\}")
i, j, k = (sp.Symbol(name, integer=True, positive=True) for name in "ijk")
#: the bound indices of the sums: printed i, j, k, but other symbols than the free indices, so that a point
#: that gives the free index i a value (an answer g_i) never writes it into a sum over i
I, J, K = (sp.Symbol(name, integer=True) for name in "ijk")
CONCRETE = range(2, 5)


class _Sampled(Verifier):
    """A verifier that does not try SymPy's sum simplifier: over a symbolic batch size the sums of these
    derivations never close (each attempt costs seconds), so a step stands on agreement at sampled points,
    sizes 2 to 4 written out term by term (certificate ``numeric``), or on a cheap symbolic form."""

    def compare(self, left: sp.Basic, right: sp.Basic, given=None, thorough: bool = True) -> Comparison:
        """As :meth:`Verifier.compare`, never ``thorough``."""
        return super().compare(left, right, given, thorough=False)


@dataclass(frozen=True)
class _Layer:
    """The symbols of one normalization: its size, its families and statistics, and the loss."""

    size: sp.Symbol
    x: sp.IndexedBase
    g: sp.IndexedBase
    xhat: sp.IndexedBase
    y: sp.IndexedBase
    gamma: sp.Basic
    beta: sp.Basic
    eps: sp.Symbol
    mu: sp.Symbol
    var: sp.Symbol
    loss: sp.Symbol
    quantities: tuple[Quantity, ...]

    def scale(self, index: sp.Basic) -> sp.Basic:
        """gamma (batch norm) or gamma_index (layer norm)."""
        return self.gamma[index] if isinstance(self.gamma, sp.IndexedBase) else self.gamma

    def shift(self, index: sp.Basic) -> sp.Basic:
        """beta (batch norm) or beta_index (layer norm)."""
        return self.beta[index] if isinstance(self.beta, sp.IndexedBase) else self.beta

    def normalized(self, index: sp.Basic) -> sp.Basic:
        """x^_index written in the statistics' names: (x_index - mu)/sqrt(var + eps)."""
        return (self.x[index] - self.mu) / sp.sqrt(self.var + self.eps)

    @property
    def root(self) -> sp.Basic:
        """sqrt(var + eps)."""
        return sp.sqrt(self.var + self.eps)


def _layer(size: str, size_latex: str, stat: str, per_feature: bool) -> _Layer:
    """The quantities of a normalization over ``size`` entries; statistics subscripted ``stat``
    (mu_B, sigma_B^2 for a batch); ``per_feature``: a gamma_i and beta_i per entry."""
    n = sp.Symbol(size, integer=True, positive=True)
    x, g = sp.IndexedBase("x", real=True), sp.IndexedBase("g", real=True)
    xhat, y = sp.IndexedBase("xhat", real=True), sp.IndexedBase("y", real=True)
    if per_feature:
        gamma, beta = sp.IndexedBase("gamma", real=True), sp.IndexedBase("beta", real=True)
    else:
        gamma, beta = sp.Symbol("gamma", real=True), sp.Symbol("beta", real=True)
    eps = sp.Symbol("epsilon", positive=True)
    mu, var = sp.Symbol(f"mu_{stat}", real=True), sp.Symbol(f"sigma_{stat}^2", nonnegative=True)
    loss = sp.Symbol("L", real=True)
    bound = sp.Dummy("j", integer=True, positive=True)
    t = sp.Dummy("t", integer=True, positive=True)
    scale = gamma[t] if per_feature else gamma
    shift = beta[t] if per_feature else beta
    quantities = (
        Quantity(size, n, size_latex, COUNT, aliases=("n",) if size != "n" else ("m",)),
        *(Quantity(s.name, s, s.name, index_domain(n)) for s in (i, j, k)),
        Quantity("x", x, "x", REAL, text="x"),
        Quantity("g", g, "g", REAL, text="g", aliases=(r"\delta",)),
        Quantity("gamma", gamma, r"\gamma", REAL, text="gamma", example=Fraction(1)),
        Quantity("beta", beta, r"\beta", REAL, text="beta", example=Fraction(0)),
        Quantity("epsilon", eps, r"\epsilon", POSITIVE, aliases=(r"\varepsilon",), text="epsilon",
                 example=Fraction(1, 100000)),
        Quantity("mu", mu, rf"\mu_{{{stat}}}", meaning=sp.Sum(x[bound], (bound, 1, n)) / n,
                 text=f"mu_{stat}", aliases=(r"\mu",)),
        Quantity("var", var, rf"\sigma_{{{stat}}}^{{2}}",
                 meaning=sp.Sum((x[bound] - mu) ** 2, (bound, 1, n)) / n, text=f"sigma_{stat}^2",
                 aliases=(r"\sigma^{2}",)),
        Quantity("sigma", sp.Symbol(f"sigma_{stat}", positive=True), rf"\sigma_{{{stat}}}", meaning=sp.sqrt(var),
                 text=f"sigma_{stat}"),
        Quantity("xhat", xhat, r"\hat{x}", meaning=sp.Lambda(t, (x[t] - mu) / sp.sqrt(var + eps)), text="xhat"),
        Quantity("y", y, "y", meaning=sp.Lambda(t, scale * xhat[t] + shift), text="y"),
        Quantity("L", loss, "L", meaning=sp.Sum(g[bound] * y[bound], (bound, 1, n))),
    )
    return _Layer(n, x, g, xhat, y, gamma, beta, eps, mu, var, loss, quantities)


def _local(layer: _Layer, known: dict | None = None):
    """An operation: dL/dy_k -> g_k (the upstream gradient), the local derivatives of y_k = gamma x^_k + beta,
    of x^_k = (x_k - mu)/sqrt(var + eps) in x^, var and mu (the other statistics held), of var and mu in
    x_i, carried out; ``known`` derivatives of L (earlier results) substituted; sums against deltas sifted."""
    known = known or {}
    x, y, xhat, loss = layer.x, layer.y, layer.xhat, layer.loss
    definition = {
        y: lambda index: layer.scale(index) * xhat[index] + layer.shift(index),
        xhat: layer.normalized,
    }

    def local(d: sp.Derivative) -> sp.Basic:
        top, (variable,) = d.expr, d.variables
        if d in known:
            return known[d]
        if top == loss and isinstance(variable, sp.Indexed) and variable.base == y:
            return layer.g[variable.indices[0]]
        if isinstance(top, sp.Indexed) and top.base in definition:
            return sp.diff(definition[top.base](top.indices[0]), variable)
        if top == layer.mu:
            return sp.Sum(sp.diff(x[J], variable), (J, 1, layer.size)) / layer.size
        if top == layer.var:
            return sp.Sum(sp.diff((x[J] - layer.mu) ** 2, variable), (J, 1, layer.size)) / layer.size
        return d

    def operation(expr: sp.Basic) -> sp.Basic:
        expr = expr.replace(lambda e: isinstance(e, sp.Derivative), local)
        return sift_deltas(expr)

    return operation


def _pull_out(expr: sp.Basic) -> sp.Basic:
    """Constants out of every sum: sum_i c a_i -> c sum_i a_i (the sum's body kept whole); a sum over a
    bound index of a definition's own is written over j (a bound index)."""
    def split(total: sp.Sum) -> sp.Basic:
        variable, *bounds = total.limits[0]
        constant, varying = sp.factor_terms(total.function).as_independent(variable, as_Add=False)
        if isinstance(variable, sp.Dummy):
            varying, variable = varying.xreplace({variable: J}), J
        return constant * sp.Sum(varying, (variable, *bounds))

    return expr.replace(lambda e: isinstance(e, sp.Sum), split)


def _renamed(total: sp.Basic, old: sp.Symbol, new: sp.Symbol) -> sp.Basic:
    """The sums of ``total`` with their bound index ``old`` renamed ``new``."""
    return total.replace(lambda e: isinstance(e, sp.Sum), lambda e: e.xreplace({old: new}))


def _normalization(name: str, family: str, layer: _Layer, entrywise: bool) -> Derivation:
    """Forward lines, then dL/dbeta, dL/dgamma, dL/dx^, dL/dvar, dL/dmu and dL/dx, each by the chain rule."""
    n, x, g, xhat, y, L = layer.size, layer.x, layer.g, layer.xhat, layer.y, layer.loss
    mu, var, eps, root = layer.mu, layer.var, layer.eps, layer.root
    per_feature = isinstance(layer.gamma, sp.IndexedBase)
    b = Builder(name, family, layer.quantities, assumptions=("upstream-gradient",))
    b.verifier = _Sampled({q.symbol: q for q in layer.quantities})
    b.define(mu, over(sp.Sum(x[J], (J, 1, n)), n), "batch-mean")
    b.show(times(over(1, n), sp.Sum(x[J], (J, 1, n))))
    b.define(var, over(sp.Sum((x[J] - mu) ** 2, (J, 1, n)), n), "batch-variance")
    b.show(times(over(1, n), sp.Sum((x[J] - mu) ** 2, (J, 1, n))))
    b.define(xhat[i], layer.normalized(i), "normalize")
    b.result("xhat")
    b.define(y[i], layer.scale(i) * xhat[i] + layer.shift(i), "scale-and-shift")
    b.show(plus(times(layer.scale(i), xhat[i]), layer.shift(i)))
    b.define(sp.Derivative(L, y[i]), g[i], "upstream-gradient")

    # the parameters: through y alone
    for target, parameter in (("dl_dbeta", layer.shift(k)), ("dl_dgamma", layer.scale(k))):
        chain = sp.Sum(sp.Derivative(L, y[I]) * sp.Derivative(y[I], parameter), (I, 1, n))
        b.define(sp.Derivative(L, parameter), chain, "chain-rule")
        b.apply("differentiate-output", _local(layer))
        b.result(target, entrywise={n: CONCRETE} if per_feature and entrywise else None)

    b.define(sp.Derivative(L, xhat[i]), sp.Sum(sp.Derivative(L, y[K]) * sp.Derivative(y[K], xhat[i]), (K, 1, n)),
             "chain-rule")
    b.apply("differentiate-output", _local(layer))
    b.show(times(layer.scale(i), g[i]))
    b.result("dl_dxhat")
    dl_dxhat = b.current

    def at(index):
        return dl_dxhat.xreplace({i: index})

    b.define(sp.Derivative(L, var), sp.Sum(sp.Derivative(L, xhat[I]) * sp.Derivative(xhat[I], var), (I, 1, n)),
             "chain-rule-variance")
    known = {sp.Derivative(L, xhat[I]): at(I)}
    b.apply("differentiate-normalized", lambda e: _pull_out(_local(layer, known)(e)), given=known)
    b.show(times(over(-1, 2), (var + eps) ** sp.Rational(-3, 2),
                 sp.Sum(times(at(I), x[I] - mu), (I, 1, n))))
    # a step, not a target: the checker reads d/d sigma_B^2 as the square of d/d sigma_B
    dl_dvar = b.current

    b.define(sp.Derivative(L, mu), plus(sp.Sum(sp.Derivative(L, xhat[I]) * sp.Derivative(xhat[I], mu), (I, 1, n)),
                                        times(sp.Derivative(L, var), sp.Derivative(var, mu))), "chain-rule-mean")
    b.apply("differentiate-statistics", lambda e: _pull_out(_local(layer, known)(e)), given=known)
    deviations = {sp.Sum(x[J] - mu, (J, 1, n)): 0, sp.Sum(mu - x[J], (J, 1, n)): 0}
    b.apply("deviations-sum-to-zero", lambda e: e.xreplace(deviations))
    b.show(times(-1, over(1, root), sp.Sum(at(I), (I, 1, n))))
    b.result("dl_dmean")
    dl_dmean = b.current

    b.define(sp.Derivative(L, x[i]),
             plus(times(sp.Derivative(L, xhat[i]), over(1, root)),
                  times(sp.Derivative(L, var), sp.Derivative(var, x[i])),
                  times(sp.Derivative(L, mu), sp.Derivative(mu, x[i]))), "chain-rule-batch")
    b.apply("differentiate-statistics", _local(layer))
    results = {sp.Derivative(L, xhat[i]): dl_dxhat, sp.Derivative(L, var): _renamed(dl_dvar, I, J),
               sp.Derivative(L, mu): _renamed(dl_dmean, I, J)}
    b.apply("substitute-gradients", lambda e: e.xreplace(results), given=results)
    b.apply("rewrite-in-normalized", lambda e: e.replace(
        lambda s: isinstance(s, sp.Sum), lambda s: s.xreplace({x[J]: root * xhat[J] + mu})).xreplace(
        {x[i]: root * xhat[i] + mu}))
    b.apply("factor", lambda e: sp.factor_terms(sp.expand(e)))
    scaled = (lambda index: layer.scale(index) * g[index]) if per_feature else g.__getitem__
    front = over(1, times(n, root)) if per_feature else over(layer.gamma, times(n, root))
    b.show(times(front, plus(times(n, scaled(i)), times(-1, sp.Sum(scaled(J), (J, 1, n))),
                             times(-1, xhat[i], sp.Sum(times(scaled(J), xhat[J]), (J, 1, n))))))
    b.result("dl_dx", entrywise={n: CONCRETE} if entrywise else None)
    return b.build()


def batch_norm() -> Derivation:
    """Batch normalization of one feature over a batch of m: forward, then the gradients in beta, gamma,
    x^_i, sigma_B^2, mu_B and x_i (the last checked entry by entry at m = 2, 3, 4)."""
    return _normalization("batch-norm", "normalization", _layer("m", "m", "B", per_feature=False), True)


ENTRIES = (
    Entry("batch-norm", "normalization", batch_norm,
          ("xhat", "dl_dbeta", "dl_dgamma", "dl_dxhat", "dl_dmean", "dl_dx")),
)
