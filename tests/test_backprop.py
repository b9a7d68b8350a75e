"""Worked backpropagation and conv2d against PyTorch autograd, finite differences and F.conv2d."""

import json
from fractions import Fraction

import pytest
import torch

from derive.backprop.graph import graph_from, run
from derive.catalog.examples import EXAMPLES
from derive.cli import cli

BACKPROP = [name for name, e in EXAMPLES.items() if e["kind"] == "backprop"]


def _t(value):
    return torch.tensor(float(value), dtype=torch.float64)


# Each seed problem written again by hand in torch, from the sheets (not from derive's specs).
def _bp_221(p, x1=_t(0.2), x2=_t(0.3), target=_t(0.5)):
    b1, b2 = torch.relu(p["v11"] * x1 + p["v21"] * x2), torch.relu(p["v12"] * x1 + p["v22"] * x2)
    return (torch.relu(p["w11"] * b1 + p["w21"] * b2) - target) ** 2 / 2


def _relu_chain(p, x1=_t(1), x2=_t(2), y=_t(2)):
    return (p["w3"] * torch.relu(p["w1"] * x1 + p["w2"] * x2 + p["b1"]) + p["b2"] - y) ** 2 / 2


TORCH_LOSSES = {
    "bp-221-relu": _bp_221,
    "graph-xyz": lambda p: (p["x"] + p["y"]) ** 2 * p["z"],
    "relu-chain": _relu_chain,
    "linear-mse": lambda p: (p["w3"] * 3 + p["b2"] - 2) ** 2 / 2,
    "linear-unit": lambda p: (p["w1"] * 1 + p["w2"] * 2 + p["b"] - 10) ** 2 / 2,
    "sigmoid-upstream": lambda p: 4.0 * torch.sigmoid(p["x"]),
}


def torch_forward(example, params):
    return TORCH_LOSSES[next(n for n, e in EXAMPLES.items() if e is example)](params)


@pytest.mark.parametrize("name", BACKPROP)
def test_gradients_match_torch_autograd_and_finite_differences(name):
    example = EXAMPLES[name]
    result = run(graph_from({"name": name, **{k: v for k, v in example.items() if k != "kind"}}, name))
    params = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for k, v in example["params"].items()}
    loss = torch_forward(example, params)
    loss.backward()
    assert abs(float(result.loss) - loss.item()) < 1e-12
    for param, tensor in params.items():
        assert abs(float(result.grads[param]) - tensor.grad.item()) < 1e-12, param

        def shifted(h, param=param):
            moved = {k: torch.tensor(float(v) + (h if k == param else 0), dtype=torch.float64)
                     for k, v in example["params"].items()}
            return torch_forward(example, moved).item()

        central = (shifted(1e-6) - shifted(-1e-6)) / 2e-6
        assert abs(float(result.grads[param]) - central) < 1e-6, param


def test_one_sgd_step_lowers_the_loss_and_matches_torch():
    example = EXAMPLES["bp-221-relu"]
    result = run(graph_from({"name": "bp", **{k: v for k, v in example.items() if k != "kind"}}, "bp"))
    params = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for k, v in example["params"].items()}
    torch_forward(example, params).backward()
    with torch.no_grad():
        stepped = {k: p - 1.0 * p.grad for k, p in params.items()}
    for param, value in stepped.items():
        assert abs(float(result.updated[param]) - value.item()) < 1e-12
    assert abs(float(result.loss_after) - torch_forward(example, stepped).item()) < 1e-12
    assert result.loss_after < result.loss


def test_several_steps_take_each_gradient_at_the_new_point():
    spec = {"name": "q", "params": {"w": 3}, "nodes": {"L": "(w - 1)^2"}, "loss": "L", "learning_rate": 0.25,
            "steps": 3}
    result = run(graph_from(spec, "q"))
    w = 3.0
    for _ in range(3):
        w -= 0.25 * 2 * (w - 1)
    assert float(result.updated["w"]) == w and float(result.loss_after) == (w - 1) ** 2


@pytest.mark.parametrize("padding, stride, flip", [(1, 1, False), (0, 2, False), (2, 1, True), (1, 3, True)])
def test_conv2d_matches_torch(capsys, padding, stride, flip):
    image = [[1, -2, 3, 0.5, 2], [4, 5, -6, 1, 0], [7, 8, 9, -1, 3], [0.25, 1, 2, 3, 4]]
    kernel = [[1, 0, -1], [2, 0.5, -2]]
    args = ["conv2d", "--image", json.dumps(image), "--kernel", json.dumps(kernel), "--padding", str(padding),
            "--stride", str(stride), "--json"] + (["--convolution"] if flip else [])
    assert cli(args) == 0
    got = json.loads(capsys.readouterr().out)["output"]
    weight = torch.tensor(kernel, dtype=torch.float64)
    weight = torch.flip(weight, (0, 1)) if flip else weight
    expected = torch.nn.functional.conv2d(torch.tensor(image, dtype=torch.float64)[None, None], weight[None, None],
                                          stride=stride, padding=padding)[0, 0]
    assert [[float(Fraction(str(v))) for v in row] for row in got] == expected.tolist()


