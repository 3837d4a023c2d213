"""`bench`: per-stage latency, fps and peak memory, optionally against facenet-pytorch."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

from ..errors import FaceRecognitionError
from .common import emit, make_pipeline, progress_bar
from .options import faces_per_frame


def register(add) -> None:
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
        "--faces", type=faces_per_frame, nargs="+", help="frames with exactly N faces each, from single-face photos"
    )
    b.add_argument("--plot", type=Path, help="with --faces: per-stage latency against faces per frame (PNG)")


def cmd_bench(args) -> int:
    from ..errors import FaceRecognitionError as Err
    from ..tooling.bench import default_bench_inputs, load_frames, run_bench, run_bench_tracked

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
        from ..tooling.reference import FacenetPytorchMTCNN

        compare = FacenetPytorchMTCNN(min_face=args.min_face, threads=args.threads).detect
    elif args.compare == "facenet-pytorch-pipeline":
        from ..tooling.reference import FacenetPytorchPipeline

        compare = FacenetPytorchPipeline(min_face=args.min_face, threads=args.threads).recognize
    pipeline = make_pipeline(args)
    progress = progress_bar("bench", not args.json and sys.stderr.isatty())
    if args.track:
        report = run_bench_tracked(pipeline, frames, args.repeat, progress)
        report["command"] = "face-recognition-trt " + " ".join(sys.argv[1:])
        emit(
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
    from ..frames.images import iter_image_paths, read_image
    from ..tooling.bench import frames_with_faces, plot_stages, run_bench

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
        emit(report, args.json)
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
