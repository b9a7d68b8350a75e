"""Built-in networks: torchvision's definitions, and the course sheets' own networks.

Networks are data (the same tables a TOML spec holds); :mod:`derive.architecture` computes
them. The seeds' networks are named after the sheet and question they come from.
"""

from __future__ import annotations

from ..architecture.spec import Network, network_from
from ..errors import UnknownNameError


def conv(out: int, kernel: int, stride: int = 1, padding: int = 0, bias: bool = True, groups: int = 1,
         name: str | None = None) -> dict:
    """A convolution layer's table."""
    layer = {"type": "conv", "out": out, "kernel": kernel, "stride": stride, "padding": padding, "bias": bias}
    if groups != 1:
        layer["groups"] = groups
    return {**layer, **({"name": name} if name else {})}


def named(kind: str, name: str | None = None, **options) -> dict:
    """Any other layer's table."""
    return {"type": kind, **options, **({"name": name} if name else {})}


def _basic_block(name: str, channels: int, out: int, stride: int) -> list[dict]:
    main = [conv(out, 3, stride, 1, False, name=f"{name}.conv1"), named("bn", f"{name}.bn1"),
            named("relu", f"{name}.relu1"), conv(out, 3, 1, 1, False, name=f"{name}.conv2"), named("bn", f"{name}.bn2")]
    shortcut = [conv(out, 1, stride, 0, False, name=f"{name}.downsample.0"), named("bn", f"{name}.downsample.1")] \
        if stride != 1 or channels != out else []
    return [{"type": "residual", "name": name, "main": main, "downsample": shortcut}, named("relu", f"{name}.relu")]


def _bottleneck(name: str, channels: int, planes: int, stride: int) -> list[dict]:
    out = planes * 4
    main = [conv(planes, 1, 1, 0, False, name=f"{name}.conv1"), named("bn", f"{name}.bn1"), named("relu", f"{name}.relu1"),
            conv(planes, 3, stride, 1, False, name=f"{name}.conv2"), named("bn", f"{name}.bn2"),
            named("relu", f"{name}.relu2"), conv(out, 1, 1, 0, False, name=f"{name}.conv3"), named("bn", f"{name}.bn3")]
    shortcut = [conv(out, 1, stride, 0, False, name=f"{name}.downsample.0"), named("bn", f"{name}.downsample.1")] \
        if stride != 1 or channels != out else []
    return [{"type": "residual", "name": name, "main": main, "downsample": shortcut}, named("relu", f"{name}.relu")]


def resnet(name: str, blocks: tuple[int, ...], bottleneck: bool = False) -> dict:
    """ResNet as torchvision defines it (batch norm, downsample convolutions, fc bias), at 224x224x3."""
    layers = [conv(64, 7, 2, 3, False, name="conv1"), named("bn", "bn1"), named("relu", "relu"),
              named("maxpool", "maxpool", kernel=3, stride=2, padding=1)]
    channels = 64
    for stage, (count, planes) in enumerate(zip(blocks, (64, 128, 256, 512), strict=False), 1):
        for index in range(count):
            stride = 2 if stage > 1 and index == 0 else 1
            block = f"layer{stage}.{index}"
            layers += (_bottleneck(block, channels, planes, stride) if bottleneck
                       else _basic_block(block, channels, planes, stride))
            channels = planes * 4 if bottleneck else planes
    layers += [named("gap", "avgpool"), named("flatten", "flatten"), named("linear", "fc", out=1000)]
    return {"name": name, "title": f"{name} (torchvision)", "input": [224, 224, 3], "rounding": "floor",
            "layer": layers}


def vgg16() -> dict:
    """VGG-16 as torchvision defines it (configuration D, no batch norm)."""
    layers, index = [], 0
    for value in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if value == "M":
            layers.append(named("maxpool", f"features.{index}", kernel=2, stride=2))
            index += 1
        else:
            layers += [conv(value, 3, 1, 1, name=f"features.{index}"), named("relu", f"features.{index + 1}")]
            index += 2
    layers += [named("flatten", "flatten"), named("linear", "classifier.0", out=4096), named("relu", "classifier.1"),
               named("dropout", "classifier.2"), named("linear", "classifier.3", out=4096),
               named("relu", "classifier.4"), named("dropout", "classifier.5"), named("linear", "classifier.6", out=1000)]
    return {"name": "vgg16", "title": "VGG-16 (torchvision)", "input": [224, 224, 3], "rounding": "floor",
            "layer": layers}


def alexnet(grouped: bool) -> dict:
    """The original AlexNet at 227x227x3 (96 filters; conv2, conv4, conv5 in two groups if ``grouped``)."""
    groups = 2 if grouped else 1
    layers = [conv(96, 11, 4, 0, name="conv1"), named("relu"), named("lrn", "norm1", size=5),
              named("maxpool", "pool1", kernel=3, stride=2), conv(256, 5, 1, 2, groups=groups, name="conv2"),
              named("relu"), named("lrn", "norm2", size=5), named("maxpool", "pool2", kernel=3, stride=2),
              conv(384, 3, 1, 1, name="conv3"), named("relu"), conv(384, 3, 1, 1, groups=groups, name="conv4"),
              named("relu"), conv(256, 3, 1, 1, groups=groups, name="conv5"), named("relu"),
              named("maxpool", "pool5", kernel=3, stride=2), named("flatten"), named("linear", "fc6", out=4096),
              named("relu"), named("dropout"), named("linear", "fc7", out=4096), named("relu"), named("dropout"),
              named("linear", "fc8", out=1000)]
    name = "alexnet-grouped" if grouped else "alexnet"
    return {"name": name, "title": f"AlexNet ({'two-GPU groups' if grouped else 'ungrouped'}, 227x227x3)",
            "input": [227, 227, 3], "layer": layers}


