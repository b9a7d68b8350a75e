"""The derivations of a teacher's loss (:mod:`derive.catalog.teacher`): the gradient in the prediction, and
after an output activation the gradient in the logit (sigmoid) or in the logits (softmax, entrywise-verified
at C = 2..5 like softmax-ce)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

from ..engine import Builder, Derivation
from ..notation import CLASS_COUNT, LABEL, REAL, UNIT_OPEN, Quantity, index_domain
from ..operations import differentiate_under_sum
from . import losses, softmax
from .activations import SIGMA, sigma
from .losses import gradient_symbol, yhat
from .registry import get
from .shown import times

z = losses.z
C, i, k = softmax.C, softmax.i, softmax.k


@dataclass(frozen=True)
class LossReading:
    """A loss as read: its body (a scalar loss) or its summand over the classes i (after softmax), in the
    course's symbols, and how the teacher writes the prediction and the label (LaTeX, checked: one letter)."""

    term: sp.Basic
    prediction: str
    label: str


@dataclass(frozen=True)
class LossSymbols:
    """The symbols a loss is read into: scalar ones, or the indexed families of the softmax."""

    prediction: sp.Basic
    label: sp.Basic
    indexed: bool

    def readable(self, prediction: str, label: str) -> tuple[Quantity, ...]:
        """The quantities of the reading table: the prediction and the label under the teacher's names
        (and, indexed, the class count C and the index i)."""
        quantities = (Quantity("yhat", self.prediction, prediction, REAL), Quantity("y", self.label, label, REAL))
        if self.indexed:
            quantities += (Quantity("C", C, "C", CLASS_COUNT), Quantity("i", i, "i", index_domain(C)))
        return quantities

    def allowed(self) -> set[sp.Symbol]:
        """The names the body may use."""
        if self.indexed:
            return {self.prediction.label, self.label.label, C}
        return {self.prediction, self.label}

    def term(self, body: sp.Basic, where: str, error: type) -> sp.Basic:
        """The body (scalar), or the summand of a body that is a sum over the classes (indexed)."""
        if not self.indexed:
            return body
        summands = []
        for part in sp.Add.make_args(sp.expand(body, deep=False, mul=True, multinomial=False, power_exp=False,
                                               power_base=False, log=False)):
            coefficient, total = part.as_independent(sp.Sum, as_Add=False)
            if not isinstance(total, sp.Sum) or len(total.limits) != 1 or total.limits[0][1:] != (1, C) \
                    or coefficient.has(sp.Indexed):
                raise error(f"{where}: after softmax the loss is a sum over the classes: "
                            "L(\\hat{y}, y) = \\sum_{i=1}^{C} ...")
            summands.append(coefficient * total.function.xreplace({total.limits[0][0]: i}))
        term = sp.Add(*summands)
        for entry in term.atoms(sp.Indexed):
            if entry.indices != (i,) or term.has(sp.Sum):
                raise error(f"{where}: after softmax every prediction and label is the class's own, "
                            "\\hat{y}_i and y_i, inside one sum over i")
        bare = term.xreplace({e: sp.Dummy() for e in term.atoms(sp.Indexed)})
        if bare.has(self.prediction.label) or bare.has(self.label.label):
            raise error(f"{where}: after softmax write the class's entries, \\hat{{y}}_i and y_i")
        return term


def plain(latex: str) -> str:
    """A loss argument's plain name (its quantity key and plain text): \\hat{y} -> yhat, p -> p."""
    match = re.fullmatch(r"\\(\w+)\{(\w)\}", latex)
    return f"{match.group(2)}{match.group(1).removeprefix('wide')}" if match else latex


def loss_symbols(after: str | None) -> LossSymbols:
    """The symbols a loss after ``after`` (None, sigmoid, softmax) is read into."""
    if after == "softmax":
        return LossSymbols(sp.IndexedBase("p", positive=True), softmax.y, True)
    return LossSymbols(yhat, losses.y, False)


def _scalar_quantities(reading: LossReading, probability: bool) -> tuple[Quantity, ...]:
    """The prediction, the label, dL/d(prediction) and the loss L (its definition, for the statement)."""
    names = plain(reading.prediction), plain(reading.label)
    prediction = Quantity(names[0], yhat, reading.prediction, UNIT_OPEN if probability else REAL, text=names[0])
    label = Quantity(names[1], losses.y, reading.label, LABEL if probability else REAL, text=names[1])
    return (prediction, label, gradient_symbol("L", names[0], reading.prediction),
            Quantity("L", losses.L, "L", meaning=reading.term))


def _gradient_in_prediction(b: Builder, gradient: Quantity, body: sp.Basic, variable: sp.Basic) -> None:
    """dL/d(prediction): differentiate, and simplify where that is shorter."""
    b.define(gradient.symbol, sp.Derivative(body, variable))
    b.apply("differentiate", sp.Derivative.doit)
    _simplify(b)
    b.result("dl_dyhat")


def _simplify(b: Builder) -> None:
    """A simplification step, only where it makes the line shorter."""
    current = b.current
    candidates = [sp.factor(sp.together(current))]
    if sp.count_ops(current) <= 40 and not current.has(sp.Sum):
        candidates.append(sp.simplify(current))
    simpler = min(candidates, key=sp.count_ops)
    if sp.count_ops(simpler) < sp.count_ops(current):
        b.apply("simplify", lambda e: simpler)


def plain_loss(name: str, reading: LossReading, prediction: str) -> Derivation:
    """L(yhat, y): dL/dyhat."""
    quantities = _scalar_quantities(reading, prediction == "probability")
    b = Builder(name, "losses", quantities)
    _gradient_in_prediction(b, quantities[2], reading.term, yhat)
    return b.build()


