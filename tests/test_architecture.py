"""Network arithmetic against PyTorch on the CPU and against hand-checked published numbers."""

import pytest
import torch
from torch import nn

from derive.architecture.arithmetic import Convention, analyse
from derive.architecture.spec import network_from
from derive.catalog import architectures
from derive.cli import cli


class Residual(nn.Module):
    def __init__(self, main, shortcut):
        super().__init__()
        self.main, self.shortcut = main, shortcut

    def forward(self, x):
        return self.main(x) + self.shortcut(x)


class Concat(nn.Module):
    def __init__(self, branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], dim=1)


def to_torch(layers, modules):
    """torch modules for a layer list (lazy modules infer input sizes), registered by name."""
    built = []
    for layer in layers:
        o = layer.options
        kind = layer.kind
        if kind == "conv":
            module = nn.LazyConv2d(o["out"], o["kernel"], o.get("stride", 1), o.get("padding", 0), o.get("dilation", 1),
                                   o.get("groups", 1), o.get("bias", True))
        elif kind in ("maxpool", "avgpool"):
            pool = nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d
            module = pool(o["kernel"], o.get("stride", o["kernel"]), o.get("padding", 0))
        elif kind == "gap":
            module = nn.AdaptiveAvgPool2d(1)
        elif kind == "flatten":
            module = nn.Flatten()
        elif kind == "linear":
            module = nn.LazyLinear(o["out"], o.get("bias", True))
        elif kind == "bn":
            module = nn.LazyBatchNorm2d()
        elif kind == "lrn":
            module = nn.LocalResponseNorm(o["size"])
        elif kind == "dropout":
            module = nn.Dropout()
        elif kind == "activation":
            module = nn.ReLU()
        elif kind == "residual":
            main, shortcut = layer.paths
            module = Residual(nn.Sequential(*to_torch(main, modules)),
                              nn.Sequential(*to_torch(shortcut, modules)) if shortcut else nn.Identity())
        else:
            module = Concat([nn.Sequential(*to_torch(branch, modules)) for branch in layer.paths])
        modules[layer.name] = module
        built.append(module)
    return built


def measure(network):
    """Per-layer parameter counts, output shapes and MACs, as PyTorch sees them."""
    modules = {}
    model = nn.Sequential(*to_torch(network.layers, modules)).eval()
    height, width, channels = network.input
    shapes, macs = {}, {}

    def hook(name):
        def record(module, inputs, output):
            shapes[name] = tuple(output.shape[1:])
            if isinstance(module, nn.Conv2d):
                macs[name] = output.numel() * module.in_channels // module.groups * module.kernel_size[0] ** 2
            elif isinstance(module, nn.Linear):
                macs[name] = module.in_features * module.out_features
        return record

    with torch.no_grad():
        model(torch.zeros(1, channels, height, width))  # materialises the lazy modules
        for name, module in modules.items():
            module.register_forward_hook(hook(name))
        model(torch.zeros(1, channels, height, width))
    params = {name: sum(p.numel() for p in m.parameters()) for name, m in modules.items()
              if not isinstance(m, (Residual, Concat))}
    return params, shapes, macs


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "alexnet", "alexnet-grouped", "alexnet-torchvision",
                                  "vgg16", "inception-naive", "inception-bottleneck", "sheet002-q6"])
def test_every_layer_agrees_with_pytorch(name):
    network = architectures.builtin(name)
    report = analyse(network)
    params, shapes, macs = measure(network)
    rows = {row.name: row for row in report.rows if row.kind != "input"}
    for layer, count in params.items():
        assert rows[layer].params == count, layer
    for layer, shape in shapes.items():
        assert rows[layer].output_shape == shape, layer
    for layer, value in macs.items():
        assert rows[layer].macs == value, layer
    assert report.totals["params"] == sum(params.values())
    assert report.totals["macs"] == sum(macs.values())


@pytest.mark.parametrize("name, params", [
    # torchvision's documented parameter counts.
    ("resnet18", 11_689_512), ("resnet34", 21_797_672), ("resnet152", 60_192_808), ("vgg16", 138_357_544),
    ("alexnet-torchvision", 61_100_840),
])
def test_published_parameter_counts(name, params):
    assert analyse(architectures.builtin(name)).totals["params"] == params


