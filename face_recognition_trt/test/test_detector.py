"""The detector on real photos: parity with facenet-pytorch's MTCNN, face counts, embeddings."""

from __future__ import annotations

import numpy as np
import pytest
from face_recognition_trt.detect.mtcnn_math import iou_matrix
from face_recognition_trt.frames.images import IMAGE_SUFFIXES, read_image

# Faces per group photo, from ../shared/data/README.md (counted by eye) as (min, max) detections.
GROUP_COUNTS = {
    "barack_obama_and_joe_biden_1.jpg": (2, 2),
    "rose_leslie_and_kit_harington_1.jpg": (2, 2),
    "friends_tv_cast_6_faces.jpg": (6, 6),
    "deepface_couple_2_faces.jpg": (2, 2),
    "faceapi_sample1.jpg": (3, 3),
    "faceapi_sample2.jpg": (3, 3),  # two of them turned away: scores 0.78 and 0.81
    "faceapi_sample3.jpg": (3, 3),
    "faceapi_sample5.jpg": (5, 5),
    "faceapi_sample6.jpg": (4, 4),
    # The README counts 2 (Biden, Obama); a girl at the right edge is a third real face, and MTCNN
    # also fires (0.80) on a small dark patch at the bottom left.
    "joe_biden_and_barack_obama_2.jpg": (3, 4),
    # 4 people; MTCNN also fires (0.91) on a 68 px patch of a dress.
    "faceapi_sample4.jpg": (4, 5),
    # "about 8, several cut by the frame": the whole faces are found, cut ones mostly not.
    "deepface_selfie_many_people.jpg": (4, 8),
}

# facenet-pytorch 2.6.0 keeps a candidate box whose crop lies wholly outside the image (it skips
# the crop but not the box), so the scores of every later candidate shift by one; on this photo
# that yields one box (x1 = -8, score 0.80 taken from a neighbour) that no correct MTCNN produces.
# Our detector drops such candidates. Documented in docs/benchmarks.md.
REFERENCE_BUG_PHOTOS = {"angelina_jolie_1.jpg"}


@pytest.fixture(scope="module")
def reference():
    import importlib.util

    from conftest import missing
    from face_recognition_trt.tooling.reference import FacenetPytorchMTCNN

    for module in ("torch", "facenet_pytorch"):
        if importlib.util.find_spec(module) is None:
            missing(module, "the reference needs torch and `pip install --no-deps facenet-pytorch==2.6.0`")

    return FacenetPytorchMTCNN()


