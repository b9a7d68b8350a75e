"""Backpropagation through layers: the error recursions of a fully connected, a convolution
and a pooling layer, and what a forward and a backward pass cost.

The activation f (sigma in a fully connected network) is any differentiable function: the
engine checks each step with several concrete ones. Every error is defined by the chain
rule, dL/dz^(l) = sum over the next layer of dL/dz^(l+1) dz^(l+1)/dz^(l), so a result checked
entry by entry at concrete sizes is checked against the layer's full Jacobian, differentiated
by SymPy.
"""

from __future__ import annotations

import functools

import sympy as sp

from ..engine import Builder, Derivation
from ..notation import REAL, SIZE, SMOOTH_FUNCTION, Domain, Quantity, index_domain
from ..operations import count_operations, derivative_inside, exchange_sums, linearity
from .registry import Entry, get
from .shown import plus, times
from .softmax import sift_deltas

#: Widths the engine samples and checks entry by entry (kept small: every check writes sums out).
WIDTH = Domain("integer", low=1, high=3, low_open=False, high_open=False, latex=r"\mathbb{Z}_{>0}")
n = sp.Symbol("n", integer=True, positive=True)
i, j, k, m = (sp.Symbol(name, integer=True, positive=True) for name in "ijkm")
CONCRETE_WIDTHS = {n: (2, 3)}


def _family(key: str, latex: str, text: str, meaning: sp.Lambda | None = None, domain=REAL) -> Quantity:
    return Quantity(key, sp.IndexedBase(key, real=True), latex, None if meaning else domain,
                    meaning=meaning, text=text)


def _bound(name: str) -> sp.Dummy:
    """A summation index inside a definition: a Dummy, so that applying the definition to an
    index of the same name cannot capture it."""
    return sp.Dummy(name, integer=True, positive=True)


def _layer(previous: sp.IndexedBase, weights: sp.IndexedBase, bias: sp.IndexedBase) -> sp.Lambda:
    """z_i = sum_m W_im a_m + b_i, as an indexed family."""
    m = _bound("m")
    return sp.Lambda(i, sp.Sum(weights[i, m] * previous[m], (m, 1, n)) + bias[i])


sigma = sp.Function("sigma")
SIGMA = Quantity("sigma", sigma, r"\sigma", SMOOTH_FUNCTION, aliases=("f", r"\theta"))
WIDTH_N = Quantity("n", n, "n", WIDTH, aliases=("d", "M"))
INDICES = tuple(Quantity(s.name, s, s.name, index_domain(n)) for s in (i, j, k, m))

A_PREV = _family("a_prev", "a^{(l-1)}", "a^(l-1)")
W = _family("W", "W^{(l)}", "W^(l)")
B = _family("b", "b^{(l)}", "b^(l)")
Z = _family("z", "z^{(l)}", "z^(l)", _layer(A_PREV.symbol, W.symbol, B.symbol))
A = _family("a", "a^{(l)}", "a^(l)", sp.Lambda(i, sigma(Z.symbol[i])))
W_NEXT = _family("W_next", "W^{(l+1)}", "W^(l+1)")
B_NEXT = _family("b_next", "b^{(l+1)}", "b^(l+1)")
Z_NEXT = _family("z_next", "z^{(l+1)}", "z^(l+1)", _layer(A.symbol, W_NEXT.symbol, B_NEXT.symbol))
DELTA_NEXT = _family("delta_next", r"\delta^{(l+1)}", "delta^(l+1)")


def _chain(outer: sp.IndexedBase, inner: sp.Basic, variable: sp.Basic) -> sp.Lambda:
    """The chain rule as a definition: sum_k outer_k d inner_k / d variable."""
    bound = _bound("k")
    return sp.Sum(outer[bound] * sp.Derivative(inner.xreplace({k: bound}), variable), (bound, 1, n))


DELTA = _family("delta", r"\delta^{(l)}", "delta^(l)",
                sp.Lambda(j, _chain(DELTA_NEXT.symbol, Z_NEXT.symbol[k], Z.symbol[j])))
