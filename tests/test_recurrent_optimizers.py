"""Issue 18 part F: backpropagation through time (bptt, bptt-vector) and the optimizers of
worked backprop problems, against PyTorch (autograd on the unrolled graph; torch.optim) in float64.

The values compared are derive's own results (the catalog's targets evaluated at numbers; a
worked problem's updated parameters) and PyTorch's, computed without derive.
"""

from __future__ import annotations

import json
import random
from fractions import Fraction

import pytest
import sympy as sp
from hostile import assert_one_line_error, run_cli

from derive.backprop.graph import graph_from, run
from derive.catalog import get
from derive.catalog.recurrent import D_T, DL_DHT, W_MATRIX, T, f, gamma, h, k, norm_w, w

torch = pytest.importorskip("torch")
ACTIVATIONS = {"tanh": (torch.tanh, lambda v: 1 - sp.tanh(v) ** 2),
               "sigmoid": (torch.sigmoid, lambda v: sp.exp(-v) / (1 + sp.exp(-v)) ** 2)}


def _unrolled(activation, steps: int, seed: int):
    """The scalar RNN run forward in torch (float64), every h_t kept for its gradient."""
    rng = random.Random(seed)
    value = lambda: torch.tensor(rng.uniform(-1.5, 1.5), dtype=torch.float64)
    weight, inner = value().requires_grad_(), value()
    inputs, label, state = [value() for _ in range(steps)], value(), value()
    states, pres = [state], []
    for step in range(steps):
        pres.append(weight * states[-1] + inner * inputs[step])
        states.append(ACTIVATIONS[activation][0](pres[-1]))
        states[-1].retain_grad()
    loss = (states[-1] - label) ** 2 / 2
    loss.backward()
    return weight, states, pres, label


def _at(expr: sp.Basic, steps: int, weight, states, pres, label, slope) -> float:
    """A bptt target at concrete numbers: T = steps, f'(a_t) at torch's a_t, dL/dh_T of the loss."""
    expr = expr.xreplace({T: steps}).doit()
    expr = expr.replace(lambda e: isinstance(e, sp.Derivative) and e.expr.func == f,
                        lambda e: slope(sp.Float(float(pres[int(e.variables[0].indices[0]) - 1]), 30)))
    numbers = {w: float(weight), DL_DHT.symbol: float(states[-1]) - float(label),
               **{h[i]: float(states[i]) for i in range(steps + 1)}}
    return float(expr.xreplace(numbers))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("steps", [2, 4])
def test_bptt_gradients_against_autograd(activation, steps):
    """dL/dh_k for every k and dL/dw summed over time, against autograd on the unrolled graph."""
    derivation = get("bptt")
    weight, states, pres, label = _unrolled(activation, steps, seed=steps)
    slope = ACTIVATIONS[activation][1]
    for index in range(1, steps + 1):
        got = _at(derivation.target("dl_dh_k").rhs.xreplace({k: index}), steps, weight, states, pres, label, slope)
        assert got == pytest.approx(float(states[index].grad), rel=1e-12, abs=1e-14), (index, got)
    got = _at(derivation.target("dl_dw_through_time").rhs, steps, weight, states, pres, label, slope)
    assert got == pytest.approx(float(weight.grad), rel=1e-12, abs=1e-14)


