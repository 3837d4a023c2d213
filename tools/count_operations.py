"""Multiply-accumulates (MACs) of each network, counted from the converted ONNX graphs, and of
P-Net over the image pyramid of a frame (docs/performance.md, section 1).

    .venv/bin/python tools/count_operations.py [--frame 640x480] [--min-face 20 40 60]

Convolutions count N x Cout x Hout x Wout x Cin/groups x kH x kW, Gemm and MatMul N x out x in.
Shapes come from ONNX shape inference; where it cannot resolve one (the dlib ResNet pads by a
computed amount), from one run of ONNX's reference evaluator on zeros.
"""

from __future__ import annotations

import argparse

import numpy as np
import onnx
from face_recognition_trt.detect.mtcnn_math import level_size, pyramid_scales
from face_recognition_trt.models.registry import DLIB_RESNET, FACENET, MTCNN_FILES, default_models_dir
from onnx import shape_inference


def _shapes(model: onnx.ModelProto, shape: list[int]) -> dict[str, list[int]]:
    graph = model.graph
    given = next(i for i in graph.input if i.name not in {t.name for t in graph.initializer})
    for dim, size in zip(given.type.tensor_type.shape.dim, shape):
        dim.ClearField("dim_param")
        dim.dim_value = size
    inferred = shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    shapes = {t.name: list(t.dims) for t in graph.initializer}
    for info in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
        dims = info.type.tensor_type.shape.dim
        if dims and all(d.HasField("dim_value") for d in dims):
            shapes[info.name] = [d.dim_value for d in dims]
    heavy = [n for n in graph.node if n.op_type in ("Conv", "Gemm", "MatMul")]
    if any(n.output[0] not in shapes or n.input[0] not in shapes for n in heavy):
        from onnx.reference import ReferenceEvaluator

        probe = onnx.ModelProto()
        probe.CopyFrom(model)
        names = [out for n in probe.graph.node for out in n.output if out]
        del probe.graph.output[:]
        probe.graph.output.extend(onnx.helper.make_empty_tensor_value_info(name) for name in names)
        values = ReferenceEvaluator(probe).run(None, {given.name: np.zeros(shape, np.float32)})
        shapes.update({name: list(np.shape(v)) for name, v in zip(names, values)})
    return shapes


def count_macs(path, shape: list[int]) -> int:
    model = onnx.load(str(path))
    shapes = _shapes(model, shape)
    total = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            total += int(np.prod(shapes[node.output[0]])) * int(np.prod(shapes[node.input[1]][1:]))
        elif node.op_type in ("Gemm", "MatMul"):
            a = shapes[node.input[0]]
            inner = (
                a[0] if node.op_type == "Gemm" and any(x.name == "transA" and x.i for x in node.attribute) else a[-1]
            )
            total += int(np.prod(shapes[node.output[0]])) * int(inner)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frame", default="640x480")
    parser.add_argument("--min-face", type=float, nargs="+", default=[20.0, 40.0, 60.0])
    parser.add_argument("--factor", type=float, default=0.709)
    args = parser.parse_args()
    models = default_models_dir()
    print("| network | input | MACs |\n|---|---|---|")
    for name, file, shape in (
        ("R-Net, per candidate", MTCNN_FILES["rnet"], [1, 3, 24, 24]),
        ("O-Net, per candidate", MTCNN_FILES["onet"], [1, 3, 48, 48]),
        (f"{DLIB_RESNET.name}, per face", DLIB_RESNET.onnx, [1, 3, 150, 150]),
        (f"{FACENET.name}, per face", FACENET.onnx, [1, 3, 160, 160]),
    ):
        if (models / file).exists():
            print(f"| {name} | {'x'.join(map(str, shape[1:]))} | {count_macs(models / file, shape) / 1e6:,.1f} M |")
    width, height = map(int, args.frame.split("x"))
    print(f"\n| min face | P-Net levels at {args.frame} | P-Net MACs |\n|---|---|---|")
    for min_face in args.min_face:
        levels = [level_size(height, width, s) for s in pyramid_scales(height, width, min_face, args.factor)]
        macs = sum(count_macs(models / MTCNN_FILES["pnet"], [1, 3, h, w]) for h, w in levels)
        sizes = ", ".join(f"{h}x{w}" for h, w in levels)
        print(f"| {min_face:g} | {len(levels)}: {sizes} | {macs / 1e6:,.1f} M |")


if __name__ == "__main__":
    main()