GRAD_W = _family("grad_W", r"\nabla W^{(l)}", "grad W^(l)",
                 sp.Lambda((i, j), _chain(DELTA.symbol, Z.symbol[k], W.symbol[i, j])))
GRAD_B = _family("grad_b", r"\nabla b^{(l)}", "grad b^(l)",
                 sp.Lambda(i, _chain(DELTA.symbol, Z.symbol[k], B.symbol[i])))

Z_OUT = _family("z_out", "z^{(L)}", "z^(L)")
A_OUT = _family("a_out", "a^{(L)}", "a^(L)", sp.Lambda(i, sigma(Z_OUT.symbol[i])))
Y = _family("y", "y", "y")
L = sp.Symbol("L")
LOSS = Quantity("L", L, "L", meaning=sp.Sum((A_OUT.symbol[k] - Y.symbol[k]) ** 2, (k, 1, n)).xreplace({k: _bound("k")}) / 2)
DELTA_OUT = _family("delta_out", r"\delta^{(L)}", "delta^(L)",
                    sp.Lambda(i, sp.Derivative(L, Z_OUT.symbol[i])))

MLP = (SIGMA, WIDTH_N, *INDICES, A_PREV, W, B, Z, A, W_NEXT, B_NEXT, Z_NEXT, DELTA_NEXT, DELTA,
       GRAD_W, GRAD_B, Z_OUT, A_OUT, Y, LOSS, DELTA_OUT)


def unfold_families(families: tuple[Quantity, ...]):
    """An operation: write entries of the given indexed families as their definitions."""
    meanings = {q.symbol: q.meaning for q in families}
    return lambda e: e.replace(lambda x: isinstance(x, sp.Indexed) and x.base in meanings,
                               lambda x: meanings[x.base](*x.indices))


def fold_families(*families: Quantity):
    """An operation: write what a family's definition stands for by its name (sigma(z_i) -> a_i);
    derivatives are left as they are (sigma'(z_i) stays)."""
    def fold(expr):
        derivatives = {d: sp.Dummy() for d in expr.atoms(sp.Derivative, sp.Subs)}
        expr = expr.xreplace(derivatives)
        for q in families:
            slot = sp.Wild("slot")
            (index,) = q.meaning.variables
            expr = expr.replace(q.meaning.expr.xreplace({index: slot}), q.symbol[slot])
        return expr.xreplace({d: original for original, d in derivatives.items()})
    return fold


def resum(total: sp.Sum, body) -> sp.Basic:
    """A display form of the sum ``total``: the same limits, the body written by ``body(indices)``
    (the sum's own bound indices, so that the form is the same sum)."""
    return sp.Sum(body(*(limit[0] for limit in total.limits)), *total.limits)


def the_sum(expr: sp.Basic) -> sp.Sum:
    """The one sum in ``expr``."""
    (total,) = expr.atoms(sp.Sum)
    return total


def chain_through_layer(b: Builder, error: Quantity, index: tuple, layer: tuple[Quantity, ...],
                        shown=None, tidy: str | None = None) -> sp.Basic:
    """error_index = sum_k delta_k dz_k/d variable: substitute the layer's definitions, differentiate, sift.
    ``shown`` writes the differentiated line (and the tidied one) from the line as computed."""
    b.define(error.symbol[index], error.meaning(*index), "chain-rule")
    b.apply("substitute-definition", lambda e: unfold_families(layer[1:])(unfold_families(layer[:1])(e)))
    for rule, operation in (("differentiate", lambda e: sift_deltas(e.doit())), (tidy, sp.factor_terms)):
        if rule is None:
            break
        b.apply(rule, operation)
        if shown is not None:
            b.show(shown(b.current, rule))
    return b.current


