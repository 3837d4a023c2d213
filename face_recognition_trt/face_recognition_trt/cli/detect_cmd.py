"""`detect` and `embed`: boxes, landmarks and embeddings of the faces in images."""

from __future__ import annotations

from .common import each_image, emit, image_errors, make_pipeline


def register(add) -> None:
    d = add("detect", cmd_detect, "detect faces in images")
    d.add_argument("images", nargs="+")
    e = add("embed", cmd_embed, "embeddings of the faces in images")
    e.add_argument("images", nargs="+")


def cmd_detect(args) -> int:
    pipeline = make_pipeline(args)
    failures, on_error = image_errors(args)
    for path, image in each_image(args.images, on_error):
        det = pipeline.detect(image)
        faces = [
            {
                "box": [round(float(v), 1) for v in det.boxes[i]],
                "score": round(float(det.scores[i]), 4),
                "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in det.landmarks[i]],
            }
            for i in range(len(det))
        ]
        obj = {"path": str(path), "width": image.shape[1], "height": image.shape[0], "faces": faces}
        emit(
            obj,
            args.json,
            f"{path}: {len(faces)} face(s)" + "".join(f"\n  box {f['box']} score {f['score']}" for f in faces),
        )
    return 1 if failures else 0


def cmd_embed(args) -> int:
    pipeline = make_pipeline(args)
    failures, on_error = image_errors(args)
    for path, image in each_image(args.images, on_error):
        result = pipeline.process(image)
        # every face; those beyond --max-faces are listed unchecked, without an embedding
        faces = [
            {
                "box": [round(float(v), 1) for v in f.box],
                "score": round(f.score, 4),
                "checked": f.embedding is not None,
                "embedding": None if f.embedding is None else [round(float(v), 6) for v in f.embedding],
            }
            for f in result.faces
        ]
        checked = sum(f["checked"] for f in faces)
        emit(
            {"path": str(path), "embedder": pipeline.embedder.spec.name, "faces": faces},
            args.json,
            f"{path}: {checked} embedding(s) of {pipeline.embedder.spec.dim} values"
            + (f", {len(faces) - checked} face(s) unchecked (over --max-faces)" if checked < len(faces) else ""),
        )
    return 1 if failures else 0
