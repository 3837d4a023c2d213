"""Embedder: aligned face chips in, L2-normalised embeddings out, over any inference backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..backends import BackendOptions, create_backend
from ..errors import ModelError
from ..models.installed import verify_model
from ..models.registry import EMBEDDERS, EmbedderSpec


class Embedder:
    def __init__(
        self,
        spec: EmbedderSpec,
        models_dir: Path,
        options: BackendOptions | None = None,
        calibration_chips: np.ndarray | None = None,
    ) -> None:
        """calibration_chips: aligned BGR faces for a TensorRT INT8 build (see tooling/calibration.py)."""
        options = options or BackendOptions()
        self.spec = spec
        onnx = Path(spec.onnx)
        path = onnx if onnx.is_absolute() else verify_model(models_dir, spec.name, spec.onnx)
        if not path.exists():
            raise ModelError(f"embedder model {path} not found")
        size = spec.input_size
        batch = options.max_batch * (2 if spec.flip_average else 1)
        profile = {"input": ((1, 3, size, size), (2, 3, size, size), (batch, 3, size, size))}
        self._mean = np.asarray(spec.mean, np.float32)
        self._scale = 1.0 / np.asarray(spec.std, np.float32)
        calibration = self.preprocess(calibration_chips) if calibration_chips is not None else None
        self.backend = create_backend(path, options, profile, calibration)
        self.input_name = self.backend.input_names[0]
        self.output_name = self.backend.output_names[0]

    def preprocess(self, chips_bgr: np.ndarray) -> np.ndarray:
        """N x S x S x 3 BGR uint8 chips -> the model's input tensor."""
        chips = chips_bgr[..., ::-1] if self.spec.colour == "RGB" else chips_bgr
        if self.spec.flip_average:
            chips = np.concatenate([chips, chips[:, :, ::-1]])  # mirror images after the originals
        x = (chips.astype(np.float32) - self._mean) * self._scale
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2) if self.spec.layout == "NCHW" else x)

    def embed(self, chips_bgr: np.ndarray) -> np.ndarray:
        """N x dim float32, unit length. Mirror averaging (when the spec asks) happens here."""
        n = len(chips_bgr)
        if n == 0:
            return np.zeros((0, self.spec.dim), np.float32)
        out = self.backend.run({self.input_name: self.preprocess(chips_bgr)})[self.output_name]
        out = out.reshape(len(out), -1).astype(np.float32)
        if self.spec.flip_average:
            out = out[:n] + out[n:]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def _box_crop(raw) -> float | None:
    if raw is None:
        return None
    scale = float(raw)
    if not 0.5 <= scale <= 3.0:
        raise ValueError(f"box_crop must be between 0.5 and 3, got {scale}")
    return scale


def load_embedder_spec(name_or_path: str) -> EmbedderSpec:
    """A built-in embedder by name, or a user ONNX model described by a small YAML file:

    name: my-arcface
    onnx: /models/arcface.onnx      # relative paths are relative to the YAML file
    input_size: 112
    mean: [127.5, 127.5, 127.5]
    std: [127.5, 127.5, 127.5]
    colour: RGB                      # or BGR
    dim: 512
    template: arcface_112            # dlib_150 | arcface_112 | facenet_160 | 5 [x, y] points
    box_crop: 1.25                   # optional: crop the detector's box grown 1.25x instead
    flip_average: false
    """
    if name_or_path in EMBEDDERS:
        return EMBEDDERS[name_or_path]
    path = Path(name_or_path)
    if not path.exists():
        raise ModelError(
            f"unknown embedder '{name_or_path}': neither a built-in ({', '.join(EMBEDDERS)}) nor a spec file"
        )
    import yaml

    from ..models import registry

    try:
        raw = yaml.safe_load(path.read_text())
        templates = {
            "dlib_150": registry.DLIB_CHIP_150,
            "arcface_112": registry.ARCFACE_112,
            "facenet_160": registry.FACENET_160,
        }
        template = raw["template"]
        template = templates[template] if isinstance(template, str) else tuple(tuple(map(float, p)) for p in template)
        if len(template) != 5:
            raise ValueError("template needs 5 points")
        onnx = Path(raw["onnx"])
        if not onnx.is_absolute():
            onnx = (path.parent / onnx).resolve()
        colour = str(raw.get("colour", "RGB")).upper()
        if colour not in ("RGB", "BGR"):
            raise ValueError("colour must be RGB or BGR")
        return EmbedderSpec(
            name=str(raw["name"]),
            onnx=str(onnx),
            input_size=int(raw["input_size"]),
            mean=tuple(float(v) for v in raw["mean"]),
            std=tuple(float(v) for v in raw["std"]),
            colour=colour,
            dim=int(raw["dim"]),
            template=template,
            version=str(raw.get("version", "1")),
            flip_average=bool(raw.get("flip_average", False)),
            box_crop=_box_crop(raw.get("box_crop")),
        )
    except (KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise ModelError(f"invalid embedder spec {path}: {exc}") from exc