def mlp_backprop() -> Derivation:
    """delta^(L) = (a^(L) - y) sigma'(z^(L)), delta^(l) = (W^(l+1)^T delta^(l+1)) sigma'(z^(l)),
    dL/dW^(l) = delta^(l) a^(l-1)^T, dL/db^(l) = delta^(l)."""
    b = Builder("mlp-backprop", "backpropagation", MLP, assumptions=("mse-output", "fully-connected"))
    b.define(DELTA_OUT.symbol[i], DELTA_OUT.meaning(i), "error-definition")
    b.apply("substitute-loss", lambda e: unfold_families((A_OUT,))(e.xreplace({L: LOSS.meaning})))
    b.apply("differentiate", lambda e: sp.factor(sift_deltas(e.doit())))
    b.apply("rewrite-as-a", fold_families(A_OUT))
    b.result("output_error", entrywise=CONCRETE_WIDTHS)

    slope = sp.Derivative(sigma(Z.symbol[j]), Z.symbol[j])

    def backward(line, rule):
        total = resum(the_sum(line), lambda k: times(W_NEXT.symbol[k, j], DELTA_NEXT.symbol[k]))
        return times(total, slope) if rule == "factor-out" else resum(total, lambda k: times(*total.function.args, slope))

    chain_through_layer(b, DELTA, (j,), (Z_NEXT, A), backward, "factor-out")
    b.result("error_recursion", entrywise=CONCRETE_WIDTHS)
    chain_through_layer(b, GRAD_W, (i, j), (Z,), lambda line, rule: times(DELTA.symbol[i], A_PREV.symbol[j]))
    b.result("grad_w", entrywise=CONCRETE_WIDTHS)
    chain_through_layer(b, GRAD_B, (i,), (Z,))
    b.result("grad_b", entrywise=CONCRETE_WIDTHS)
    return b.build()


# A convolution layer: a^(l) is N x N, the kernel omega is K x K (offsets from 0, as the course
# writes them), z^(l+1) is the cross-correlation of a^(l) with omega, of size N - K + 1.
SIDE = Domain("integer", low=1, high=4, low_open=False, high_open=False, latex=r"\mathbb{Z}_{>0}")
KERNEL = Domain("integer", low=1, high=3, low_open=False, high_open=False, latex=r"\mathbb{Z}_{>0}")
N, K = sp.Symbol("N", integer=True, positive=True), sp.Symbol("K", integer=True, positive=True)
p, q = sp.Symbol("p", integer=True, positive=True), sp.Symbol("q", integer=True, positive=True)
u, v = sp.Symbol("u", integer=True, nonnegative=True), sp.Symbol("v", integer=True, nonnegative=True)
OUT = N - K + 1
f = sp.Function("f")
F = Quantity("f", f, "f", SMOOTH_FUNCTION, aliases=(r"\sigma",))
CONV_SIZES = (Quantity("N", N, "N", SIDE), Quantity("K", K, "K", KERNEL),
              *(Quantity(s.name, s, s.name, index_domain(N)) for s in (i, j)),
              Quantity("p", p, "p", REAL), Quantity("q", q, "q", REAL),
              Quantity("u", u, "u", REAL), Quantity("v", v, "v", REAL))
Z_MAP = _family("z", "z^{(l)}", "z^(l)")
A_MAP = _family("a", "a^{(l)}", "a^(l)", sp.Lambda((i, j), f(Z_MAP.symbol[i, j])))
KERNEL_W = _family("omega", r"\omega^{(l+1)}", "omega^(l+1)")
BIAS = Quantity("b", sp.Symbol("b", real=True), "b^{(l+1)}", REAL)
Z_MAP_NEXT = _family("z_next", "z^{(l+1)}", "z^(l+1)", sp.Lambda(
    (p, q), sp.Sum(KERNEL_W.symbol[u, v] * A_MAP.symbol[p + u, q + v], (u, 0, K - 1), (v, 0, K - 1)) + BIAS.symbol))
DELTA_MAP_NEXT = _family("delta_next", r"\delta^{(l+1)}", "delta^(l+1)")
_r, _c = sp.Dummy("r", integer=True), sp.Dummy("c", integer=True)  # any integers: the padding lies outside 1..N-K+1


@functools.cache
def padded_error() -> Quantity:
    """The error of the layer above padded with zeros (built when first needed: it is slow to make)."""
    return _family("delta_padded", r"\tilde{\delta}^{(l+1)}", "delta~^(l+1)", sp.Lambda(
        (_r, _c), sp.Piecewise((DELTA_MAP_NEXT.symbol[_r, _c], (_r >= 1) & (_r <= OUT) & (_c >= 1) & (_c <= OUT)),
                               (0, True))))