def test_bptt_vector_jacobian_and_bound_against_autograd():
    """dh_T/dh_k as derive's product (t = T leftmost) against torch's Jacobian of the unrolled
    vector tanh RNN (n = 3, T = 5), and its spectral norm below derive's bound for tanh."""
    derivation = get("bptt-vector")
    product = derivation.target("jacobian_product").rhs
    assert isinstance(product, sp.Product) and product.function == D_T * W_MATRIX
    bound = derivation.target("bound_tanh").rhs
    generator = torch.Generator().manual_seed(3)
    n, steps = 3, 5
    weights = torch.randn(n, n, generator=generator, dtype=torch.float64) * 0.8
    inputs = torch.randn(steps + 1, n, generator=generator, dtype=torch.float64)
    for start in range(1, steps):
        state = torch.randn(n, generator=generator, dtype=torch.float64)

        def forward(h0, start=start):
            for step in range(start + 1, steps + 1):
                h0 = torch.tanh(weights @ h0 + inputs[step])
            return h0

        expected = torch.autograd.functional.jacobian(forward, state)
        matrices, current = {}, state
        for step in range(start + 1, steps + 1):
            pre = weights @ current + inputs[step]
            matrices[step] = torch.diag(1 - torch.tanh(pre) ** 2) @ weights
            current = torch.tanh(pre)
        low, high = int(product.limits[0][1].xreplace({k: start})), int(product.limits[0][2].xreplace({T: steps}))
        got = torch.eye(n, dtype=torch.float64)
        for step in range(high, low - 1, -1):
            got = got @ matrices[step]
        assert torch.allclose(got, expected, rtol=1e-12, atol=1e-14)
        spectral = float(torch.linalg.matrix_norm(weights, ord=2))
        limit = float(bound.xreplace({norm_w: spectral, T: steps, k: start}))
        assert float(torch.linalg.matrix_norm(expected, ord=2)) <= limit * (1 + 1e-12)


def test_bptt_vector_bounds_are_the_slopes_powers():
    """The bound for the sigmoid is (||W||/4)^(T-k): at ||W|| = 2, T - k = 3 it is 1/8 (hand-checked);
    for tanh ||W||^(T-k); the general bound is (gamma ||W||)^(T-k) (gamma = 1/2, ||W|| = 4, T - k = 2: 4)."""
    derivation = get("bptt-vector")
    at = {norm_w: 2, T: 5, k: 2}
    assert derivation.target("bound_sigmoid").rhs.xreplace(at) == sp.Rational(1, 8)
    assert derivation.target("bound_tanh").rhs.xreplace(at) == 8
    assert derivation.target("bound").rhs.xreplace({gamma: sp.Rational(1, 2), norm_w: 4, T: 4, k: 2}) == 4


WRONG_DL_DH = [
    r"\frac{\partial L}{\partial h_T} \prod_{t=k}^{T} w f'(a_t)",  # one factor too many
    r"\frac{\partial L}{\partial h_T} \prod_{t=k+1}^{T} f'(a_t)",  # the weight left out
    r"\frac{\partial L}{\partial h_T} \sum_{t=k+1}^{T} w f'(a_t)",  # a sum for the product
    r"\frac{\partial L}{\partial h_T} w^{T-k}",  # the slopes left out
    r"\frac{\partial L}{\partial h_T} \prod_{t=k+1}^{T} w f(a_t)",  # f for f'
]


@pytest.mark.parametrize("answer", WRONG_DL_DH)
def test_wrong_bptt_answers_stay_incorrect(capsys, answer):
    """Slips in dL/dh_k, in the course's notation: never accepted."""
    _, out, err = run_cli(capsys, "check", "bptt", "--target", "dl_dh_k", "--answer", answer)
    assert out.startswith("incorrect"), (answer, out, err)


def test_right_bptt_answer_is_accepted(capsys):
    """The same result written with w^{T-k} in front of the product of the slopes."""
    _, out, _ = run_cli(capsys, "check", "bptt", "--target", "dl_dh_k", "--answer",
                             r"w^{T-k} \frac{\partial L}{\partial h_T} \prod_{t=k+1}^{T} f'(a_t)")
    assert out.startswith("correct"), out


#: dL/dw summed through time: a product inside the sum (its bounds concrete only once the sum is
#: written out at a concrete T); the same result with the steps in another order, and slips
DL_DW = r"\sum_{k=1}^{T} \frac{\partial L}{\partial h_T} f'(a_k) h_{k-1} \prod_{t=k+1}^{T} w f'(a_t)"
DL_DW_ROWS = [
    (DL_DW, "correct"),
    (r"\sum_{k=1}^{T} h_{k-1} f'(a_k) w^{T-k} \frac{\partial L}{\partial h_T} \prod_{t=k+1}^{T} f'(a_t)", "correct"),
    (DL_DW.replace("h_{k-1}", "h_{k}"), "incorrect"),  # the state after the step, not before
    (DL_DW.replace("t=k+1", "t=k"), "incorrect"),  # one factor too many
    (DL_DW.replace("f'(a_k) ", ""), "incorrect"),  # the step's own slope dropped
]


