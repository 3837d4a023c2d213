"""`face-recognition-trt`: everything the ROS nodes do, without ROS.

Exit codes: 0 ok, 1 failure (one clear line on stderr), 2 usage error.
Machine-readable output (--json) is one JSON document per line and kept stable.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

from .errors import FaceRecognitionError
from .models.registry import DEFAULT_EMBEDDER, EMBEDDERS, default_models_dir


def _progress(desc: str, enabled: bool = True):
    """A tqdm progress callback on stderr (silent when stderr is not a terminal and not asked for)."""
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit="img", file=sys.stderr, disable=not enabled, leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()
        if done == total:
            bar.close()

    return update


def _emit(obj, as_json: bool, text: str | None = None) -> None:
    if as_json:
        print(json.dumps(obj), flush=True)
    elif text is not None:
        print(text, flush=True)


def _values(args) -> dict:
    """The command line as flat settings (settings.py): the same route into the engine as ROS parameters."""
    return {name: value for name, value in vars(args).items() if value is not None}


def _pipeline(args, calibration_chips=None):
    from .pipeline import FacePipeline, PipelineConfig

    return FacePipeline(PipelineConfig.from_values(_values(args)), calibration_chips)


def _recognizer(args, track: bool = False):
    """`track`: the frames are one stream (a video, a camera), so faces are tracked across them."""
    from .recognizer import build_recognizer

    return build_recognizer(_values(args), track=track, thumbnails=getattr(args, "thumbnails", False))


def _setting(name: str):
    """An argparse type that parses and validates one setting (a bad value is a usage error, exit 2)."""
    from . import settings

    setting = settings.ALL[name]

    def parse(text: str):
        try:
            return setting.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = type(setting.default).__name__
    return parse


def _faces(text: str) -> int:
    """Faces per synthetic bench frame: 1 to 64."""
    number = _count(text)
    if not 1 <= number <= 64:
        raise argparse.ArgumentTypeError(f"must be 1 to 64, got {number}")
    return number


def _count(text: str) -> int:
    """A non-negative whole number (0: no limit)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (no limit) or more, got {number}")
    return number


def _gallery_only(args, location: str | None = None):
    """Open the gallery (or the one at `location`) without loading any network (list, forget, ...)."""
    from .embed.embedder import load_embedder_spec
    from .gallery.open import open_gallery

    spec = load_embedder_spec(args.embedder)
    location = args.gallery if location is None else location
    return open_gallery(location, spec.name, spec.version, spec.dim, args.gallery_password_file)


# --- models ----------------------------------------------------------------------------------------


def cmd_models_fetch(args) -> int:
    from .models.conversion.fetch import fetch

    log = (lambda msg: print(msg, file=sys.stderr, flush=True)) if args.json else print
    manifest = fetch(args.models_dir, args.embedder_list or [args.embedder], args.force, log)
    _emit({"models_dir": str(args.models_dir), "models": sorted(manifest["models"])}, args.json)
    return 0


def cmd_models_list(args) -> int:
    from .models.installed import read_manifest

    models = read_manifest(args.models_dir)["models"]
    if args.json:
        print(json.dumps({"models_dir": str(args.models_dir), "models": list(models.values())}))
        return 0
    print(f"models in {args.models_dir}:")
    if not models:
        print("  none; run `face-recognition-trt models fetch`")
    for name, entry in sorted(models.items()):
        print(f"  {name:18s} {entry['file']:24s} {entry['source']}")
    return 0


def cmd_models_build_engines(args) -> int:
    from .backends import resolve_backend_kind

    if resolve_backend_kind("tensorrt") != "tensorrt":  # raises with the reason when unavailable
        return 1
    start = time.perf_counter()
    tensorrt = argparse.Namespace(**{**vars(args), "backend": "tensorrt"})
    chips = None
    if args.precision == "int8" and args.calibration_dir is not None:
        from .tooling.calibration import embedder_calibration_chips

        detector = _pipeline(argparse.Namespace(**{**vars(tensorrt), "precision": "fp16"})).detector
        chips = embedder_calibration_chips(detector, args.calibration_dir, args.embedder)
    pipeline = _pipeline(tensorrt, chips)
    _emit(
        {
            "engine_cache": str(args.engine_cache),
            "backend": pipeline.backend_name,
            "seconds": round(time.perf_counter() - start, 1),
        },
        args.json,
        f"engines ready ({pipeline.backend_name}) in {time.perf_counter() - start:.0f} s",
    )
    return 0


