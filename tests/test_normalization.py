"""Batch normalization: the derived gradients against PyTorch's autograd, and wrong answers that stay wrong."""

import pytest
import sympy as sp

import derive
from derive.check.decide import check
from derive.render import render

M, FEATURES = 4, 3
EPS = 1e-3


def _unfold(derivation, expr: sp.Basic) -> sp.Basic:
    """``expr`` with the forward definitions (x^, mu_B, sigma_B^2) written out: the derivation's stated
    forward pass only, never its gradients."""
    meanings = {q.symbol: q.meaning for q in derivation.quantities if q.key in ("xhat", "mu", "var", "sigma")}
    for _ in range(4):
        expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base in meanings,
                            lambda e: meanings[e.base](*e.indices)).xreplace(meanings)
    return expr


def _value(derivation, name: str, column: int, x, g, gamma, beta, row: int | None = None) -> float:
    """A target at batch size M for one feature column, every entry a number."""
    target = derivation.target(name).rhs
    symbols = {q.key: q.symbol for q in derivation.quantities if isinstance(q.symbol, sp.Symbol)}
    bases = {q.key: q.symbol for q in derivation.quantities if isinstance(q.symbol, sp.IndexedBase)}
    expr = _unfold(derivation, target).xreplace({symbols["m"]: M})
    if row is not None:
        expr = expr.xreplace({symbols["i"]: row + 1})
    expr = expr.doit()
    entries = {bases["x"][n + 1]: sp.Float(float(x[n, column]), 30) for n in range(M)}
    entries |= {bases["g"][n + 1]: sp.Float(float(g[n, column]), 30) for n in range(M)}
    numbers = {symbols["gamma"]: float(gamma[column]), symbols["beta"]: float(beta[column]), symbols["epsilon"]: EPS}
    return float(expr.xreplace(entries).xreplace(numbers).evalf(30))


@pytest.fixture(scope="module")
def torch_batch():
    """x (M x FEATURES), an upstream gradient G, gamma, beta; PyTorch's gradients of sum(G * y) in training mode."""
    torch = pytest.importorskip("torch")
    generator = torch.Generator().manual_seed(18)
    x = torch.randn(M, FEATURES, dtype=torch.float64, generator=generator).requires_grad_()
    gamma = (torch.rand(FEATURES, dtype=torch.float64, generator=generator) + 0.5).requires_grad_()
    beta = torch.randn(FEATURES, dtype=torch.float64, generator=generator).requires_grad_()
    g = torch.randn(M, FEATURES, dtype=torch.float64, generator=generator)
    y = torch.nn.functional.batch_norm(x, None, None, gamma, beta, training=True, eps=EPS)
    (y * g).sum().backward()
    return x.detach(), g, gamma.detach(), beta.detach(), x.grad, gamma.grad, beta.grad


def test_gradients_match_pytorch_batch_norm_in_training_mode(torch_batch):
    x, g, gamma, beta, dx, dgamma, dbeta = torch_batch
    d = derive.get("batch-norm")
    for column in range(FEATURES):
        args = (x, g, gamma, beta)
        assert _value(d, "dl_dbeta", column, *args) == pytest.approx(float(dbeta[column]), rel=1e-10)
        assert _value(d, "dl_dgamma", column, *args) == pytest.approx(float(dgamma[column]), rel=1e-10)
        for row in range(M):
            assert _value(d, "dl_dx", column, *args, row=row) == pytest.approx(float(dx[row, column]),
                                                                          rel=1e-9, abs=1e-12)


def test_the_gradient_in_x_is_checked_entrywise_and_printed_in_the_compact_form():
    d = derive.get("batch-norm")
    target = d.target("dl_dx")
    assert dict(target.entrywise) == {"m": (2, 3, 4)}
    assert r"\frac{\gamma}{m \sqrt{\sigma_{B}^{2} + \epsilon}} \left(m {g}_{i} - \sum_{j=1}^{m} {g}_{j}" in render(d, "latex", "en")


COMPACT = (r"\frac{\gamma}{m\sqrt{\sigma_B^2+\epsilon}}\left(m g_i - \sum_{j=1}^{m} g_j"
           r" - \hat{x}_i \sum_{j=1}^{m} g_j \hat{x}_j\right)")
RIGHT = [
    ("dl_dx", COMPACT),
    ("dl_dgamma", r"\sum_{i=1}^{m} g_i \hat{x}_i"),
    ("dl_dbeta", r"\sum_{i=1}^{m} g_i"),
]
WRONG = [
    # the mean term dropped
    ("dl_dx", r"\frac{\gamma}{m\sqrt{\sigma_B^2+\epsilon}}\left(m g_i - \hat{x}_i \sum_{j=1}^{m} g_j \hat{x}_j\right)"),
    # the variance term dropped
    ("dl_dx", r"\frac{\gamma}{m\sqrt{\sigma_B^2+\epsilon}}\left(m g_i - \sum_{j=1}^{m} g_j\right)"),
    # both dropped: the gradient as if mu_B and sigma_B^2 were constants
    ("dl_dx", r"\frac{\gamma g_i}{\sqrt{\sigma_B^2+\epsilon}}"),
    # epsilon dropped where it matters
    ("dl_dx", r"\frac{\gamma}{m\sqrt{\sigma_B^2}}\left(m g_i - \sum_{j=1}^{m} g_j - \hat{x}_i \sum_{j=1}^{m} g_j \hat{x}_j\right)"),
    # gamma forgotten
    ("dl_dx", r"\frac{1}{m\sqrt{\sigma_B^2+\epsilon}}\left(m g_i - \sum_{j=1}^{m} g_j - \hat{x}_i \sum_{j=1}^{m} g_j \hat{x}_j\right)"),
    # x_i for the normalized x^_i
    ("dl_dgamma", r"\sum_{i=1}^{m} g_i x_i"),
    # one entry's gradient for the sum over the batch
    ("dl_dbeta", r"g_i"),
    ("dl_dmean", r"-\frac{\gamma}{\sqrt{\sigma_B^2}} \sum_{i=1}^{m} g_i"),
]


@pytest.mark.parametrize("target, answer", RIGHT)
def test_the_course_forms_are_correct(target, answer):
    assert check(answer, "batch-norm", target)["verdict"] == "correct"


@pytest.mark.parametrize("target, answer", WRONG)
def test_wrong_gradients_stay_incorrect(target, answer):
    assert check(answer, "batch-norm", target)["verdict"] == "incorrect"


def test_a_derivative_by_the_batch_variance_is_by_sigma_b_squared_not_sigma_b():
    """\\partial \\sigma_B^2 in a denominator is the problem's variance, never sigma_B with its power
    dropped (the two derivatives differ by the factor 2 sigma_B)."""
    from derive.check.decide import problem_table
    from derive.check.reader import read

    _, table = problem_table("batch-norm", True)
    variance, deviation = table.names["sigma_B^2"], table.names["sigma_B"]
    for written in (r"\frac{\partial L}{\partial \sigma_{B}^{2}}", r"\frac{\partial L}{\partial \sigma_B^2}"):
        assert read(written, table).value.variables == (variance,), written
    assert read(r"\frac{\partial L}{\partial \sigma_{B}}", table).value.variables == (deviation,)
