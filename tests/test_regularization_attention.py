"""Inverted dropout, L2 weight decay, softmax with temperature and the 1/sqrt(d) scaling of attention,
against NumPy Monte Carlo (moments) and PyTorch autograd / torch.optim (gradients and the update).

Every expected value is computed here, independently of the package: the derived targets are only
evaluated at the numbers (by their symbols' names), never used to make the reference.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hostile import assert_one_line_error, run_cli

import derive
from derive.check.decide import check


def _value(expr: sp.Basic, **values) -> float:
    """The target evaluated with its symbols given by name (``mean_x=0.5``), as a float."""
    by_name = {s: sp.Float(values[s.name], 30) for s in expr.free_symbols if s.name in values}
    number = sp.sympify(expr).xreplace(by_name).doit()
    assert number.is_number, f"{expr} still has {number.free_symbols}"
    return float(number)


def _indexed(expr: sp.Basic, families: dict[str, list[float]], **indices: int) -> float:
    """An index-valued target at concrete indices, its families (p_i, w_k, g_k) taken from ``families``."""
    concrete = expr.xreplace({s: indices[s.name] for s in expr.free_symbols if s.name in indices})
    concrete = concrete.replace(lambda e: isinstance(e, sp.Indexed),
                                lambda e: sp.Float(families[str(e.base)][int(e.indices[0]) - 1], 30))
    return _value(concrete.doit(), **{k: v for k, v in families.items() if not isinstance(v, list)})


# ---- inverted dropout -------------------------------------------------------------------------

@pytest.mark.parametrize("p, x", [(0.5, 1.7), (0.2, -0.8), (0.9, 2.5)])
def test_dropout_keeps_the_mean_of_a_given_input(p, x):
    rng = np.random.default_rng(7)
    samples = 400_000
    mask = rng.random(samples) >= p  # kept with probability 1 - p
    outputs = mask * x / (1 - p)
    standard_error = outputs.std() / np.sqrt(samples)
    derived = _value(derive.get("dropout").target("dropout_mean").rhs, x_i=x, p=p)
    assert derived == pytest.approx(x)
    assert abs(outputs.mean() - derived) < 5 * standard_error


@pytest.mark.parametrize("p, mean, std", [(0.5, 0.0, 1.0), (0.3, 0.8, 1.5), (0.1, -1.2, 0.4)])
def test_dropout_variance_of_a_random_input(p, mean, std):
    """Var(y) = Var(x) + p/(1 - p) E[x^2], by a Monte Carlo over the input and the mask."""
    rng = np.random.default_rng(11)
    samples = 400_000
    x = rng.normal(mean, std, samples)
    mask = rng.random(samples) >= p
    outputs = mask * x / (1 - p)
    derived = _value(derive.get("dropout").target("dropout_var").rhs,
                     mean_x=mean, square_x=std**2 + mean**2, p=p)
    # the sample variance's standard error is about sqrt((m4 - var^2)/N)
    spread = np.sqrt(np.mean((outputs - outputs.mean()) ** 4) - outputs.var() ** 2) / np.sqrt(samples)
    assert abs(outputs.var() - derived) < 5 * spread
    assert derived > std**2  # dropout adds variance: the p/(1 - p) E[x^2] term
    assert outputs.mean() == pytest.approx(mean, abs=5 * outputs.std() / np.sqrt(samples))


@pytest.mark.parametrize("p", [0.25, 0.5])
def test_dropout_backward_is_the_mask_over_one_minus_p_against_torch(p):
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    x = torch.randn(12, dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.dropout(x, p=p, training=True)
    y.retain_grad()
    loss = (torch.sin(y) * torch.arange(1, 13, dtype=torch.float64)).sum()
    loss.backward()
    mask = (y.detach() != 0).double()
    assert 0 < mask.sum() < 12  # both kept and dropped units
    grad = derive.get("dropout").target("dropout_grad").rhs
    for m, upstream, got in zip(mask.tolist(), y.grad.tolist(), x.grad.tolist(), strict=True):
        assert _value(grad, m_i=m, p=p, **{"dL/dy_i": upstream}) == pytest.approx(got, rel=1e-12, abs=1e-12)


# ---- L2 weight decay --------------------------------------------------------------------------

@pytest.mark.parametrize("lam, eta", [(0.01, 0.1), (0.5, 0.3)])
def test_weight_decay_gradient_and_update_against_torch_sgd(lam, eta):
    torch = pytest.importorskip("torch")
    generator = torch.Generator().manual_seed(5)
    inputs = torch.randn(6, 4, dtype=torch.float64, generator=generator)
    labels = torch.randn(6, dtype=torch.float64, generator=generator)
    w = torch.randn(4, dtype=torch.float64, generator=generator).requires_grad_()

    def data_loss(weights):
        return 0.5 * ((inputs @ weights - labels) ** 2).mean()

    start = w.detach().clone()
    g = torch.autograd.grad(data_loss(w), w)[0]
    regularized = torch.autograd.grad(data_loss(w) + lam / 2 * (w**2).sum(), w)[0]
    optimizer = torch.optim.SGD([w], lr=eta, weight_decay=lam)
    optimizer.zero_grad()
    data_loss(w).backward()
    optimizer.step()

    d = derive.get("weight-decay")
    families = {"w": start.tolist(), "g": g.tolist(), "lambda": lam, "eta": eta}
    for k in range(1, 5):
        assert _indexed(d.target("l2_grad").rhs, families, k=k) == pytest.approx(regularized[k - 1].item(), rel=1e-12)
        assert _indexed(d.target("l2_update").rhs, families, k=k) == pytest.approx(w[k - 1].item(), rel=1e-12)
        assert _indexed(d.target("penalty_grad").rhs, families, k=k) == pytest.approx(lam * start[k - 1].item())


def test_index_valued_targets_were_checked_entry_by_entry():
    assert derive.get("weight-decay").target("penalty_grad").entrywise == (("n", (1, 2, 3, 4)),)
    assert derive.get("softmax-temperature").target("temp_jacobian").entrywise == (("C", (2, 3, 4, 5)),)


# ---- softmax with temperature -----------------------------------------------------------------

@pytest.mark.parametrize("classes, temperature", [(2, 0.5), (4, 2.0), (6, 0.7)])
def test_temperature_softmax_jacobian_against_torch_autograd(classes, temperature):
    torch = pytest.importorskip("torch")
    logits = torch.linspace(-1.5, 2.0, classes, dtype=torch.float64) ** 2 - 1
    jacobian = torch.autograd.functional.jacobian(lambda z: torch.softmax(z / temperature, dim=0), logits)
    scaled = np.exp(logits.numpy() / temperature)
    families = {"p": (scaled / scaled.sum()).tolist(), "T": temperature}
    derived = derive.get("softmax-temperature").target("temp_jacobian").rhs
    for i in range(1, classes + 1):
        for k in range(1, classes + 1):
            got = _indexed(derived, families, i=i, k=k)
            assert got == pytest.approx(jacobian[i - 1, k - 1].item(), rel=1e-10, abs=1e-14)


# ---- the 1/sqrt(d) scaling --------------------------------------------------------------------

@pytest.mark.parametrize("d", [4, 16, 64])
@pytest.mark.parametrize("draw", ["normal", "uniform"])
def test_dot_product_variance_is_d_by_monte_carlo(d, draw):
    """Unit-variance entries, Gaussian or uniform on [-sqrt 3, sqrt 3]: Var(q.k) = d, Var(q.k/sqrt d) = 1."""
    rng = np.random.default_rng(d)
    samples = 100_000
    if draw == "normal":
        q, k = rng.standard_normal((2, samples, d))
    else:
        q, k = rng.uniform(-np.sqrt(3), np.sqrt(3), (2, samples, d))
    scores = (q * k).sum(axis=1)
    entry = derive.get("attention-scaling")
    variance, scaled = (_value(entry.target(name).rhs, d=d) for name in ("qk_var", "scaled_var"))
    # Var of a sample variance: (E[s^4] - Var^2)/N; for q.k with unit entries E[(q.k)^4] ~ 3d^2 + O(d)
    spread = np.sqrt(np.mean(scores**4) - scores.var() ** 2) / np.sqrt(samples)
    assert abs(scores.var() - variance) < 5 * spread
    assert abs((scores / np.sqrt(d)).var() - scaled) < 5 * spread / d
    assert variance == d and scaled == 1


# ---- the checker: the right answers in the course's notation, and wrong ones ------------------

CORRECT = [
    ("dropout", "dropout_mean", "x_i"),
    ("dropout", "dropout_var", r"\operatorname{Var}(x_i) + \frac{p}{1-p} \operatorname{E}[x_i^2]"),
    ("dropout", "dropout_var", r"\frac{\operatorname{E}[x_i^2]}{1-p} - \operatorname{E}[x_i]^2"),
    ("dropout", "dropout_grad", r"\frac{m_i}{1-p} \frac{\partial L}{\partial y_i}"),
    ("weight-decay", "l2_grad", r"g_k + \lambda w_k"),
    ("weight-decay", "l2_update", r"(1 - \eta \lambda) w_k - \eta g_k"),
    ("softmax-temperature", "temp_jacobian", r"\frac{1}{T} p_i (\delta_{ik} - p_k)"),
    ("attention-scaling", "qk_var", "d"),
    ("attention-scaling", "scaled_var", "1"),
]

WRONG = [
    # dropout scaled by p instead of 1 - p, or not scaled at all
    ("dropout", "dropout_mean", r"\frac{x_i}{p}"),
    ("dropout", "dropout_mean", r"(1-p) x_i"),
    ("dropout", "dropout_grad", r"\frac{m_i}{p} \frac{\partial L}{\partial y_i}"),
    ("dropout", "dropout_grad", r"m_i \frac{\partial L}{\partial y_i}"),
    ("dropout", "dropout_grad", r"(1-p) m_i \frac{\partial L}{\partial y_i}"),
    ("dropout", "dropout_var", r"\operatorname{Var}(x_i)"),
    ("dropout", "dropout_var", r"\operatorname{Var}(x_i) + \frac{1-p}{p} \operatorname{E}[x_i^2]"),
    ("dropout", "dropout_var", r"\frac{\operatorname{Var}(x_i)}{1-p}"),
    ("dropout", "dropout_var", r"\frac{p}{1-p} \operatorname{E}[x_i^2]"),  # the mask's share alone
    ("dropout", "dropout_var", r"\operatorname{Var}(x_i) + \frac{p}{1-p} \operatorname{Var}(x_i)"),  # Var for E[x^2]
    # weight decay: the factor 2 kept, the learning rate dropped from the decay
    ("weight-decay", "l2_grad", r"g_k + 2 \lambda w_k"),
    ("weight-decay", "l2_grad", r"g_k + \frac{\lambda}{2} w_k"),
    ("weight-decay", "l2_update", r"(1 - \lambda) w_k - \eta g_k"),
    ("weight-decay", "l2_update", r"w_k - \eta g_k"),
    ("weight-decay", "l2_update", r"(1 + \eta \lambda) w_k - \eta g_k"),
    # the temperature missing or on the wrong side
    ("softmax-temperature", "temp_jacobian", r"p_i (\delta_{ik} - p_k)"),
    ("softmax-temperature", "temp_jacobian", r"T p_i (\delta_{ik} - p_k)"),
    ("softmax-temperature", "temp_jacobian", r"\frac{p_i (1 - p_k)}{T}"),
    ("softmax-temperature", "temp_jacobian", r"\frac{p_i (\delta_{ik} - p_k)}{T^2}"),
    # sqrt(d) for d
    ("attention-scaling", "qk_var", r"\sqrt{d}"),
    ("attention-scaling", "qk_var", "1"),
    ("attention-scaling", "qk_var", "d^2"),
    ("attention-scaling", "scaled_var", r"\frac{1}{\sqrt{d}}"),
    ("attention-scaling", "scaled_var", r"\sqrt{d}"),
]


@pytest.mark.parametrize("problem, target, answer", CORRECT)
def test_the_right_answers_are_correct(problem, target, answer):
    assert check(answer, problem, target)["verdict"] == "correct"


@pytest.mark.parametrize("problem, target, answer", WRONG)
def test_wrong_answers_stay_incorrect(problem, target, answer):
    assert check(answer, problem, target)["verdict"] == "incorrect"


# ---- parameters outside their domain: one line, exit 2 ----------------------------------------

@pytest.mark.parametrize("name, param", [
    ("dropout", "p=1"),  # 1/(1 - p) has no value: every unit dropped
    ("dropout", "p=-1/2"),
    ("dropout", "m=2"),  # a mask is 0 or 1
    ("dropout", "m=1/2"),
    ("softmax-temperature", "T=0"),
    ("softmax-temperature", "T=-1"),
    ("attention-scaling", "d=0"),
    ("attention-scaling", "d=5/2"),
    ("weight-decay", "lambda=-1"),
    ("weight-decay", "eta=0"),
])
def test_parameters_outside_their_domain_are_refused(capsys, name, param):
    status, _, err = run_cli(capsys, name, "--param", param)
    assert_one_line_error(status, err)


# ---- check-steps: a slip in a printed derivation is found at its line -------------------------

SLIPS = [
    ("dropout", r"&= \frac{m_i}{1 - p} \frac{\partial L}{\partial y_i}", r"&= \frac{m_i}{p} \frac{\partial L}{\partial y_i}"),
    ("dropout", r"&= \operatorname{Var}(x_i) + \frac{p}{1 - p} \operatorname{E}[x_i^2]",
     r"&= \operatorname{Var}(x_i) + \frac{1 - p}{p} \operatorname{E}[x_i^2]"),
    ("softmax-temperature", r"&= \frac{{p}_{i} \left(\delta_{i k} - {p}_{k}\right)}{T}",
     r"&= {p}_{i} \left(\delta_{i k} - {p}_{k}\right)"),
    ("weight-decay", r"&= \left(1 - \eta \lambda\right) {w}_{k} - \eta {g}_{k}",
     r"&= \left(1 - \lambda\right) {w}_{k} - \eta {g}_{k}"),
    ("attention-scaling", r"&= d \tag", r"&= \sqrt{d} \tag"),
]


@pytest.mark.parametrize("name, line, slip", SLIPS)
def test_a_slip_in_the_printed_derivation_is_its_first_error(name, line, slip):
    from derive.check.steps import check_steps
    from derive.render import render

    printed = render(derive.get(name), "latex", "en")
    assert printed.count(line) == 1
    slipped = printed.replace(line, slip)
    report = check_steps(slipped, name, "en")
    number = next(n for n, text in enumerate(slipped.splitlines(), 1) if slip in text)
    assert report["first_error"] is not None
    wrong = [entry for entry in report["lines"] if entry["verdict"] == "wrong"]
    assert wrong and slip.lstrip("&= ").split(r" \tag")[0][:20] in wrong[0]["latex"], (number, wrong)