# --- detect / embed --------------------------------------------------------------------------------


def _each_image(paths, on_error):
    from .frames.images import iter_image_paths, read_image

    for path in iter_image_paths(paths):
        try:
            yield path, read_image(path)
        except FaceRecognitionError as exc:
            on_error(path, exc)


def _image_error(args):
    failures = []

    def on_error(path, exc):
        failures.append(path)
        print(f"error: {exc}", file=sys.stderr)

    return failures, on_error


def cmd_detect(args) -> int:
    pipeline = _pipeline(args)
    failures, on_error = _image_error(args)
    for path, image in _each_image(args.images, on_error):
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
        _emit(
            obj,
            args.json,
            f"{path}: {len(faces)} face(s)" + "".join(f"\n  box {f['box']} score {f['score']}" for f in faces),
        )
    return 1 if failures else 0


def cmd_embed(args) -> int:
    pipeline = _pipeline(args)
    failures, on_error = _image_error(args)
    for path, image in _each_image(args.images, on_error):
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
        _emit(
            {"path": str(path), "embedder": pipeline.embedder.spec.name, "faces": faces},
            args.json,
            f"{path}: {checked} embedding(s) of {pipeline.embedder.spec.dim} values"
            + (f", {len(faces) - checked} face(s) unchecked (over --max-faces)" if checked < len(faces) else ""),
        )
    return 1 if failures else 0


# --- bench -----------------------------------------------------------------------------------------


def cmd_bench(args) -> int:
    from .errors import FaceRecognitionError as Err
    from .tooling.bench import default_bench_inputs, load_frames, run_bench, run_bench_tracked

    width, height = _resolution(args.resolution)
    if args.plot and importlib.util.find_spec("matplotlib") is None:  # refused before any work
        raise Err("--plot needs matplotlib: pip install 'face_recognition_trt[eval]'")
    inputs = args.inputs or [str(p) for p in default_bench_inputs()]
    if not inputs:
        raise Err("no input images: pass image files, folders or a video")
    frames = load_frames(inputs, width, height, args.frames)
    if not frames:
        raise Err("no frames could be read from the inputs")
    compare = None
    if args.compare == "facenet-pytorch":
        from .tooling.reference import FacenetPytorchMTCNN

        compare = FacenetPytorchMTCNN(min_face=args.min_face, threads=args.threads).detect
    elif args.compare == "facenet-pytorch-pipeline":
        from .tooling.reference import FacenetPytorchPipeline

        compare = FacenetPytorchPipeline(min_face=args.min_face, threads=args.threads).recognize
    pipeline = _pipeline(args)
    progress = _progress("bench", not args.json and sys.stderr.isatty())
    if args.track:
        report = run_bench_tracked(pipeline, frames, args.repeat, progress)
        report["command"] = "face-recognition-trt " + " ".join(sys.argv[1:])
        _emit(
            report,
            args.json,
            f"{report['frames']} frames {report['resolution']} as one tracked stream, {report['faces_per_frame']} "
            f"faces/frame: median {report['ms_per_frame']} ms, mean {report['mean_ms_per_frame']} ms "
            f"({report['fps']} fps); per frame on average: "
            + ", ".join(f"{k} {v} ms" for k, v in report["stages_mean"].items()),
        )
        return 0
    if args.faces:
        return _bench_faces(args, pipeline, inputs, width, height, progress)
    whole_frame = args.compare == "facenet-pytorch-pipeline"
    report = run_bench(
        pipeline, frames, args.repeat, compare=compare, progress=progress, compare_whole_frame=whole_frame
    )
    report["command"] = "face-recognition-trt " + " ".join(sys.argv[1:])
    if args.json:
        print(json.dumps(report))
        return 0
    print(
        f"{report['frames']} frames {report['resolution']}, backend {report['backend']}, "
        f"embedder {report['embedder']}, {report['faces_per_frame']} faces/frame"
    )
    print(f"  per frame: median {report['ms_per_frame']} ms, p90 {report['p90_ms_per_frame']} ms, {report['fps']} fps")
    for name, ms in report["stages"].items():
        print(f"  {name:6s} median {ms:8.2f} ms  p90 {report['stages_p90'][name]:8.2f} ms")
    print(f"  detection median {report['detect_ms']['median']} ms; peak RSS {report['peak_rss_mb']} MB")
    if compare:
        ref = report["compare"]["facenet-pytorch"]
        print(f"  facenet-pytorch ({ref['what']}) median {ref['ms_per_frame']} ms -> speedup {report['speedup']}x")
    return 0


