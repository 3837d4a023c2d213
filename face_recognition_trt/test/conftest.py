"""Shared fixtures. Data comes from ../shared beside the checkout; models from `models fetch`.

Without ../shared (a user's checkout) tests that need it are skipped with the reason; in CI (the CI
environment variable is set) they fail with a clear message instead, so a missing data folder can
never turn the suite silently green.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
DATA = SHARED / "data"
SAMPLES = DATA / "samples"
LFW = DATA / "lfw"
ROS_INTERFACES = SHARED / "ros_interfaces"


def missing(what: str, how: str) -> None:
    message = f"{what} is missing: {how}"
    if os.environ.get("CI"):
        pytest.fail(f"CI: {message}", pytrace=False)
    pytest.skip(message)


def need_shared(path: Path) -> Path:
    if not path.exists():
        missing(str(path), "these tests need the shared test data beside the checkout (../shared)")
    return path


@pytest.fixture(scope="session")
def samples() -> Path:
    return need_shared(SAMPLES)


@pytest.fixture(scope="session")
def lfw_dir() -> Path:
    return need_shared(LFW)


@pytest.fixture(scope="session")
def ros_interfaces() -> Path:
    return need_shared(ROS_INTERFACES)


@pytest.fixture(scope="session")
def models_dir() -> Path:
    from face_recognition_trt.models.registry import DLIB_RESNET, MTCNN_FILES, default_models_dir

    path = default_models_dir()
    for file in [*MTCNN_FILES.values(), DLIB_RESNET.onnx]:
        if not (path / file).exists():
            missing(str(path / file), "run `face-recognition-trt models fetch` (tools/setup.sh does)")
    return path


@pytest.fixture(scope="session")
def pipeline(models_dir):
    from face_recognition_trt.pipeline import FacePipeline, PipelineConfig

    return FacePipeline(PipelineConfig(models_dir=models_dir))


@pytest.fixture(scope="session")
def read(samples):
    from face_recognition_trt.image_io import read_image

    def _read(relative: str) -> np.ndarray:
        return read_image(samples / relative)

    return _read
