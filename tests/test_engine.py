"""The engine refuses steps that do not follow, and says how each step was verified."""

import pytest
import sympy as sp

from derive.engine import Builder
from derive.errors import VerificationError
from derive.notation import POSITIVE, REAL, SYMMETRIC_DENSITY, Quantity

x = sp.Symbol("x", real=True)
f = sp.Function("f")
QUANTITIES = (Quantity("x", x, "x", REAL), Quantity("f", f, "f", meaning=sp.Lambda(x, sp.exp(2 * x))))


def builder():
    return Builder("test", "test", QUANTITIES)


def test_a_false_step_stops_the_derivation_and_names_it():
    b = builder()
    b.define(sp.Derivative(f(x), x), sp.Derivative(sp.exp(2 * x), x))
    with pytest.raises(VerificationError, match=r"test: step 2 \(differentiate\) does not follow: differs at x = "):
        b.equals("differentiate", sp.exp(2 * x))  # the factor 2 is missing


def test_a_definition_that_contradicts_the_meaning_is_refused():
    with pytest.raises(VerificationError, match="step 1"):
        builder().define(f(x), sp.exp(x))


def test_proved_steps_are_marked_symbolic():
    b = builder()
    b.define(sp.Derivative(f(x), x), sp.Derivative(sp.exp(2 * x), x))
    b.apply("differentiate", sp.Derivative.doit)
    b.result("d1")
    derivation = b.build()
    assert [s.check for s in derivation.steps] == ["symbolic", "symbolic"]


def test_what_simplify_cannot_prove_is_sampled_and_counted():
    z = sp.Symbol("z", real=True)
    p = sp.Function("p")
    b = Builder("density", "test", (Quantity("z", z, "z", REAL), Quantity("p", p, "p", SYMMETRIC_DENSITY)))
    b.define(sp.Symbol("m"), sp.Integral(z**2 * p(z), (z, 0, sp.oo)))
    step = b.equals("symmetric-density", sp.Integral(z**2 * p(z), (z, -sp.oo, sp.oo)) / 2)
    assert step is not None
    certificate = b.steps[-1].certificate
    assert certificate.method == "numeric" and certificate.points >= 3
    with pytest.raises(VerificationError):
        b.equals("wrong", sp.Integral(z**2 * p(z), (z, -sp.oo, sp.oo)))  # off by a factor 2


def test_solve_is_verified_and_must_be_unique():
    v = sp.Symbol("v", positive=True)
    n = sp.Symbol("n", integer=True, positive=True)
    b = Builder("solve", "test", (Quantity("v", v, "v", POSITIVE), Quantity("n", n, "n", POSITIVE)))
    b.equation(n * v, 1, "condition")
    assert b.solve(v) == 1 / n
    w = sp.Symbol("w", real=True)
    b2 = Builder("solve", "test", (Quantity("w", w, "w", REAL),))
    b2.equation(w**2, 4, "condition")
    with pytest.raises(VerificationError, match="expected one solution"):
        b2.solve(w)


def test_entrywise_check_catches_a_wrong_index_formula():
    C = sp.Symbol("C", integer=True, positive=True)
    i, j, k = (sp.Symbol(s, integer=True, positive=True) for s in "ijk")
    xb, pb = sp.IndexedBase("x", real=True), sp.IndexedBase("p", positive=True)
    from derive.notation import CLASS_COUNT, index_domain
    total = sp.Sum(sp.exp(xb[j]), (j, 1, C))
    b = Builder("softmax-wrong", "test", (
        Quantity("C", C, "C", CLASS_COUNT), Quantity("i", i, "i", index_domain(C)),
        Quantity("k", k, "k", index_domain(C)), Quantity("x", xb, "x", REAL),
        Quantity("p", pb, "p", meaning=sp.Lambda(i, sp.exp(xb[i]) / total))))
    lhs = sp.Derivative(pb[i], xb[k])
    assert b._check_entrywise("jacobian", lhs, pb[i] * (sp.KroneckerDelta(i, k) - pb[k]), {C: range(2, 4)},
                              lambda n: {}) == (("C", (2, 3)),)
    with pytest.raises(VerificationError, match="fails entrywise at C = 2"):
        b._check_entrywise("jacobian", lhs, pb[i] * sp.KroneckerDelta(i, k), {C: range(2, 4)}, lambda n: {})


def test_a_display_form_keeps_the_readers_order_and_must_equal_the_computed_one():
    from derive.printing import NotationLatexPrinter

    quantities = (Quantity("x", x, "x", REAL),)
    b = Builder("t", "test", quantities)
    b.define(sp.Symbol("y"), sp.expand((1 - x) * x))
    b.show(sp.Mul(x, 1 - x, evaluate=False))
    target = b.result("y")
    assert NotationLatexPrinter(quantities).doprint(target.display) == r"x \left(1 - x\right)"
    assert target.rhs == x - x**2  # the mathematics is untouched
    with pytest.raises(VerificationError, match="display form"):
        b.show(sp.Mul(x, 1 + x, evaluate=False))