def test_the_seeds_numbers():
    q5 = analyse(architectures.builtin("sheet002-q5-conv")).rows[-1]
    assert q5.activations == 296 * 296 * 100 == 8_761_600
    assert analyse(architectures.builtin("sheet002-q5-fc")).totals["params"] == 27_000_100
    q6 = {row.name: row for row in analyse(architectures.builtin("sheet002-q6")).rows}
    assert q6["Conv-1"].params == 34_944 and q6["Conv-1"].output_shape == (96, 55, 55)
    assert q6["MaxPool-1"].activations == 27 * 27 * 96
    assert q6["Conv-2"].output_shape[1:] == (27, 27)
    assert q6["FC-1"].params == 177_213_440 and q6["FC-2"].params == 4_097_000
    assert analyse(architectures.builtin("sheet000-1.1-fc")).totals["params"] == 6_480_242_100
    conv = analyse(architectures.builtin("sheet003-q2-conv")).rows[-1]
    assert conv.output_shape == (10, 32, 32) and conv.params == 760


def test_resnet18_the_sheets_way_and_the_difference():
    report = analyse(architectures.builtin("resnet18"), Convention(sheet=True))
    # The sheet's own sum: 9,408 + 147,456 + 516,096 + 2,064,384 + 8,257,536 + 512,000.
    assert report.totals["params"] == 11_506_880
    difference = report.totals["difference_from_full"]
    assert difference == {"full": 11_689_512, "bias": 1_000, "batch_norm": 7_808, "downsample": 173_824}
    # The sheet's memory, exactly (it rounds 150,528 to 150 K and so on, and says about 2,653.5 K).
    exact = 224 * 224 * 3 + 112 * 112 * 64 + 56 * 56 * 64 * 5 + 28 * 28 * 128 * 4 + 14 * 14 * 256 * 4 + 7 * 7 * 512 * 4 \
        + 512 + 1000
    assert report.totals["activations"] == exact == 2_660_840


def test_inception_ratio_and_receptive_fields():
    naive, bottleneck = (analyse(architectures.builtin(n)) for n in ("inception-naive", "inception-bottleneck"))
    assert naive.totals["macs"] == 784 * (128 * 256 + 192 * 9 * 256 + 96 * 25 * 256)
    # Three stacked 3x3 convolutions see 7x7 (sheet 003, question 5).
    vgg = {row.name: row for row in analyse(architectures.builtin("vgg16")).rows}
    assert vgg["features.2"].receptive_field == 5 and vgg["features.5"].receptive_field == 10


@pytest.mark.parametrize("layers, message", [
    ('[[layer]]\ntype = "conv"\nname = "big"\nout = 4\nkernel = 40\n', "layer big: output would be empty"),
    ('[[layer]]\ntype = "conv"\nname = "g"\nout = 4\nkernel = 3\ngroups = 2\n', "layer g: 3 input and 4 output channels"),
    ('[[layer]]\ntype = "conv"\nname = "s"\nout = 4\nkernel = 4\nstride = 3\n', "layer s: (input 32 + 2*0 - 1*(4 - 1) - 1)"),
    ('[[layer]]\ntype = "convolution"\n', "unknown layer type 'convolution'"),
    ('[[layer]]\ntype = "conv"\nname = "k"\nout = 4\nkernal = 3\n', "unknown key 'kernal'"),
])
def test_bad_networks_exit_2_naming_the_layer(tmp_path, capsys, layers, message):
    spec = tmp_path / "bad.toml"
    spec.write_text('input = [32, 32, 3]\n' + layers, encoding="utf-8")
    assert cli(["net", str(spec)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_net_command_json_contract(capsys):
    import json

    assert cli(["net", "resnet18", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document) >= {"name", "input", "layers", "totals"}
    assert set(document["layers"][1]) >= {"name", "type", "output_shape", "params", "weights", "bias", "activations",
                                          "macs", "receptive_field", "jump"}
    assert set(document["totals"]) >= {"params", "activations", "activation_bytes", "macs"}
    assert document["layers"][1]["output_shape"] == [112, 112, 64]


def test_a_spec_file_and_another_input(tmp_path, capsys):
    spec = tmp_path / "tiny.toml"
    spec.write_text('input = [32, 32, 3]\n[[layer]]\ntype = "conv"\nout = 10\nkernel = 5\npadding = 2\n', encoding="utf-8")
    assert cli(["net", str(spec), "--json", "--input", "64x64x3"]) == 0
    import json

    assert json.loads(capsys.readouterr().out)["layers"][-1]["output_shape"] == [64, 64, 10]
    assert cli(["net", "resnet18", "--latex", "--lang", "zh"]) == 0
    assert r"\begin{align*}" in capsys.readouterr().out
    assert network_from({"input": [8, 8, 1], "layer": [{"type": "flatten"}]}, "t").layers[0].kind == "flatten"
