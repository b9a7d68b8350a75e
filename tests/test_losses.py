"""Loss gradients against mpmath finite differences of the losses and PyTorch autograd."""

import mpmath as mp
import pytest
import torch
from reference import close, evaluate

import derive

CASES = [("0.3", "1"), ("0.8", "0"), ("0.55", "0.2"), ("0.05", "0.9")]


def bce(yhat, y):
    return -(y * mp.log(yhat) + (1 - y) * mp.log(1 - yhat))


@pytest.mark.parametrize("yhat, y", CASES)
def test_mse_and_bce_gradients(yhat, y):
    yhat, y = mp.mpf(yhat), mp.mpf(y)
    mse = derive.get("mse").target("dl_dyhat").rhs
    assert close(evaluate(mse, yhat=yhat, y=y), mp.diff(lambda t: (t - y) ** 2 / 2, yhat))
    grad = derive.get("bce").target("dl_dyhat").rhs
    assert close(evaluate(grad, yhat=yhat, y=y), mp.diff(lambda t: bce(t, y), yhat))


@pytest.mark.parametrize("w1, w2, b, x1, x2, y", [
    ("0.5", "-1.2", "0.1", "2", "0.7", "1"),
    ("-0.3", "0.8", "-0.6", "-1.5", "3", "0"),
])
def test_bce_sigmoid_gradients_by_finite_differences(w1, w2, b, x1, x2, y):
    v = {k: mp.mpf(val) for k, val in dict(w1=w1, w2=w2, b=b, x1=x1, x2=x2, y=y).items()}

    def loss(**changed):
        p = {**v, **changed}
        z = p["w1"] * p["x1"] + p["w2"] * p["x2"] + p["b"]
        return bce(1 / (1 + mp.exp(-z)), p["y"])

    z = v["w1"] * v["x1"] + v["w2"] * v["x2"] + v["b"]
    yhat = 1 / (1 + mp.exp(-z))
    d = derive.get("bce-sigmoid")
    expected = {
        "dl_dw1": mp.diff(lambda t: loss(w1=t), v["w1"]),
        "dl_dw2": mp.diff(lambda t: loss(w2=t), v["w2"]),
        "dl_db": mp.diff(lambda t: loss(b=t), v["b"]),
        "dl_dz": mp.diff(lambda t: bce(1 / (1 + mp.exp(-t)), v["y"]), z),
    }
    for name, value in expected.items():
        assert close(evaluate(d.target(name).rhs, yhat=yhat, **v), value), name


@pytest.mark.parametrize("yhat, y, delta", [("0.3", "1", "1"), ("2.5", "0.1", "1"), ("-4", "0.5", "0.7"),
                                            ("0.2", "0.1", "0.05")])
def test_huber_gradient_matches_torch(yhat, y, delta):
    prediction = torch.tensor([float(yhat)], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.huber_loss(prediction, torch.tensor([float(y)], dtype=torch.float64),
                                   delta=float(delta)).backward()
    got = evaluate(derive.get("huber").target("dl_dyhat").rhs, yhat=mp.mpf(yhat), y=mp.mpf(y),
                   delta=mp.mpf(delta))
    assert abs(float(got) - prediction.grad.item()) < 1e-12


def test_bce_after_sigmoid_cancels_to_yhat_minus_y_as_torch_computes():
    logits = torch.tensor([0.7], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor([1.0], dtype=torch.float64)).backward()
    got = evaluate(derive.get("bce-sigmoid").target("dl_dz").rhs, yhat=1 / (1 + mp.exp(-mp.mpf("0.7"))), y=1)
    assert abs(float(got) - logits.grad.item()) < 1e-12