@pytest.mark.parametrize("answer, verdict", DL_DW_ROWS)
def test_dl_dw_through_time_is_judged_with_its_nested_product(capsys, answer, verdict):
    _, out, err = run_cli(capsys, "check", "bptt", "--target", "dl_dw_through_time", "--answer", answer)
    assert out.split(":")[0] == verdict, (answer, out, err)


# --- optimizers ------------------------------------------------------------------------------

NETWORK = {"name": "opt", "title": "opt", "inputs": {"x1": 1, "x2": 2, "t": 1},
           "params": {"w1": 0.5, "w2": -0.25, "b": 0.1},
           "nodes": {"z": "w1*x1 + w2*x2 + b", "a": "relu(z)", "L": "(a - t)^2/2"},
           "loss": "L", "learning_rate": 0.1, "steps": 3}


def _torch_steps(make, steps: int = 3) -> dict[str, float]:
    """The same network trained by a torch.optim optimizer for ``steps`` steps (float64)."""
    params = {name: torch.tensor(float(value), dtype=torch.float64, requires_grad=True)
              for name, value in NETWORK["params"].items()}
    optimizer = make(list(params.values()))
    for _ in range(steps):
        optimizer.zero_grad()
        z = params["w1"] * 1 + params["w2"] * 2 + params["b"]
        loss = (torch.relu(z) - 1) ** 2 / 2
        loss.backward()
        optimizer.step()
    return {name: float(value) for name, value in params.items()}


OPTIMIZERS = {
    "sgd": ({}, lambda p: torch.optim.SGD(p, lr=0.1)),
    "momentum": ({"momentum": 0.8}, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8)),
    "nesterov": ({}, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    "rmsprop": ({"beta": 0.9, "eps": 1e-6}, lambda p: torch.optim.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-6)),
    "adam": ({"lr": 0.1, "learning_rate": None}, lambda p: torch.optim.Adam(p, lr=0.1)),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_matches_torch_optim(name):
    """Three steps of each optimizer: derive's exact parameters against torch.optim's."""
    hyper, make = OPTIMIZERS[name]
    spec = {key: value for key, value in {**NETWORK, "optimizer": name, **hyper}.items() if value is not None}
    result = run(graph_from(spec, "opt.toml"))  # adam's spec gives the learning rate as lr
    expected = _torch_steps(make)
    for param, value in expected.items():
        assert float(sp.N(result.updated[param], 30)) == pytest.approx(value, rel=1e-12, abs=1e-15), param
    if name in ("sgd", "momentum", "nesterov"):  # rational inputs, rational iterates
        assert all(isinstance(v, sp.Rational) for v in result.updated.values())


def test_momentum_by_hand():
    """One momentum step from v = 0 is SGD (w1: 0.5 + 0.1 * 0.9 = 0.59); the second, with the
    gradient -0.36 at the new point, is v = 0.9 (-0.9) - 0.36 = -1.17, w1 = 0.59 + 0.117 = 0.707."""
    result = run(graph_from({**NETWORK, "optimizer": "momentum", "steps": 2}, "opt.toml"))
    assert result.updated["w1"] == Fraction(707, 1000)
    lines = [step for step in result.derivation.steps if step.rule == "momentum-buffer"]
    assert len(lines) == 2 * 3  # every moment update is a line: 2 steps x 3 parameters