DELTA_MAP = _family("delta", r"\delta^{(l)}", "delta^(l)", sp.Lambda(
    (i, j), sp.Sum(DELTA_MAP_NEXT.symbol[p, q] * sp.Derivative(Z_MAP_NEXT.symbol[p, q], Z_MAP.symbol[i, j]),
                   (p, 1, OUT), (q, 1, OUT))))


def fold_padding(expr: sp.Basic) -> sp.Basic:
    """Name the zero-padded error: a term that is delta^(l+1)_(i-u)(j-v) X where those indices
    are in range, and 0 outside, is delta~^(l+1)_(i-u)(j-v) X."""
    def padded(piecewise: sp.Piecewise) -> sp.Basic:
        (term, _), *rest = piecewise.args
        entries = [e for e in sp.Mul.make_args(term) if isinstance(e, sp.Indexed) and e.base == DELTA_MAP_NEXT.symbol]
        if len(entries) != 1 or [r.expr for r in rest] != [0]:
            return piecewise
        return term.xreplace({entries[0]: padded_error().symbol[entries[0].indices]})

    return expr.replace(lambda e: isinstance(e, sp.Piecewise) and e.has(DELTA_MAP_NEXT.symbol), padded)


def conv_backprop() -> Derivation:
    """delta^(l)_ij = f'(z^(l)_ij) sum_u sum_v omega_uv delta^(l+1)_(i-u)(j-v), the error padded with zeros."""
    b = Builder("conv-backprop", "backpropagation",
                (F, *CONV_SIZES, Z_MAP, A_MAP, KERNEL_W, BIAS, Z_MAP_NEXT, DELTA_MAP_NEXT, padded_error(), DELTA_MAP),
                assumptions=("cross-correlation", "zero-padded-error"))
    b.define(DELTA_MAP.symbol[i, j], DELTA_MAP.meaning(i, j), "chain-rule")
    b.apply("substitute-definition", lambda e: unfold_families((A_MAP,))(unfold_families((Z_MAP_NEXT,))(e)))
    b.apply("linearity", derivative_inside)
    b.apply("differentiate", lambda e: e.replace(lambda d: isinstance(d, sp.Derivative), lambda d: d.doit()))
    b.apply("exchange-sums", exchange_sums)
    b.apply("zero-padding", lambda e: fold_padding(e.replace(
        lambda s: isinstance(s, sp.Sum) and s.has(sp.KroneckerDelta), lambda s: s.doit())))
    slope = sp.Derivative(f(Z_MAP.symbol[i, j]), Z_MAP.symbol[i, j])
    padded = resum(the_sum(b.current), lambda u, v: times(KERNEL_W.symbol[u, v], padded_error().symbol[i - u, j - v]))
    b.show(resum(padded, lambda u, v: times(*padded.function.args, slope)))
    b.apply("factor-out", lambda e: linearity(sp.factor_terms(e)))
    b.show(times(slope, padded))
    b.result("error_recursion", entrywise={N: (3, 4), K: (2, 3)})
    return b.build()


# A pooling window: K' x K' entries z_rc of the map below, pooled into one value a; the error
# delta^(l) of a comes back to the entries as delta~_rc = delta^(l) da/dz_rc.
POOL = sp.Symbol("Kp", integer=True, positive=True)
r, c = sp.Symbol("r", integer=True, positive=True), sp.Symbol("c", integer=True, positive=True)
WINDOW = Domain("integer", low=1, high=3, low_open=False, high_open=False, latex=r"\mathbb{Z}_{>0}")
POOL_QUANTITIES = (Quantity("Kp", POOL, "K'", WINDOW, aliases=("K",)),
                   *(Quantity(s.name, s, s.name, index_domain(POOL)) for s in (r, c)),
                   Quantity("u", u, "u", REAL), Quantity("v", v, "v", REAL))
