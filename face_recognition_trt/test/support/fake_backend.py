"""A stand-in inference backend for tests where the networks are not the point (matching, tracking,
settings): it satisfies the Backend protocol, so the real pipeline, recognizer and gallery run
around it without fetched models, npm, torch or ../shared. The embedding it returns is a fixed
projection of the input: the same face chip always gives the same vector, different chips differ."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class FakeBackend:
    name = "fake"

    def __init__(self, onnx_path: Path, dim: int = 128) -> None:
        self.input_names, self.output_names = ["input"], ["output"]
        self._dim = dim

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = inputs["input"].reshape(len(inputs["input"]), -1).astype(np.float64)
        projection = np.random.default_rng(0).normal(size=(x.shape[1], self._dim))  # same for every call
        return {"output": (x @ projection).astype(np.float32)}


def install(monkeypatch) -> None:
    """Every model of the pipeline on FakeBackend, and no model file needed."""
    from face_recognition_trt.detect import mtcnn
    from face_recognition_trt.embed import embedder as embed

    monkeypatch.setattr(embed, "create_backend", lambda path, *args, **kwargs: FakeBackend(path))
    monkeypatch.setattr(mtcnn, "create_backend", lambda path, *args, **kwargs: FakeBackend(path))

    def no_model(models_dir: Path, name: str, file: str) -> Path:
        path = Path(models_dir) / file
        path.touch()  # an empty file where the model would be: the fake never reads it
        return path

    for module in (embed, mtcnn):
        monkeypatch.setattr(module, "verify_model", no_model)
