"""Benchmarking and parity tests only (never imported to recognise): facenet-pytorch's MTCNN as the
reference for `bench --compare facenet-pytorch` and the detector parity tests.

facenet-pytorch imports torchvision for two functions only: `transforms.functional.to_tensor` and
`ops.boxes.batched_nms`. PyPI's torchvision does not load beside the CPU torch this project pins, so
when torchvision cannot be imported we register a stand-in module with those two functions, written
from their documented behaviour in plain torch. Everything else that runs is facenet-pytorch's own
code and weights (installed with `pip install --no-deps facenet-pytorch==2.6.0`).
"""

from __future__ import annotations

import importlib
import sys
import types

import numpy as np

from ..errors import FaceRecognitionError
from ..settings import default


def _standin_torchvision() -> None:
    import torch

    def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
        # torchvision.ops.nms: greedy by descending score, IoU with areas (x2-x1)*(y2-y1), drop IoU > t.
        order = torch.argsort(scores, descending=True, stable=True)
        x1, y1, x2, y2 = boxes.unbind(1)
        area = (x2 - x1) * (y2 - y1)
        keep = []
        while order.numel():
            i = order[0]
            keep.append(int(i))
            rest = order[1:]
            w = (torch.minimum(x2[i], x2[rest]) - torch.maximum(x1[i], x1[rest])).clamp(min=0)
            h = (torch.minimum(y2[i], y2[rest]) - torch.maximum(y1[i], y1[rest])).clamp(min=0)
            inter = w * h
            iou = inter / (area[i] + area[rest] - inter)
            order = rest[iou <= iou_threshold]
        return torch.as_tensor(keep, dtype=torch.int64)

    def batched_nms(boxes, scores, idxs, iou_threshold):
        # torchvision's trick: offset boxes per class so that classes never overlap.
        if boxes.numel() == 0:
            return torch.empty((0,), dtype=torch.int64)
        offsets = idxs.to(boxes) * (boxes.max() + 1)
        return nms(boxes + offsets[:, None], scores, iou_threshold)

    def to_tensor(pic):
        array = np.asarray(pic)
        if array.ndim == 2:
            array = array[:, :, None]
        tensor = torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))
        return tensor.float().div(255) if tensor.dtype == torch.uint8 else tensor

    tv = types.ModuleType("torchvision")
    transforms = types.ModuleType("torchvision.transforms")
    functional = types.ModuleType("torchvision.transforms.functional")
    ops = types.ModuleType("torchvision.ops")
    ops_boxes = types.ModuleType("torchvision.ops.boxes")
    functional.to_tensor = to_tensor
    ops_boxes.batched_nms = batched_nms
    ops_boxes.nms = nms
    tv.transforms, transforms.functional, tv.ops, ops.boxes = transforms, functional, ops, ops_boxes
    sys.modules.update(
        {
            "torchvision": tv,
            "torchvision.transforms": transforms,
            "torchvision.transforms.functional": functional,
            "torchvision.ops": ops,
            "torchvision.ops.boxes": ops_boxes,
        }
    )


class FacenetPytorchMTCNN:
    """facenet-pytorch's MTCNN on the CPU with its default settings, taking BGR frames."""

    def __init__(self, min_face: float = default("min_face"), threads: int = 0) -> None:
        try:
            import torch
        except ImportError as exc:
            raise FaceRecognitionError("the facenet-pytorch reference needs torch: pip install torch==2.13.0") from exc
        try:
            importlib.import_module("torchvision.ops")
        except Exception:  # noqa: BLE001 - any failure to load torchvision means: use the stand-in
            for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
                del sys.modules[name]
            _standin_torchvision()
        try:
            from facenet_pytorch import MTCNN
        except ImportError as exc:
            raise FaceRecognitionError(
                "facenet-pytorch is not installed: pip install --no-deps facenet-pytorch==2.6.0 Pillow requests"
            ) from exc
        if threads > 0:
            torch.set_num_threads(threads)
        self.torch = torch
        self.mtcnn = MTCNN(min_face_size=min_face, keep_all=True, device="cpu")

    def detect(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boxes (N x 4), scores (N), landmarks (N x 5 x 2) in image pixels."""
        with self.torch.no_grad():
            boxes, probs, points = self.mtcnn.detect(np.ascontiguousarray(bgr[:, :, ::-1]), landmarks=True)
        if boxes is None:
            return np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2))
        return boxes.astype(np.float32), probs.astype(np.float32), points.astype(np.float32)


class FacenetPytorchPipeline(FacenetPytorchMTCNN):
    """The untracked peer pipeline users choose today: facenet-pytorch's MTCNN, then an
    InceptionResnetV1 in torch on each face's 160x160 box crop. The network is our module of the
    same architecture (models/inception_resnet_v1.py; facenet-pytorch's own needs torchvision's
    full install); its weights are left random, which costs the same time."""

    def __init__(self, min_face: float = default("min_face"), threads: int = 0) -> None:
        super().__init__(min_face, threads)
        from ..models.conversion.inception_resnet_v1 import InceptionResnetV1

        self.embedder = InceptionResnetV1().eval()

    def recognize(self, bgr: np.ndarray) -> np.ndarray:
        import cv2

        boxes, _, _ = self.detect(bgr)
        height, width = bgr.shape[:2]
        crops = []
        for x1, y1, x2, y2 in boxes.astype(int):
            x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
            if x2 > x1 and y2 > y1:
                crops.append(cv2.resize(bgr[y1:y2, x1:x2, ::-1], (160, 160)))
        if not crops:
            return np.zeros((0, 512), np.float32)
        x = self.torch.from_numpy((np.stack(crops).astype(np.float32) - 127.5) / 128).permute(0, 3, 1, 2)
        with self.torch.no_grad():
            return self.embedder(x.contiguous()).numpy()