Z_WINDOW = _family("z", "z^{(l-1)}", "z^(l-1)")
POOLED_ERROR = Quantity("delta", sp.Symbol("delta", real=True), r"\delta^{(l)}", REAL, text="delta^(l)")
_uu, _vv = _bound("u"), _bound("v")
A_AVERAGE = Quantity("a_avg", sp.Symbol("a_avg", real=True), "a^{(l)}", text="a^(l)",
                     meaning=sp.Sum(Z_WINDOW.symbol[_uu, _vv], (_uu, 1, POOL), (_vv, 1, POOL)) / POOL**2)


ERROR_AVERAGE = _family("delta_avg", r"\delta^{(l-1)}", "delta^(l-1)", sp.Lambda(
    (r, c), POOLED_ERROR.symbol * sp.Derivative(A_AVERAGE.symbol, Z_WINDOW.symbol[r, c])))


@functools.cache
def max_pooling() -> tuple[Quantity, Quantity]:
    """The max-pooled value of a 2 x 2 window and the error it passes back (built when first
    needed: SymPy's Max is slow to make)."""
    pooled = Quantity("a_max", sp.Symbol("a_max", real=True), "a^{(l)}", text="a^(l)",
                      meaning=sp.Max(*(Z_WINDOW.symbol[row, col] for row in (1, 2) for col in (1, 2))))
    error = _family("delta_max", r"\delta^{(l-1)}", "delta^(l-1)", sp.Lambda(
        (r, c), POOLED_ERROR.symbol * sp.Derivative(pooled.symbol, Z_WINDOW.symbol[r, c])))
    return pooled, error



def pool_backprop() -> Derivation:
    """Average pooling shares the error equally, delta/K'^2; max pooling sends it to the arg max."""
    a_max, error_max = max_pooling()
    b = Builder("pool-backprop", "backpropagation",
                (*POOL_QUANTITIES, Z_WINDOW, POOLED_ERROR, A_AVERAGE, a_max, ERROR_AVERAGE, error_max),
                assumptions=("one-window", "distinct-maximum"))
    for error, pooled, target in ((ERROR_AVERAGE, A_AVERAGE, "average_error"), (error_max, a_max, "max_error")):
        # max pooling is shown at the entry (1, 1): the entries of a window are interchangeable
        entry = (r, c) if pooled is A_AVERAGE else (1, 1)
        b.define(error.symbol[entry], error.meaning(*entry), "chain-rule")
        b.apply("substitute-definition", lambda e, pooled=pooled: e.xreplace({pooled.symbol: pooled.meaning}))
        b.apply("differentiate", lambda e: e.doit())
        if pooled is A_AVERAGE:
            b.apply("sift-delta", sift_deltas)
        b.result(target, entrywise={POOL: (1, 2, 3)} if pooled is A_AVERAGE else None)
    return b.build()


LAYERS = sp.Symbol("L", integer=True, positive=True)
RATE = sp.Symbol("alpha", positive=True)
COST_SIZES = (Quantity("n", n, "n", SIZE), Quantity("L", LAYERS, "L", SIZE), Quantity("alpha", RATE, r"\alpha", REAL))
#: One step of gradient descent with learning rate alpha, for the weights and the biases.
UPDATES = {"W_update": W.symbol[i, j] - RATE * GRAD_W.symbol[i, j], "b_update": B.symbol[i] - RATE * GRAD_B.symbol[i]}


def _count(key: str, latex: str, text: str) -> Quantity:
    return Quantity(key, sp.Symbol(key, nonnegative=True), latex, text=text)


MULTIPLY, ADD = 0, 1


def highest_first(polynomial: sp.Basic) -> sp.Basic:
    """A display form of a polynomial in the sizes, highest power of n first: 3 L n^2 + 2 L n."""
    terms = sp.Add.make_args(polynomial)
    return plus(*sorted(terms, key=lambda term: -sp.degree(term, n))) if len(terms) > 1 else polynomial


def counted(b: Builder, count: Quantity, entry: sp.Basic, which: int) -> sp.Symbol:
    """Open ``count = entries x operations per entry`` for one formula, and evaluate it."""
    entries = n ** len([s for s in entry.free_symbols if s in (i, j)])
    operations = count_operations(entry)[which]
    b.define(count.symbol, entries * sp.UnevaluatedExpr(operations),  # shown as counted, kept when pickled
             ("count-multiplications", "count-additions")[which])
    b.show(times(entries, sp.UnevaluatedExpr(highest_first(operations))))
    b.apply("evaluate", lambda e: sp.expand(e.doit()))
    b.show(highest_first(b.current))
    return count.symbol