def _bench_faces(args, pipeline, inputs, width, height, progress) -> int:
    """`bench --faces 1 3 8`: frames with exactly N people each, made from single-face photos;
    one report per N (a table, JSON lines with --json), and with --plot the stages against N."""
    from .frames.images import iter_image_paths, read_image
    from .tooling.bench import frames_with_faces, plot_stages, run_bench

    portraits = [read_image(p) for p in iter_image_paths(inputs)]
    portraits = [p for p in portraits if len(pipeline.detect(fit_portrait(p))) == 1]
    if not portraits:
        raise FaceRecognitionError("--faces needs photos of one face each (e.g. ../shared/data/samples/portraits)")
    reports = []
    for n in args.faces:
        frames = frames_with_faces(portraits, n, width, height, args.frames)
        report = run_bench(pipeline, frames, args.repeat, progress=progress)
        report["faces_asked"] = n
        reports.append(report)
        _emit(report, args.json)
    if not args.json:
        stages = list(reports[0]["stages"])
        print("| faces per frame | " + " | ".join(stages) + " | whole frame ms | fps |")
        print("|---" * (len(stages) + 3) + "|")
        for r in reports:
            cells = " | ".join(f"{r['stages'].get(s, 0.0):.1f}" for s in stages)
            print(f"| {r['faces_per_frame']} | {cells} | {r['ms_per_frame']:.1f} | {r['fps']} |")
    if args.plot:
        plot_stages(reports, args.plot)
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0


def fit_portrait(image: np.ndarray) -> np.ndarray:
    """A portrait at most 640 px wide: enough to check that it holds exactly one face."""
    import cv2

    scale = min(1.0, 640 / image.shape[1])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image


