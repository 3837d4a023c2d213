"""dlib's face recognition ResNet (dlib_face_recognition_resnet_model_v1) rebuilt from the
weights shipped in @vladmandic/face-api, for export to ONNX.

Facts read from that package (src/faceRecognitionNet/*.ts and the weights manifest):
- input 150x150 RGB; subtract the mean (122.782, 117.001, 104.298), divide by 255;
- tensors are uint8-quantised per tensor (value = q * scale + min) except the float32 `conv64_*`
  filters; filters are HWIO, `fc` is [256, 128];
- every conv has a bias and is followed by dlib's affine layer (`scale/weights`, `scale/biases`);
- stride-2 convs use no padding, 3x3 stride-1 convs pad by one ("same");
- the stem is a 7x7 stride-2 conv + ReLU and a 3x3 stride-2 max pool;
- residual blocks: conv+affine+ReLU, conv+affine, add the input, ReLU;
- down blocks: a stride-2 conv branch, plus the input average-pooled 2x2 with zero channels appended;
  when the conv branch is one row/column short it gets a zero row at the bottom and a zero column
  at the right;
- the output is the spatial mean through `fc` (no bias), not normalised.
The affine layer is folded into the conv (w' = w * a, b' = b * a + c): exact, and one op fewer.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

BLOCKS = (
    ("conv32_1", False),
    ("conv32_2", False),
    ("conv32_3", False),
    ("conv64_down", True),
    ("conv64_1", False),
    ("conv64_2", False),
    ("conv64_3", False),
    ("conv128_down", True),
    ("conv128_1", False),
    ("conv128_2", False),
    ("conv256_down", True),
    ("conv256_1", False),
    ("conv256_2", False),
    ("conv256_down_out", True),
)  # (name, is a down block), in the order of FaceRecognitionNet.forwardInput


def load_face_api_weights(manifest_path: Path, bin_path: Path) -> dict[str, np.ndarray]:
    """Read and dequantise every tensor of face_recognition_model.bin, keyed by its manifest name."""
    groups = json.loads(Path(manifest_path).read_text())
    data = Path(bin_path).read_bytes()
    weights: dict[str, np.ndarray] = {}
    offset = 0
    for group in groups:
        for entry in group["weights"]:
            shape = entry["shape"]
            count = int(np.prod(shape))
            quant = entry.get("quantization")
            if quant:
                if quant["dtype"] != "uint8":
                    raise ValueError(f"unsupported quantisation {quant['dtype']} for {entry['name']}")
                q = np.frombuffer(data, np.uint8, count, offset)
                offset += count
                values = q.astype(np.float64) * quant["scale"] + quant["min"]
            else:
                if entry["dtype"] != "float32":
                    raise ValueError(f"unsupported dtype {entry['dtype']} for {entry['name']}")
                values = np.frombuffer(data, np.float32, count, offset)
                offset += 4 * count
            weights[entry["name"]] = values.astype(np.float32).reshape(shape)
    if offset != len(data):
        raise ValueError(f"weights file has {len(data)} bytes, the manifest describes {offset}")
    return weights


class _ConvAffine(nn.Conv2d):
    """One dlib conv + affine layer, folded into a single conv."""

    def __init__(self, weights: dict[str, np.ndarray], prefix: str, stride: int) -> None:
        filters = weights[f"{prefix}/conv/filters"]  # HWIO
        k, _, c_in, c_out = filters.shape
        padding = (k - 1) // 2 if stride == 1 else 0
        super().__init__(c_in, c_out, k, stride=stride, padding=padding)
        a = weights[f"{prefix}/scale/weights"].astype(np.float64)
        c = weights[f"{prefix}/scale/biases"].astype(np.float64)
        w = filters.astype(np.float64).transpose(3, 2, 0, 1) * a[:, None, None, None]
        b = weights[f"{prefix}/conv/bias"].astype(np.float64) * a + c
        with torch.no_grad():
            self.weight.copy_(torch.from_numpy(w.astype(np.float32)))
            self.bias.copy_(torch.from_numpy(b.astype(np.float32)))


class _Residual(nn.Module):
    def __init__(self, weights: dict[str, np.ndarray], name: str, down: bool) -> None:
        super().__init__()
        self.down = down
        self.conv1 = _ConvAffine(weights, f"{name}/conv1", stride=2 if down else 1)
        self.conv2 = _ConvAffine(weights, f"{name}/conv2", stride=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(F.relu(self.conv1(x)))
        if not self.down:
            return F.relu(out + x)
        shortcut = F.avg_pool2d(x, 2, 2)
        pad_h = shortcut.shape[2] - out.shape[2]
        pad_w = shortcut.shape[3] - out.shape[3]
        if pad_h or pad_w:  # static for a fixed 150x150 input: resolved at export time
            out = F.pad(out, (0, pad_w, 0, pad_h))
        extra = out.shape[1] - shortcut.shape[1]
        if extra:
            shortcut = F.pad(shortcut, (0, 0, 0, 0, 0, extra))
        return F.relu(out + shortcut)


class DlibResNet(nn.Module):
    """Input: N x 3 x 150 x 150, RGB, already normalised. Output: N x 128, not normalised."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        super().__init__()
        self.stem = _ConvAffine(weights, "conv32_down", stride=2)
        self.blocks = nn.Sequential(*(_Residual(weights, n, d) for n, d in BLOCKS))
        self.fc = nn.Linear(256, 128, bias=False)
        with torch.no_grad():
            self.fc.weight.copy_(torch.from_numpy(weights["fc"].T.copy()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.stem(x)), 3, 2)
        x = self.blocks(x)
        return self.fc(x.mean(dim=(2, 3)))
