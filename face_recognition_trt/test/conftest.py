"""Shared fixtures. Data comes from ../shared beside the checkout; models from `models fetch`.

Without ../shared (a user's checkout) tests that need it are skipped with the reason; in CI they
fail with a clear message instead (`strict`), so a missing data folder can never turn the suite
silently green.

Markers, for the runs of tools/test.sh: `ros` (given here to every test that uses the real ROS 2),
`rviz` (rviz2, which exists for Jazzy only) and `torch` (conversion and the facenet-pytorch
reference: not in the Python 3.10 venv).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
DATA = SHARED / "data"
SAMPLES = DATA / "samples"
LFW = DATA / "lfw"
ROS2_BUILD = SHARED / "ros2"  # the real ROS 2 distros that tools/test.sh installs and builds against


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "ros: uses the real ROS 2 (given to every test using the ros2 fixture)")
    config.addinivalue_line("markers", "rviz: uses rviz2 (installed for ROS 2 Jazzy only)")
    config.addinivalue_line("markers", "torch: needs torch (model conversion, the facenet-pytorch reference)")


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if "ros2" in item.fixturenames:
            item.add_marker(pytest.mark.ros)


def strict() -> bool:
    """Whether a missing prerequisite is a failure: in the project's own CI (.ci/run sets
    FACE_RECOGNITION_TRT_CI=1), and under a generic CI unless it declares that ../shared is not
    there (FACE_RECOGNITION_TRT_SHARED=absent: .github/workflows/ros.yml, where it cannot be)."""
    if os.environ.get("FACE_RECOGNITION_TRT_CI"):
        return True
    return bool(os.environ.get("CI")) and os.environ.get("FACE_RECOGNITION_TRT_SHARED") != "absent"


def missing(what: str, how: str) -> None:
    message = f"{what} is missing: {how}"
    if strict():
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


def ros2_unavailable() -> str | None:
    """Why the real ROS 2 cannot be used in this test run, or None when it can."""
    try:
        import rclpy  # noqa: F401
        from ament_index_python.packages import get_package_prefix

        from face_recognition_trt_interfaces.srv import Enroll  # noqa: F401

        get_package_prefix("face_recognition_trt")
    except Exception as exc:  # noqa: BLE001 - any failure means: not sourced, not built
        return f"ROS 2 with this package built is not sourced ({exc!r})"
    if shutil.which("ros2") is None:
        return "the ros2 command is not on PATH"
    return None


@pytest.fixture(scope="session")
def ros2() -> None:
    """The real ROS 2 (tools/test.sh installs it from ../shared/ros2 and builds both packages).

    On a machine without it the ROS tests skip; under CI with ../shared/ros2 present they fail.
    """
    reason = ros2_unavailable()
    if reason:
        how = "tools/test.sh installs ROS 2 from ../shared/ros2 (as root) and builds the packages with colcon"
        if strict() and ROS2_BUILD.exists():
            pytest.fail(f"CI: {reason}; {how}", pytrace=False)
        pytest.skip(f"{reason}; {how}")


@pytest.fixture(scope="session")
def models_dir() -> Path:
    from face_recognition_trt.models.registry import DLIB_RESNET, MTCNN_FILES, default_models_dir

    path = default_models_dir()
    for file in [*MTCNN_FILES.values(), DLIB_RESNET.onnx]:
        if not (path / file).exists():
            missing(str(path / file), "run `face-recognition-trt models fetch` (tools/setup.sh does)")
    return path


@pytest.fixture(scope="session")
def facenet_models(models_dir) -> Path:
    """The models directory, with FaceNet (the second embedder, fetched by tools/setup.sh too)."""
    from face_recognition_trt.models.registry import FACENET

    if not (models_dir / FACENET.onnx).exists():
        missing(str(models_dir / FACENET.onnx), "run `face-recognition-trt models fetch --embedder facenet-casia`")
    return models_dir


@pytest.fixture(scope="session")
def pipeline(models_dir):
    from face_recognition_trt.pipeline import FacePipeline, PipelineConfig

    return FacePipeline(PipelineConfig(models_dir=models_dir))


@pytest.fixture(scope="session")
def read(samples):
    from face_recognition_trt.frames.images import read_image

    def _read(relative: str) -> np.ndarray:
        return read_image(samples / relative)

    return _read


@pytest.fixture
def ros(ros2, models_dir):
    """A real rclpy context with a client node, for nodes started in this process (RosHarness)."""
    from support.ros_harness import RosHarness

    harness = RosHarness()
    yield harness
    harness.close()


@pytest.fixture(scope="session")
def local_database(tmp_path_factory):
    """A real PostgreSQL 16 with pgvector for the whole run (the pgserver wheel: tools/setup.sh
    installs it). Where none can be started the PostgreSQL tests skip with the reason; under CI
    they fail."""
    try:
        import pgvector  # noqa: F401
        import psycopg  # noqa: F401
        from face_recognition_trt.tooling.local_database import LocalDatabase
    except ImportError as exc:
        missing(f"PostgreSQL support ({exc.name})", "install the postgres extras (tools/setup.sh does)")
    db = LocalDatabase(tmp_path_factory.mktemp("postgres") / "data")
    try:
        db.start()
    except Exception as exc:  # noqa: BLE001 - whatever stops the server from starting is the reason
        missing("a local PostgreSQL server", f"it did not start: {exc}")
    yield db
    db.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    """The gallery store under test: the gallery tests run on both (a difference is a bug)."""
    from support.gallery_stores import PostgresStore, SqliteStore

    if request.param == "sqlite":
        return SqliteStore(tmp_path)
    return PostgresStore(request.getfixturevalue("local_database"))