def _resolution(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        if w < 12 or h < 12:
            raise ValueError
        return w, h
    except ValueError:
        raise SystemExit(f"face-recognition-trt: error: invalid resolution '{text}' (expected WxH)") from None


# --- identities ------------------------------------------------------------------------------------


def cmd_enroll(args) -> int:
    from .frames.images import read_image

    rec = _recognizer(args)
    samples = []
    for path in args.images:
        try:
            samples.append(rec.sample_from_frame(read_image(path), args.largest, source=Path(path).name))
        except FaceRecognitionError as exc:
            raise FaceRecognitionError(f"{path}: {exc}; nothing was enrolled") from exc
    total = rec.enroll(args.name, samples, args.add)
    identity = rec.gallery.display_name(args.name)
    _emit({"identity": identity, "samples_total": total}, args.json, f"enrolled {identity}: {total} sample(s)")
    return 0


def cmd_identities(args) -> int:
    from .gallery.transfer import export_gallery

    action = args.action
    if action == "import":
        return _identities_import(args)
    with _gallery_only(args) as gallery:
        if action == "list":
            items = gallery.list()
            if args.json:
                print(json.dumps([{"name": i.name, "samples": i.samples} for i in items]))
            else:
                print("\n".join(f"{i.name}\t{i.samples}" for i in items) or "no identities enrolled")
        elif action == "forget":
            removed = gallery.forget(args.name)
            pending = gallery.erase_pending
            _emit(
                {"forgotten": args.name, "samples_removed": removed, "erase_pending": pending},
                args.json,
                f"forgot {args.name} ({removed} samples removed)" + (f"; {gallery.erase_advice}" if pending else ""),
            )
        elif action == "scrub":
            done = gallery.scrub()
            _emit({"erased": done}, args.json, "erased" if done else gallery.erase_advice)
            return 0 if done else 1
        elif action == "rename":
            gallery.rename(args.old, args.new)
            _emit({"renamed": args.old, "to": args.new}, args.json, f"renamed {args.old} -> {args.new}")
        elif action == "export":
            count = export_gallery(gallery, Path(args.file))
            _emit({"exported": count, "file": args.file}, args.json, f"exported {count} identities to {args.file}")
    return 0


def cmd_identities_migrate(args) -> int:
    """Copy every identity of SOURCE into DESTINATION (SQLite file or postgresql:// URL, either way)
    in one transaction, then read the copy back and compare counts and a checksum of names and
    embeddings."""
    from tqdm import tqdm

    from .gallery.base import checksum
    from .names import validate_name

    with _gallery_only(args, args.source) as source, _gallery_only(args, args.destination) as destination:
        identities = source.identities_with_samples()
        samples = sum(len(s) for _, s in identities)
        with tqdm(
            total=samples, desc=f"copying to {destination.location}", unit="samples", file=sys.stderr,
            disable=args.no_progress,
        ) as bar:  # fmt: skip
            destination.enroll_many(identities, progress=bar.update)
        keys = {validate_name(name)[1] for name, _ in identities}
        copied = [(n, s) for n, s in destination.identities_with_samples() if validate_name(n)[1] in keys]
        expected, found = checksum(identities), checksum(copied)
        counts = (len(copied), sum(len(s) for _, s in copied))
        if counts != (len(identities), samples) or found != expected:
            raise FaceRecognitionError(
                f"the copy in {destination.location} does not match {source.location}: {counts[0]} identities and "
                f"{counts[1]} samples (expected {len(identities)} and {samples}), checksum {found[:12]} "
                f"(expected {expected[:12]})"
            )
    _emit(
        {"identities": len(identities), "samples": samples, "checksum": expected, "verified": True},
        args.json,
        f"copied {len(identities)} identities ({samples} samples) to {destination.location}; "
        f"verified: counts and checksum {expected[:12]} match",
    )
    return 0


def _identities_import(args) -> int:
    """A gallery export (JSON) or a folder of photos: DIR/name/*.jpg or DIR/name.jpg."""
    from .gallery.transfer import import_gallery

    source = Path(args.source)
    if source.is_file():
        with _gallery_only(args) as gallery:
            imported = import_gallery(gallery, source, merge=args.merge)
        _emit(
            [{"name": i.name, "samples": i.samples} for i in imported],
            args.json,
            f"imported {len(imported)} identities",
        )
        return 0
    if not source.is_dir():
        raise FaceRecognitionError(f"{source}: no such file or folder")
    from .frames.images import IMAGE_SUFFIXES, read_image

    people: dict[str, list[Path]] = {}
    for entry in sorted(source.iterdir()):
        if entry.name.startswith("."):
            continue  # hidden folders and files (.git, .thumbnails, ._name from macOS) are nobody
        if entry.is_dir():
            photos = [p for p in sorted(entry.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
            if photos:
                people[entry.name] = photos
        elif entry.suffix.lower() in IMAGE_SUFFIXES:
            people.setdefault(entry.stem, []).append(entry)
    rec = _recognizer(args)
    results, failed = [], 0
    for name, photos in people.items():
        samples = []
        for photo in photos:
            try:
                samples.append(rec.sample_from_frame(read_image(photo), args.largest, source=photo.name))
            except FaceRecognitionError as exc:
                print(f"skipped {photo}: {exc}", file=sys.stderr)
        if not samples:
            failed += 1
            continue
        try:
            total = rec.enroll(name, samples, args.merge)
            results.append({"name": name, "samples": total})
        except FaceRecognitionError as exc:
            failed += 1
            print(f"skipped {name}: {exc}", file=sys.stderr)
    _emit(results, args.json, f"imported {len(results)} identities" + (f", {failed} failed" if failed else ""))
    return 1 if failed and not results else 0


# --- recognize -------------------------------------------------------------------------------------


def cmd_recognize(args) -> int:
    import cv2

    from .frames.draw import annotate
    from .frames.images import VIDEO_SUFFIXES, iter_image_paths, read_image

    out = Path(args.output) if args.output else None

    def report(path: str, faces) -> None:
        _emit(
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
        photos = photos or _recognizer(args)
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

    from .frames.camera import CameraConfig, FrameSource
    from .frames.draw import annotate

    rec = _recognizer(args, track=not args.no_track)  # one stream: faces keep a track id
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

    from .frames.images import VIDEO_SUFFIXES

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


# --- cohort ----------------------------------------------------------------------------------------


def cmd_cohort_build(args) -> int:
    from .embed.embedder import load_embedder_spec
    from .errors import CohortError
    from .frames.images import iter_image_paths, read_image
    from .match.cohort import build_cohort, default_cohort_path, load_cohort, save_cohort

    spec = load_embedder_spec(args.embedder)
    target = args.output or default_cohort_path(args.models_dir or default_models_dir(), spec.name)
    if args.if_missing and target.exists():
        try:
            load_cohort(target, spec)
            _emit({"path": str(target), "embedder": spec.name, "built": False}, args.json, f"cohort exists: {target}")
            return 0
        except CohortError as exc:
            print(f"rebuilding: {exc}", file=sys.stderr)
    pipeline = _pipeline(args)
    paths = list(iter_image_paths(args.paths, recursive=True))
    if not paths:
        raise FaceRecognitionError(f"no images in {', '.join(args.paths)}")

    def largest_face(path: Path) -> np.ndarray | None:
        try:
            faces = [f for f in pipeline.process(read_image(path)).faces if f.embedding is not None]
        except FaceRecognitionError as exc:
            print(f"warning: {exc}", file=sys.stderr)
            return None
        return max(faces, key=lambda f: f.size).embedding if faces else None

    embeddings, failed = build_cohort(largest_face, paths, _progress("cohort", not args.no_progress))
    save_cohort(target, spec, embeddings)
    _emit(
        {"path": str(target), "embedder": spec.name, "built": True, "faces": len(embeddings), "no_face": failed},
        args.json,
        f"cohort of {len(embeddings)} faces for {spec.name} written to {target} ({failed} photos without a face)",
    )
    return 0


# --- eval-lfw --------------------------------------------------------------------------------------


def cmd_eval_lfw(args) -> int:
    from .frames.images import read_image
    from .tooling import lfw

    pairs = lfw.read_pairs(Path(args.pairs), Path(args.images))
    pipeline = _pipeline(args)

    def embed(path: Path) -> np.ndarray | None:
        try:
            image = read_image(path)
        except FaceRecognitionError as exc:
            print(f"warning: {exc}", file=sys.stderr)
            return None
        result = pipeline.process(image)
        faces = [f for f in result.faces if f.embedding is not None]
        if not faces:
            return None
        # LFW images are centred on the person of the label: take the face nearest the centre.
        h, w = image.shape[:2]
        centre = np.array([w / 2, h / 2])
        best = min(faces, key=lambda f: np.hypot(*((f.box[:2] + f.box[2:]) / 2 - centre)))
        return best.embedding

    start = time.perf_counter()
    sims, failed = lfw.embed_pairs(pairs, embed, _progress("eval-lfw", not args.no_progress))
    same = np.array([p.same for p in pairs])
    folds = np.array([p.fold for p in pairs])
    result = lfw.evaluate(sims, same, folds, failed)
    seconds = time.perf_counter() - start
    obj = {
        "accuracy": round(result.accuracy, 4),
        "threshold": round(result.threshold, 4),
        "pairs": result.pairs,
        "failed_detections": result.failed_detections,
        "folds": len(result.fold_accuracies),
        "fold_accuracies": [round(a, 4) for a in result.fold_accuracies],
        "fold_thresholds": [round(t, 4) for t in result.fold_thresholds],
        "embedder": pipeline.embedder.spec.name,
        "seconds": round(seconds, 1),
    }
    _emit(
        obj,
        args.json,
        f"LFW accuracy {result.accuracy:.2%} over {result.pairs} pairs "
        f"({len(result.fold_accuracies)} folds), threshold {result.threshold:.4f}, "
        f"{failed} failed detections, {seconds:.0f} s",
    )
    return 0


# --- parser ----------------------------------------------------------------------------------------


def add_global_options(p: argparse.ArgumentParser, gallery: Path | None, embedder: bool = True) -> None:
    from . import settings

    suppress = p.argument_default == argparse.SUPPRESS

    def default(value):
        return argparse.SUPPRESS if suppress else value

    p.add_argument("--models-dir", type=Path, default=default(default_models_dir()), help="where fetched models live")
    p.add_argument("--backend", default=default(settings.default("backend")), choices=settings.ALL["backend"].choices)
    if embedder:
        p.add_argument(
            "--embedder",
            default=default(DEFAULT_EMBEDDER),
            help=f"built-in ({', '.join(EMBEDDERS)}) or an embedder spec YAML",
        )
    p.add_argument(
        "--gallery",
        default=default(None if gallery is None else str(gallery)),
        help="gallery file (SQLite), or postgresql://user@host/db (no password in it: see --gallery-password-file)",
    )
    p.add_argument(
        "--gallery-password-file",
        default=default(None),
        help="postgresql:// gallery: a file holding the password",
    )
    p.add_argument(
        "--threads", type=_setting("threads"), default=default(0), help="ONNX Runtime threads (0: one per core)"
    )
    p.add_argument(
        "--precision",
        default=default(settings.default("precision")),
        choices=settings.ALL["precision"].choices,
        help="TensorRT precision",
    )
    p.add_argument("--engine-cache", type=Path, default=default(None), help="TensorRT engine cache directory")
    p.add_argument(
        "--calibration-dir",
        type=Path,
        default=default(None),
        help="TensorRT INT8: folder of face photos to calibrate the embedder with",
    )
    for name in ("min_face", "score_threshold", "max_faces", "border_pad"):
        setting = settings.ALL[name]
        p.add_argument(setting.flag, type=_setting(name), default=default(setting.default), help=setting.description)
    p.add_argument("-v", "--verbose", action="store_true", default=default(False))


def build_parser() -> argparse.ArgumentParser:
    from .gallery.open import default_gallery_path

    p = argparse.ArgumentParser(prog="face-recognition-trt", description=__doc__.splitlines()[0])
    add_global_options(p, default_gallery_path())
    # The same options after the command (`bench --backend tensorrt`): given there, they win.
    after = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    add_global_options(after, None)
    after_models = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    add_global_options(after_models, None, embedder=False)  # `models fetch --embedder` means something else
    sub = p.add_subparsers(dest="command", required=True)

    def add(name, func, help_text):
        sp = sub.add_parser(name, help=help_text, parents=[after])
        sp.add_argument("--json", action="store_true", help="machine-readable output")
        sp.set_defaults(func=func)
        return sp

    models = sub.add_parser("models", help="fetch, list or build models")
    msub = models.add_subparsers(dest="models_command", required=True)
    f = msub.add_parser("fetch", help="download pinned weights, verify, convert to ONNX", parents=[after_models])
    f.add_argument(
        "--embedder",
        dest="embedder_list",
        action="append",
        choices=list(EMBEDDERS),
        help="embedder(s) to fetch (default: the default embedder)",
    )
    f.add_argument("--force", action="store_true", help="fetch and convert again")
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=cmd_models_fetch)
    ml = msub.add_parser("list", help="models in the models directory", parents=[after_models])
    ml.add_argument("--json", action="store_true")
    ml.set_defaults(func=cmd_models_list)
    mb = msub.add_parser(
        "build-engines", help="build TensorRT engines ahead of time (Jetson after install)", parents=[after]
    )
    mb.add_argument("--json", action="store_true")
    mb.set_defaults(func=cmd_models_build_engines)

    d = add("detect", cmd_detect, "detect faces in images")
    d.add_argument("images", nargs="+")
    e = add("embed", cmd_embed, "embeddings of the faces in images")
    e.add_argument("images", nargs="+")

    b = add("bench", cmd_bench, "time the pipeline (per stage, fps, peak RSS)")
    b.add_argument("inputs", nargs="*", help="images, folders or a video (default: shared sample photos)")
    b.add_argument("--resolution", default="640x480")
    b.add_argument("--frames", type=int, default=100, help="at most this many distinct frames")
    b.add_argument("--repeat", type=int, default=1, help="passes over the frames")
    b.add_argument(
        "--compare",
        choices=["facenet-pytorch", "facenet-pytorch-pipeline"],
        help="also time facenet-pytorch's MTCNN (detection), or with an InceptionResnetV1 per face (the peer pipeline)",
    )
    b.add_argument("--track", action="store_true", help="the frames as one stream, tracked (give a video)")
    b.add_argument(
        "--faces", type=_faces, nargs="+", help="frames with exactly N faces each, made from single-face photos"
    )
    b.add_argument("--plot", type=Path, help="with --faces: per-stage latency against faces per frame (PNG)")

    en = add("enroll", cmd_enroll, "enroll a person from photos")
    en.add_argument("name")
    en.add_argument("images", nargs="+")
    en.add_argument("--add", action="store_true", help="add samples to an existing identity")
    en.add_argument("--largest", action="store_true", help="in a group photo, enroll the largest face")
    en.add_argument("--thumbnails", action="store_true", help="keep a 64x64 thumbnail of each sample")
    en.add_argument("--min-enroll-face", type=_setting("min_enroll_face"), help="smallest face to enroll, pixels")

    ident = sub.add_parser("identities", help="list, forget, rename, import, export identities")
    isub = ident.add_subparsers(dest="action", required=True)

    def add_action(name, help_text, *positionals):
        sp = isub.add_parser(name, help=help_text, parents=[after])
        for positional in positionals:
            sp.add_argument(positional)
        sp.add_argument("--json", action="store_true", help="machine-readable output")
        sp.set_defaults(func=cmd_identities)
        return sp

    add_action("list", "enrolled identities and their sample counts")
    add_action("forget", "remove an identity and all its data", "name")
    add_action("rename", "rename an identity", "old", "new")
    add_action("scrub", "erase the copies of forgotten data that a reader kept (see forget)")
    add_action("export", "write the gallery to a JSON file (to move it to another robot)", "file")
    imp = add_action(
        "import", "add identities from a gallery export (FILE) or photos (DIR/name/*.jpg, DIR/name.jpg)", "source"
    )
    mig = add_action(
        "migrate",
        "copy a gallery to another store (SQLite file <-> postgresql:// URL), verified",
        "source",
        "destination",
    )
    mig.add_argument("--no-progress", action="store_true")
    mig.set_defaults(func=cmd_identities_migrate)
    imp.add_argument("--merge", action="store_true", help="add samples to identities that exist")
    imp.add_argument("--largest", action="store_true", help="photos: take the largest face of group photos")
    imp.add_argument("--thumbnails", action="store_true", help="photos: keep a 64x64 thumbnail of each sample")
    imp.add_argument("--min-enroll-face", type=_setting("min_enroll_face"), help="smallest face to enroll, pixels")

    r = add("recognize", cmd_recognize, "name the faces in images, folders, videos or a camera")
    r.add_argument("paths", nargs="*", metavar="PATH", help="images, folders of images, videos")
    r.add_argument("--camera", type=int, help="camera device index")
    r.add_argument("--output", help="annotated image, folder or video to write")
    r.add_argument("--threshold", type=_setting("threshold"), help="similarity threshold (default: the embedder's)")
    r.add_argument(
        "--norm-threshold",
        type=_setting("norm_threshold"),
        help="with a cohort: normalised score to accept (default: the embedder's)",
    )
    r.add_argument(
        "--cohort",
        type=_setting("cohort"),
        help="cohort file, or off (default: the embedder's cohort beside the models, if built)",
    )
    r.add_argument("--margin", type=_setting("margin"), help="the best identity must beat the second by this much")
    r.add_argument("--max-frames", type=_count, default=0, help="stop a video or camera after N frames")
    r.add_argument("--no-track", action="store_true", help="video/camera: do not track faces across frames")

    cohort = sub.add_parser("cohort", help="the impostor cohort that normalises match scores")
    csub = cohort.add_subparsers(dest="cohort_command", required=True)
    cb = csub.add_parser(
        "build", help="embed photos of people who will not be enrolled (one face per photo)", parents=[after]
    )
    cb.add_argument("paths", nargs="+", metavar="PATH", help="photos, or folders of photos (sub-folders too)")
    cb.add_argument("--output", type=Path, help="cohort file (default: beside the models, one per embedder)")
    cb.add_argument("--if-missing", action="store_true", help="do nothing when the cohort file exists")
    cb.add_argument("--no-progress", action="store_true")
    cb.add_argument("--json", action="store_true", help="machine-readable output")
    cb.set_defaults(func=cmd_cohort_build)

    lf = add("eval-lfw", cmd_eval_lfw, "LFW verification accuracy of the full pipeline")
    lf.add_argument("--pairs", required=True)
    lf.add_argument("--images", required=True)
    lf.add_argument("--no-progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.command == "recognize" and not args.paths and args.camera is None:
        parser.error("recognize needs PATH or --camera N")
    try:
        return args.func(args)
    except FaceRecognitionError as exc:
        print(f"face-recognition-trt: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