def alexnet_torchvision() -> dict:
    """torchvision's AlexNet (64/192/384/256/256) at 224x224x3; its adaptive 6x6 pooling is the
    identity at this size and is left out."""
    layers = [conv(64, 11, 4, 2, name="features.0"), named("relu"), named("maxpool", kernel=3, stride=2),
              conv(192, 5, 1, 2, name="features.3"), named("relu"), named("maxpool", kernel=3, stride=2),
              conv(384, 3, 1, 1, name="features.6"), named("relu"), conv(256, 3, 1, 1, name="features.8"),
              named("relu"), conv(256, 3, 1, 1, name="features.10"), named("relu"), named("maxpool", kernel=3, stride=2),
              named("flatten"), named("dropout"), named("linear", "classifier.1", out=4096), named("relu"),
              named("dropout"), named("linear", "classifier.4", out=4096), named("relu"),
              named("linear", "classifier.6", out=1000)]
    return {"name": "alexnet-torchvision", "title": "AlexNet (torchvision, 224x224x3)", "input": [224, 224, 3],
            "rounding": "floor", "layer": layers}


def inception(bottleneck: bool) -> dict:
    """The course's Inception module on 28x28x256 (sheet 003, question 3)."""
    if bottleneck:
        branches = [[conv(128, 1, name="1x1")], [conv(64, 1, name="3x3_reduce"), conv(192, 3, 1, 1, name="3x3")],
                    [conv(32, 1, name="5x5_reduce"), conv(96, 5, 1, 2, name="5x5")]]
    else:
        branches = [[conv(128, 1, name="1x1")], [conv(192, 3, 1, 1, name="3x3")], [conv(96, 5, 1, 2, name="5x5")]]
    name = "inception-bottleneck" if bottleneck else "inception-naive"
    return {"name": name, "title": f"Inception module ({'1x1 reductions' if bottleneck else 'naive'}) on 28x28x256",
            "input": [28, 28, 256], "layer": [{"type": "concat", "name": "concat", "branches": branches}]}


def _seeds() -> dict[str, dict]:
    return {
        "sheet000-1.1-fc": {"title": "Sheet 000, 1.1: fully connected 160,000 -> 40,000 -> 2,000 -> 100",
                            "input": [400, 400, 1], "layer": [named("flatten"), named("linear", "fc1", out=40000),
                                                              named("linear", "fc2", out=2000),
                                                              named("linear", "fc3", out=100)]},
        "sheet002-q5-fc": {"title": "Sheet 002, question 5 (1): 300x300x3 fully connected to 100",
                           "input": [300, 300, 3], "layer": [named("flatten"), named("linear", "fc", out=100)]},
        "sheet002-q5-conv": {"title": "Sheet 002, question 5 (2): 100 filters 5x5x3, stride 1",
                             "input": [300, 300, 3], "layer": [conv(100, 5, name="conv")]},
        "sheet002-q6": {"title": "Sheet 002, question 6: an AlexNet-like network", "input": [227, 227, 3],
                        "layer": [conv(96, 11, 4, 0, name="Conv-1"), named("maxpool", "MaxPool-1", kernel=3, stride=2),
                                  conv(256, 5, 1, 2, name="Conv-2"), named("maxpool", "MaxPool-2", kernel=3, stride=2),
                                  named("flatten"), named("linear", "FC-1", out=4096),
                                  named("linear", "FC-2", out=1000)]},
        "sheet003-q2-conv": {"title": "Sheet 003, question 2: 10 filters 5x5 on 32x32x3, stride 1, padding 2",
                             "input": [32, 32, 3], "layer": [conv(10, 5, 1, 2, name="conv")]},
    }


def _tables() -> dict[str, dict]:
    tables = {name: {"name": name, **table} for name, table in _seeds().items()}
    for table in (resnet("resnet18", (2, 2, 2, 2)), resnet("resnet34", (3, 4, 6, 3)),
                  resnet("resnet152", (3, 8, 36, 3), bottleneck=True), vgg16(), alexnet(False), alexnet(True),
                  alexnet_torchvision(), inception(False), inception(True)):
        tables[table["name"]] = table
    return tables


#: Built-in network -> the one its figures are compared with (the ratio is shown).
REFERENCES = {"inception-bottleneck": "inception-naive"}


def network_names() -> list[str]:
    """The names of the built-in networks."""
    return list(_tables())


def builtin(name: str) -> Network:
    """A built-in network by name; an unknown name suggests the closest."""
    tables = _tables()
    if name not in tables:
        raise UnknownNameError("network", name, tables)
    return network_from(tables[name], name)