def sigmoid_loss(name: str, reading: LossReading) -> Derivation:
    """L(yhat, y) with yhat = sigma(z): dL/dyhat, dyhat/dz = yhat(1 - yhat), dL/dz by the chain rule."""
    prediction, label, dl_dyhat, loss = _scalar_quantities(reading, True)
    dyhat_dz = gradient_symbol(r"\hat{y}", "z", "z")
    dyhat_dz = Quantity(f"d{plain(reading.prediction)}_dz", sp.Symbol(f"d{plain(reading.prediction)}/dz"),
                        rf"\frac{{\partial {reading.prediction}}}{{\partial z}}")
    dl_dz = gradient_symbol("L", "z", "z")
    b = Builder(name, "losses", (prediction, label, losses.Z, SIGMA, dl_dyhat, dyhat_dz, dl_dz, loss),
                assumptions=("yhat-is-sigmoid",), relations={yhat: sigma(z)})
    _gradient_in_prediction(b, dl_dyhat, reading.term, yhat)
    b.define(dyhat_dz.symbol, sp.Derivative(sigma(z), z), "definition-yhat")
    slope = get("sigmoid").target("d1").rhs.xreplace({sp.Symbol("x", real=True): z})
    b.apply("sigmoid-derivative", lambda e: e.doit().subs(sp.Derivative(sigma(z), z), slope))
    b.show(times(sigma(z), 1 - sigma(z)))
    b.apply("substitute-yhat", lambda e: e.subs(sigma(z), yhat), given={sigma(z): yhat})
    b.show(times(yhat, 1 - yhat))
    b.define(dl_dz.symbol, times(dl_dyhat.symbol, dyhat_dz.symbol), "chain-rule")
    b.substitute(dl_dyhat.symbol, dyhat_dz.symbol)
    simpler = sp.factor(sp.cancel(b.current))
    if sp.count_ops(simpler) < sp.count_ops(b.current):
        b.apply("cancel", lambda e: simpler)
    b.result("dl_dz")
    return b.build()


def softmax_loss(name: str, reading: LossReading) -> Derivation:
    """L = sum_i l(p_i, y_i) with p = softmax(z): dL/dp_k, and dL/dz_k = sum_i dL/dp_i p_i (delta_ik - p_k),
    both checked entry by entry for C = 2..5."""
    logits, p, _, family = softmax._family("z")
    family = tuple(Quantity(plain(reading.prediction), q.symbol, reading.prediction, q.domain, q.meaning)
                   if q.key == "p" else q for q in family)
    label = Quantity(plain(reading.label), softmax.y, reading.label, LABEL)
    term = reading.term.xreplace({sp.IndexedBase("p", positive=True): p})
    loss = sp.Symbol("L")
    meaning = sp.Sum(term, (i, 1, C))
    quantities = (*family, label, Quantity("L", loss, "L", meaning=meaning))
    b = Builder(name, "losses", quantities, assumptions=("labels-sum-to-one",),
                relations=softmax.labels_sum_to_one(softmax.y, C))
    b.define(sp.Derivative(loss, p[k]), sp.Derivative(meaning, p[k]))
    b.apply("differentiate", lambda e: sp.Derivative.doit(e))
    b.apply("sift-delta", softmax.sift_deltas)
    _simplify(b)
    b.result("dl_dyhat", entrywise=softmax.CONCRETE_SIZES)

    b.define(sp.Derivative(loss, logits[k]), sp.Derivative(meaning, logits[k]))
    b.apply("linearity", lambda e: differentiate_under_sum(e, (p, logits)))
    jacobian = get("softmax").target("jacobian").rhs
    outer = sp.Dummy("u", positive=True)

    def chain(derivative: sp.Derivative) -> sp.Basic:
        inner = derivative.expr
        slope = sp.diff(inner.xreplace({p[i]: outer}), outer).xreplace({outer: p[i]})
        return slope * jacobian

    b.apply("chain-rule", lambda e: e.replace(lambda d: isinstance(d, sp.Derivative), chain))
    b.apply("linearity", _split_jacobian)
    b.apply("sift-delta", softmax.sift_deltas)
    one = {sp.Sum(softmax.y[i], (i, 1, C)): 1}
    if b.current.has(*one):
        b.apply("labels-sum-to-one", lambda e: e.xreplace(one), given=one)
    _simplify(b)
    b.result("dl_dz", entrywise=softmax.CONCRETE_SIZES,
             constraint=lambda n: {softmax.y[n]: 1 - sum(softmax.y[m] for m in range(1, n))})
    return b.build()


def _split_jacobian(expr: sp.Basic) -> sp.Basic:
    """c sum_i g_i p_i (delta_ik - p_k) -> sum_i a_i delta_ik - p_k sum_i a_i, a_i = c g_i p_i written
    compactly (factors without i taken out of the second sum)."""
    coefficient, total = expr.as_independent(sp.Sum, as_Add=False)
    if not isinstance(total, sp.Sum):
        return expr
    a = sp.factor(sp.cancel(coefficient * total.function / (sp.KroneckerDelta(i, k) - softmax_p()[k])))
    constant, varying = a.as_independent(i, as_Add=False)
    return sp.Sum(a * sp.KroneckerDelta(i, k), (i, 1, C)) - softmax_p()[k] * constant * sp.Sum(varying, (i, 1, C))


def softmax_p() -> sp.IndexedBase:
    """The softmax's output family p (the catalog's softmax entries' own)."""
    return sp.IndexedBase("p", positive=True)