def layers_total(b: Builder, total: Quantity, parts: list[sp.Symbol], target: str) -> None:
    """Every layer costs the same: the total is L times the sum of the parts (in the order the
    course adds them), substituted; a sum of several parts is collected, then multiplied out."""
    b.define(total.symbol, LAYERS * sp.Add(*parts), "every-layer")
    b.show(times(LAYERS, plus(*parts)) if len(parts) > 1 else times(LAYERS, *parts))
    b.substitute(*parts)
    values = [term for part in parts for term in sp.Add.make_args(highest_first(b.verifier.facts[part])) if term != 0]
    b.show(times(LAYERS, plus(*values)) if len(values) > 1 else times(LAYERS, *values))
    if len(values) > 1:
        b.apply("collect-terms", lambda e: e)
        b.show(times(LAYERS, highest_first(sp.expand(b.current / LAYERS))))
        b.apply("expand", sp.expand)
        b.show(highest_first(b.current))
    b.result(target)


def mlp_cost() -> Derivation:
    """Forward: L n^2 multiplications and additions; backward with the update: 3 L n^2 + 2 L n
    multiplications, counted from the formulas of the forward layer and of mlp-backprop."""
    backprop = get("mlp-backprop")
    # (key, LaTeX, text, the formula whose operations are counted)
    backward = (("delta", r"\delta^{(l)}", "delta^(l)", backprop.target("error_recursion").rhs),
                ("grad_w", r"\nabla W^{(l)}", "grad W^(l)", backprop.target("grad_w").rhs),
                ("grad_b", r"\nabla b^{(l)}", "grad b^(l)", backprop.target("grad_b").rhs),
                ("update_w", r"W^{(l)} - \alpha \nabla W^{(l)}", "W^(l) - alpha grad W^(l)", UPDATES["W_update"]),
                ("update_b", r"b^{(l)} - \alpha \nabla b^{(l)}", "b^(l) - alpha grad b^(l)", UPDATES["b_update"]))
    kinds = (("mul", r"\times"), ("add", "+"))
    forward_counts = [_count(f"{kind}_z", rf"\#_{{{sign}}}(z^{{(l)}})", f"#{kind}(z^(l))") for kind, sign in kinds]
    forward_totals = [_count(f"{kind}_forward", rf"\#_{{{sign}}}(\text{{forward}})", f"#{kind}(forward)")
                      for kind, sign in kinds]
    backward_counts = [_count(f"mul_{key}", rf"\#_{{\times}}({latex})", f"#mul({text})")
                       for key, latex, text, _ in backward]
    backward_total = _count("mul_backward", r"\#_{\times}(\text{backward})", "#mul(backward)")
    b = Builder("mlp-cost", "backpropagation",
                (*COST_SIZES, *forward_counts, *forward_totals, *backward_counts, backward_total),
                assumptions=("n-by-n-layers", "functions-free"))
    for which, target in ((MULTIPLY, "forward_mults"), (ADD, "forward_adds")):
        per_layer = counted(b, forward_counts[which], Z.meaning(i), which)
        layers_total(b, forward_totals[which], [per_layer], target)
    parts = [counted(b, count, formula, MULTIPLY) for count, (*_, formula) in zip(backward_counts, backward, strict=True)]
    layers_total(b, backward_total, parts, "backward_mults")
    return b.build()


ENTRIES = (
    Entry("mlp-backprop", "backpropagation", mlp_backprop, ("output_error", "error_recursion", "grad_w", "grad_b")),
    Entry("conv-backprop", "backpropagation", conv_backprop, ("error_recursion",)),
    Entry("pool-backprop", "backpropagation", pool_backprop, ("average_error", "max_error")),
    Entry("mlp-cost", "backpropagation", mlp_cost, ("forward_mults", "forward_adds", "backward_mults")),
)