@pytest.mark.torch
def test_parity_with_facenet_pytorch(samples, pipeline, reference):
    photos = sorted(p for p in samples.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    assert len(photos) >= 60
    total = matched = 0
    landmark_errors = []
    for photo in photos:
        image = read_image(photo)
        ours = pipeline.detect(image)
        boxes, _, points = reference.detect(image)
        if not len(boxes):
            assert len(ours) == 0, photo.name
            continue
        iou = iou_matrix(boxes, ours.boxes) if len(ours) else np.zeros((len(boxes), 1))
        hit = iou.max(axis=1) >= 0.9
        if photo.name in REFERENCE_BUG_PHOTOS:
            # every reference box but the bug's one (partly outside the image) is matched
            assert hit.sum() == len(boxes) - 1 and (boxes[~hit][:, :2] < 0).any(), photo.name
            continue
        total += len(boxes)
        matched += hit.sum()
        nearest = iou.argmax(axis=1)
        for i in np.nonzero(hit)[0]:
            landmark_errors.extend(np.linalg.norm(points[i] - ours.landmarks[nearest[i]], axis=1))
    assert total >= 80
    assert matched / total >= 0.99, f"{matched}/{total} reference boxes matched at IoU >= 0.9"
    assert np.median(landmark_errors) <= 2.0


@pytest.mark.parametrize("photo", sorted(GROUP_COUNTS))
def test_group_photo_face_counts(samples, pipeline, photo):
    low, high = GROUP_COUNTS[photo]
    found = len(pipeline.detect(read_image(samples / "groups" / photo)))
    assert low <= found <= high, f"{photo}: {found} faces, expected {low}..{high}"


def test_photo_without_face_gives_empty_result(pipeline):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    assert len(pipeline.detect(noise)) == 0
    result = pipeline.process(np.full((100, 100, 3), 128, np.uint8))
    assert result.faces == []


def test_landmarks_are_inside_their_box_in_order(pipeline, read):
    det = pipeline.detect(read("portraits/joe_biden_1.jpg"))
    i = int(np.argmax(det.scores))
    (lx, ly), (rx, ry), (nx, ny), (mlx, mly), (mrx, mry) = det.landmarks[i]
    x1, y1, x2, y2 = det.boxes[i]
    assert x1 <= lx < nx < rx <= x2  # left eye (image left), nose, right eye
    assert y1 <= min(ly, ry) < ny < min(mly, mry) <= y2  # eyes above nose above mouth
    assert mlx < mrx


def _largest_embedding(pipeline, image):
    faces = [f for f in pipeline.process(image).faces if f.embedding is not None]
    return max(faces, key=lambda f: f.size).embedding


def test_same_person_closer_than_different_people(pipeline, read):
    obama = [_largest_embedding(pipeline, read(f"portraits/barack_obama_{i}.jpg")) for i in (1, 2, 3)]
    biden = [_largest_embedding(pipeline, read(f"portraits/joe_biden_{i}.jpg")) for i in (1, 2)]
    kit = _largest_embedding(pipeline, read("portraits/kit_harington_1.jpg"))
    for e in obama + biden + [kit]:
        assert e.shape == (128,) and np.linalg.norm(e) == pytest.approx(1.0, abs=1e-5)
    same = [obama[0] @ obama[1], obama[0] @ obama[2], obama[1] @ obama[2], biden[0] @ biden[1]]
    different = [o @ b for o in obama for b in biden] + [o @ kit for o in obama] + [b @ kit for b in biden]
    assert min(same) > max(different)


def test_a_frame_over_the_working_size_is_searched_downscaled_in_its_own_pixels(pipeline, read):
    """Work per frame is bounded (mtcnn.MAX_WORK_PIXELS); the faces come back in the frame's pixels."""
    import cv2
    from face_recognition_trt.detect.mtcnn import MAX_WORK_PIXELS

    photo = read("groups/faceapi_sample1.jpg")
    big = cv2.resize(photo, None, fx=3.0, fy=3.0, interpolation=cv2.INTER_LINEAR)
    assert big.shape[0] * big.shape[1] > 2 * MAX_WORK_PIXELS
    small, large = pipeline.detect(photo), pipeline.detect(big)
    assert len(large) == len(small) >= 3
    order_s, order_l = np.argsort(small.boxes[:, 0]), np.argsort(large.boxes[:, 0])
    np.testing.assert_allclose(large.boxes[order_l] / 3.0, small.boxes[order_s], atol=12)
    np.testing.assert_allclose(large.landmarks[order_l] / 3.0, small.landmarks[order_s], atol=6)


def test_a_header_claiming_a_huge_image_is_refused_before_decoding(tmp_path):
    import struct
    import zlib

    from face_recognition_trt.errors import ImageError
    from face_recognition_trt.frames.images import read_image

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)  # 30000x30000 RGB: 2.7 GB of pixels
    path = tmp_path / "bomb.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)))
    with pytest.raises(ImageError, match="megapixels"):
        read_image(path)


def test_faces_cut_by_the_frame_edge_are_found(pipeline, read):
    """A selfie of 7 people, some cut by the edge: MTCNN alone finds 4; the border pass 6 or more."""
    selfie = read("groups/deepface_selfie_many_people.jpg")
    height, width = selfie.shape[:2]
    found = pipeline.detect(selfie)
    try:
        pipeline.update(border_pad=0.0)
        plain = pipeline.detect(selfie)
    finally:
        pipeline.update(border_pad=0.1)
    assert len(plain) == 4 and len(found) >= 6
    boxes = found.boxes
    outside = (boxes[:, 0] < 0) | (boxes[:, 1] < 0) | (boxes[:, 2] > width) | (boxes[:, 3] > height)
    assert outside.sum() >= 2  # boxes stay in the frame's pixels and reach past its edge
    # no false face on a painting at the border of a portrait (0.86 in the border pass: below its bar)
    assert len(pipeline.detect(read("portraits/joe_biden_2.jpg"))) == 1


@pytest.mark.torch
def test_the_peer_pipeline_embeds_every_face_it_finds(reference, read):
    """`bench --compare facenet-pytorch-pipeline`: facenet-pytorch's MTCNN, then one 512-d
    InceptionResnetV1 embedding per detected face."""
    from face_recognition_trt.tooling.reference import FacenetPytorchPipeline

    peer = FacenetPytorchPipeline()
    frame = read("groups/barack_obama_and_joe_biden_1.jpg")
    embeddings = peer.recognize(frame)
    assert embeddings.shape == (len(peer.detect(frame)[0]), 512) and len(embeddings) == 2
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
