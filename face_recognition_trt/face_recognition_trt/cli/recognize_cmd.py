"""`recognize`: name the faces in images, folders, videos or a camera (tracked on a stream)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import FaceRecognitionError
from .common import emit, make_recognizer
from .options import count, setting_type


def register(add) -> None:
    r = add("recognize", cmd_recognize, "name the faces in images, folders, videos or a camera")
    r.add_argument("paths", nargs="*", metavar="PATH", help="images, folders of images, videos")
    r.add_argument("--camera", type=int, help="camera device index")
    r.add_argument("--output", help="annotated image, folder or video to write")
    r.add_argument("--threshold", type=setting_type("threshold"), help="similarity threshold (default: the embedder's)")
    r.add_argument(
        "--norm-threshold",
        type=setting_type("norm_threshold"),
        help="with a cohort: normalised score to accept (default: the embedder's)",
    )
    r.add_argument(
        "--cohort",
        type=setting_type("cohort"),
        help="cohort file, or off (default: the embedder's cohort beside the models, if built)",
    )
    r.add_argument("--margin", type=setting_type("margin"), help="the best identity must beat the second by this much")
    r.add_argument("--max-frames", type=count, default=0, help="stop a video or camera after N frames")
    r.add_argument("--no-track", action="store_true", help="video/camera: do not track faces across frames")


def cmd_recognize(args) -> int:
    import cv2

    from ..frames.draw import annotate
    from ..frames.images import VIDEO_SUFFIXES, iter_image_paths, read_image

    out = Path(args.output) if args.output else None

    def report(path: str, faces) -> None:
        emit(
            {"path": path, "faces": [f.to_json() for f in faces]},
            args.json,
            f"{path}: " + (", ".join(f"{f.identity} ({f.similarity:.2f})" for f in faces) or "no faces"),
        )

    # Inputs: the camera, or every path given (folders expanded to their images, videos kept whole).
    if args.camera is not None:
        inputs: list = [args.camera]
    else:
        inputs = [
            p
            for given in args.paths
            for p in ([Path(given)] if Path(given).suffix.lower() in VIDEO_SUFFIXES else iter_image_paths([given]))
        ]
        if not inputs:
            raise FaceRecognitionError(f"no images or videos in {', '.join(args.paths)}")
    several = len(inputs) > 1 or any(Path(p).is_dir() for p in args.paths)
    if out:
        single_video = not several and (args.camera is not None or inputs[0].suffix.lower() in VIDEO_SUFFIXES)
        _check_output(out, video=single_video, folder=several)
        if several:
            out.mkdir(parents=True, exist_ok=True)
    photos = None  # one recognizer for all the photos: separate photos, nothing to track
    failures = 0
    from tqdm import tqdm

    progress = tqdm(
        inputs, unit="input", file=sys.stderr, leave=False, disable=len(inputs) < 10 or not sys.stderr.isatty()
    )
    for source in progress:
        if args.camera is not None or source.suffix.lower() in VIDEO_SUFFIXES:
            target = out / f"{Path(source).stem}.mp4" if out and several else out
            failures += _recognize_stream(args, source, target, report)
            continue
        photos = photos or make_recognizer(args)
        try:
            image = read_image(source)
        except FaceRecognitionError as exc:
            failures += 1
            print(f"error: {exc}", file=sys.stderr)
            continue
        faces, _ = photos.recognize(image)
        report(str(source), faces)
        if out:
            target = out / source.name if several else out
            if not cv2.imwrite(str(target), annotate(image, faces)):
                failures += 1
                print(f"error: could not write {target}", file=sys.stderr)
    return 1 if failures else 0


def _recognize_stream(args, source, out: Path | None, report) -> int:
    """A video file or a camera, frame by frame, faces tracked across frames; 1 when frames were lost."""
    import cv2

    from ..frames.camera import CameraConfig, FrameSource
    from ..frames.draw import annotate

    rec = make_recognizer(args, track=not args.no_track)  # one stream: faces keep a track id
    frames = FrameSource(CameraConfig(source=str(source)))
    name = "camera" if args.camera is not None else str(source)
    expected = frames.frame_count()
    writer = None
    n = -1
    try:
        for n, frame in enumerate(frames):
            faces, _ = rec.recognize(frame)
            report(f"{name}#{n}", faces)
            if out:
                if writer is None:
                    size = (frame.shape[1], frame.shape[0])
                    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 15, size)
                writer.write(annotate(frame, faces))
            if args.max_frames and n + 1 >= args.max_frames:
                break
    finally:
        frames.close()
        if writer is not None:
            writer.release()
    if expected and not args.max_frames and n + 1 < expected:
        print(f"error: {name}: decoded {n + 1} of {expected} frames (a damaged video?)", file=sys.stderr)
        return 1
    return 0


def _check_output(out: Path, video: bool, folder: bool) -> None:
    """Refuse an --output that cannot be written before any work is done, not after it."""
    import cv2

    from ..frames.images import VIDEO_SUFFIXES

    parent = out if folder else out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent  # a folder to be created: its nearest existing ancestor must be writable
    if not os.access(parent, os.W_OK):
        raise FaceRecognitionError(f"--output {out}: {parent} is not writable")
    if folder or out.is_dir():
        return
    if not out.parent.exists():
        raise FaceRecognitionError(f"--output {out}: no folder {out.parent}")
    if video and out.suffix.lower() not in VIDEO_SUFFIXES:
        raise FaceRecognitionError(f"--output {out}: a video needs one of {', '.join(sorted(VIDEO_SUFFIXES))}")
    if not video and not cv2.haveImageWriter(str(out)):
        raise FaceRecognitionError(f"--output {out}: OpenCV cannot write images of type '{out.suffix}'")