@pytest.mark.parametrize("spec, message", [
    ({"params": {"w": 1}, "nodes": {"a": "w*b", "b": "w"}, "loss": "b"}, "node a: 'b' is not an input"),
    ({"params": {"w": 1}, "nodes": {"a": "a + w"}, "loss": "a"}, "node a: 'a' is not an input"),
    ({"params": {"w": 0}, "nodes": {"a": "1/w"}, "loss": "a"}, "node a: 1/w is undefined at these values"),
    ({"params": {"w": 1}, "nodes": {"a": "softsign(w)"}, "loss": "a"}, "node a: 'softsign' is not"),
    ({"params": {"w": 1}, "nodes": {"a": "__import__('os')"}, "loss": "a"}, "node a:"),
    ({"params": {"w": 1}, "nodes": {"a": "w"}, "loss": "z"}, "'loss' must name a node"),
])
def test_bad_graphs_exit_2_naming_the_node(tmp_path, capsys, spec, message):
    path = tmp_path / "bad.toml"
    lines = [f"loss = {json.dumps(spec['loss'])}", "[params]", *(f"{k} = {v}" for k, v in spec["params"].items()),
             "[nodes]", *(f"{k} = {json.dumps(v)}" for k, v in spec["nodes"].items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert cli(["backprop", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_examples_json_contract_and_published_comparison(capsys):
    assert cli(["example", "bp-221-relu", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document) >= {"forward", "loss", "grads", "updated", "loss_after", "decreased"}
    assert document["forward"]["alpha1"] == {"exact": "9/50", "float": 0.18}
    assert document["grads"]["w11"]["chain"] == "dE/dy*dbeta1/dw11*dy/dbeta1"
    assert document["decreased"] is True
    assert {row["quantity"]: row["difference"] for row in document["published"]}["loss_after"] == "rounded"
    assert cli(["example", "graph-xyz", "--json"]) == 0
    grads = json.loads(capsys.readouterr().out)["grads"]
    assert (grads["x"]["exact"], grads["y"]["exact"], grads["z"]["exact"]) == ("-36", "-36", "9")
    assert cli(["example", "list"]) == 0 and "conv2d-4x4" in capsys.readouterr().out
    assert cli(["example", "conv2d-4x4"]) == 0 and "padding 0, stride 2: equal" in capsys.readouterr().out
    assert cli(["example", "conv2d-4x4", "--lang", "zh"]) == 0 and "填充 0，步长 2：相同" in capsys.readouterr().out


def test_a_batch_takes_the_mean_loss_and_gradients_as_torch_does():
    spec = {"name": "batch", "inputs": {"x": 0, "y": 0}, "params": {"w": 0.5, "b": 0.1},
            "nodes": {"p": "sigmoid(w*x + b)", "L": "bce(p, y)"}, "loss": "L", "learning_rate": 0.5, "steps": 1,
            "sample": [{"x": 1, "y": 1}, {"x": -2, "y": 0}, {"x": 0.5, "y": 1}]}
    result = run(graph_from(spec, "batch"))
    w = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
    xs, ys = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64), torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    loss = torch.nn.functional.binary_cross_entropy(torch.sigmoid(w * xs + b), ys)
    loss.backward()
    assert abs(float(result.loss) - loss.item()) < 1e-12
    assert abs(float(result.grads["w"]) - w.grad.item()) < 1e-12 and abs(float(result.grads["b"]) - b.grad.item()) < 1e-12
    with torch.no_grad():
        after = torch.nn.functional.binary_cross_entropy(torch.sigmoid((w - 0.5 * w.grad) * xs + b - 0.5 * b.grad), ys)
    assert abs(float(result.loss_after) - after.item()) < 1e-12


def test_a_sample_may_only_give_inputs():
    spec = {"inputs": {"x": 0}, "params": {"w": 1}, "nodes": {"L": "w*x"}, "loss": "L", "sample": [{"w": 2}]}
    with pytest.raises(Exception, match="sample 1 gives 'w', which is not an input"):
        graph_from(spec, "t")
