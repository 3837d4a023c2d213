"""TensorRT on a real GPU: engines build, match ONNX Runtime within FP16 tolerance, and the full
pipeline finds the same faces and names. Skipped where TensorRT or a GPU is absent (this project's
CI); run on a Jetson or a GPU machine with `python -m pytest face_recognition_trt/test/test_tensorrt_gpu.py`.
"""

from __future__ import annotations

import numpy as np
import pytest

trt = pytest.importorskip("tensorrt", reason="TensorRT is not installed (JetPack, or pip install tensorrt)")
tensorrt_backend = pytest.importorskip("face_recognition_trt.backends.tensorrt_backend")
if not tensorrt_backend.gpu_available():
    pytest.skip("no CUDA GPU", allow_module_level=True)

from face_recognition_trt.backends import BackendOptions, create_backend  # noqa: E402
from face_recognition_trt.models.registry import DLIB_RESNET, MTCNN_FILES  # noqa: E402

CASES = [
    (MTCNN_FILES["pnet"], {"input": ((1, 3, 12, 12), (1, 3, 120, 160), (1, 3, 289, 385))}, (1, 3, 97, 131)),
    (MTCNN_FILES["rnet"], {"input": ((1, 3, 24, 24), (64, 3, 24, 24), (256, 3, 24, 24))}, (37, 3, 24, 24)),
    (MTCNN_FILES["onet"], {"input": ((1, 3, 48, 48), (8, 3, 48, 48), (256, 3, 48, 48))}, (5, 3, 48, 48)),
    (DLIB_RESNET.onnx, {"input": ((1, 3, 150, 150), (2, 3, 150, 150), (8, 3, 150, 150))}, (3, 3, 150, 150)),
]


@pytest.mark.parametrize("precision,tolerance", [("fp32", 1e-3), ("fp16", 3e-2)])
@pytest.mark.parametrize("onnx,profile,shape", CASES)
def test_engine_matches_onnxruntime(models_dir, tmp_path, onnx, profile, shape, precision, tolerance):
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    reference = create_backend(models_dir / onnx, BackendOptions(kind="onnxruntime")).run({"input": x})
    options = BackendOptions(kind="tensorrt", precision=precision, engine_cache=tmp_path)
    engine = create_backend(models_dir / onnx, options, profile)
    got = engine.run({"input": x})
    assert set(got) == set(reference)
    for name in reference:
        np.testing.assert_allclose(got[name], reference[name], atol=tolerance, rtol=tolerance)
    # the second construction loads the cached engine instead of building
    assert len(list(tmp_path.glob("*.engine"))) == 1
    again = create_backend(models_dir / onnx, options, profile).run({"input": x})
    np.testing.assert_array_equal(again[next(iter(reference))], got[next(iter(reference))])


def test_full_pipeline_parity(models_dir, tmp_path, read):
    from face_recognition_trt.pipeline import FacePipeline, PipelineConfig

    cpu = FacePipeline(PipelineConfig(models_dir=models_dir, backend=BackendOptions(kind="onnxruntime")))
    gpu = FacePipeline(
        PipelineConfig(
            models_dir=models_dir, backend=BackendOptions(kind="tensorrt", precision="fp16", engine_cache=tmp_path)
        )
    )
    for photo in (
        "groups/friends_tv_cast_6_faces.jpg",
        "groups/barack_obama_and_joe_biden_1.jpg",
        "portraits/kit_harington_1.jpg",
    ):
        image = read(photo)
        a, b = cpu.process(image), gpu.process(image)
        assert len(a.faces) == len(b.faces), photo
        for fa in a.faces:
            fb = min(b.faces, key=lambda f: np.abs(f.box - fa.box).sum())
            assert np.abs(fb.box - fa.box).max() < 0.05 * fa.size
            if fa.embedding is not None:
                assert float(fa.embedding @ fb.embedding) > 0.99