def _spec(tmp_path, **keys) -> str:
    path = tmp_path / "opt.toml"
    body = {**NETWORK, **keys}
    lines = [f"{key} = {json.dumps(value)}" for key, value in body.items() if not isinstance(value, dict)]
    lines += [f"[{key}]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in value.items())
              for key, value in body.items() if isinstance(value, dict)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


HOSTILE = [
    ({"optimizer": "adagrad"}, "'optimizer'"),
    ({"optimizer": 3}, "'optimizer'"),
    ({"optimizer": "adam", "learning_rate": -0.1}, "'learning_rate'"),
    ({"optimizer": "adam", "lr": -1}, "'lr'"),
    ({"optimizer": "adam", "lr": 0.1, "learning_rate": 0.1}, "'lr'"),
    ({"optimizer": "adam", "lr": "fast"}, "lr"),
    ({"optimizer": "adam", "beta1": 1}, "'beta1'"),
    ({"optimizer": "adam", "beta2": 1.5}, "'beta2'"),
    ({"optimizer": "momentum", "momentum": 1}, "'momentum'"),
    ({"optimizer": "rmsprop", "beta": -0.1}, "'beta'"),
    ({"optimizer": "adam", "eps": 0}, "'eps'"),
    ({"optimizer": "adam", "steps": 10**9}, "steps"),
    ({"optimizer": "adam", "beta1": "0.9"}, "'beta1'"),
    ({"optimizer": "rmsprop", "eps": "tiny"}, "'eps'"),
    ({"optimizer": "momentum", "momentum": True}, "'momentum'"),
    ({"optimizer": "momentum", "beta1": 0.9}, "'beta1'"),
    ({"beta": 0.9}, "'beta'"),
]


@pytest.mark.parametrize(("keys", "mentions"), HOSTILE, ids=[json.dumps(k) for k, _ in HOSTILE])
def test_hostile_optimizer_keys(capsys, tmp_path, keys, mentions):
    """Each bad key: one line naming it, exit 2."""
    status, _, err = run_cli(capsys, "backprop", _spec(tmp_path, **keys), "--json")
    assert_one_line_error(status, err, mentions=mentions)


def test_handout_states_the_optimizer_and_the_key_shows_every_moment(capsys, tmp_path):
    """A sheet with an Adam problem (en): the handout names Adam with beta_1, beta_2, epsilon beside
    eta and asks for its steps; the key shows the moment lines and states PyTorch's convention."""
    _spec(tmp_path, optimizer="adam", steps=1)  # tmp_path/opt.toml
    sheet = tmp_path / "sheet.toml"
    sheet.write_text('title = "Optimizers"\nlang = "en"\n[[problem]]\nbackprop = "opt.toml"\n'
                     'targets = ["updated_w1"]\n')
    status, _, err = run_cli(capsys, "sheet", str(sheet), "-o", str(tmp_path / "out"))
    assert status == 0, err
    handout = (tmp_path / "out" / "sheet.tex").read_text()
    key = (tmp_path / "out" / "sheet-key.tex").read_text()
    assert "the optimizer Adam with" in handout and r"\beta_1 = 0.9" in handout and r"\eta = 0.1" in handout
    assert "do 1 step(s) of Adam" in handout
    for line in (r"\hat{m}_{w_{1}}^{(1)}", r"\hat{v}_{w_{1}}^{(1)}", "the first moment", "outside the square root"):
        assert line in key, line


# --- the norm ||W|| as the course writes it -------------------------------------------------------------
NORM_ROWS = [
    (r"(\gamma \|W\|)^{T-k}", "correct"),
    (r"(\gamma \lVert W \rVert)^{T-k}", "correct"),
    (r"\left(\gamma \left\| W \right\|\right)^{T-k}", "correct"),
    ("(\\gamma ‖W‖)^{T-k}", "correct"),
    (r"\|W\|^{T-k} \gamma^{T-k}", "correct"),
    (r"(\gamma \|W\|)^{T-k+1}", "incorrect"),       # one factor too many
    (r"\gamma^{T-k} \|W\|", "incorrect"),           # the norm's power dropped
    (r"(\gamma \|W\|^2)^{T-k}", "incorrect"),       # the norm squared
    (r"(\gamma \|V\|)^{T-k}", "unparsable"),        # a norm of what the problem does not name
    (r"(\gamma \|W)^{T-k}", "unparsable"),          # not closed
    (r"\|\input{/etc/passwd}\|", "unparsable"),     # no TeX runs, nothing is guessed
]


@pytest.mark.parametrize("answer, verdict", NORM_ROWS)
def test_the_norm_of_w_reads_as_the_problems_quantity(capsys, answer, verdict):
    _, out, err = run_cli(capsys, "check", "bptt-vector", "--target", "bound", "--answer", answer)
    assert out.split(":")[0] == verdict and "Traceback" not in err, (answer, out, err)
