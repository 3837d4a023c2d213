"""`bench`: time the pipeline on real frames; optionally facenet-pytorch's MTCNN on the same frames."""

from __future__ import annotations

import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ..frames.images import VIDEO_SUFFIXES, iter_image_paths, read_image
from ..pipeline import FacePipeline


def fit_frame(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale a photo to cover width x height and crop the centre: a camera-like frame."""
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    resized = cv2.resize(
        image,
        (max(width, round(w * scale)), max(height, round(h * scale))),
        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
    )
    y0 = (resized.shape[0] - height) // 2
    x0 = (resized.shape[1] - width) // 2
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])


def load_frames(inputs: list[str], width: int, height: int, limit: int) -> list[np.ndarray]:
    frames: list[np.ndarray] = []
    for path in iter_image_paths(inputs):
        if path.suffix.lower() in VIDEO_SUFFIXES:
            cap = cv2.VideoCapture(str(path))
            while len(frames) < limit:
                ok, frame = cap.read()
                if not ok:
                    break
                frames.append(fit_frame(frame, width, height))
            cap.release()
        else:
            frames.append(fit_frame(read_image(path), width, height))
        if len(frames) >= limit:
            break
    return frames


def frames_with_faces(portraits: list[np.ndarray], faces: int, width: int, height: int, count: int) -> list[np.ndarray]:
    """`count` frames holding `faces` portraits each, side by side in a grid (a frame with exactly
    that many people, made from single-face photos); each frame starts at another portrait."""
    cols = int(np.ceil(np.sqrt(faces * width / height)))
    rows = int(np.ceil(faces / cols))
    cell_w, cell_h = width // cols, height // rows
    frames = []
    for k in range(count):
        frame = np.zeros((height, width, 3), np.uint8)
        for i in range(faces):
            photo = portraits[(k + i) % len(portraits)]
            scale = min(cell_w / photo.shape[1], cell_h / photo.shape[0])  # the whole photo, letterboxed
            photo = cv2.resize(
                photo, (int(photo.shape[1] * scale), int(photo.shape[0] * scale)), interpolation=cv2.INTER_AREA
            )
            r, c = divmod(i, cols)
            y0 = r * cell_h + (cell_h - photo.shape[0]) // 2
            x0 = c * cell_w + (cell_w - photo.shape[1]) // 2
            frame[y0 : y0 + photo.shape[0], x0 : x0 + photo.shape[1]] = photo
        frames.append(frame)
    return frames


def plot_stages(reports: list[dict], path: Path) -> None:
    """Per-stage median latency against faces per frame, one line per stage (needs matplotlib,
    the `eval` extra)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    faces = [r["faces_per_frame"] for r in reports]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for stage in reports[0]["stages"]:
        ax.plot(faces, [r["stages"].get(stage, 0.0) for r in reports], marker="o", label=stage)
    ax.plot(faces, [r["ms_per_frame"] for r in reports], marker="s", color="black", label="whole frame")
    ax.set_xlabel("faces per frame")
    ax.set_ylabel("median ms")
    ax.set_title(f"{reports[0]['resolution']}, {reports[0]['backend']}, {reports[0]['embedder']}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def _stats(values: list[float]) -> dict[str, float]:
    ms = np.asarray(values) * 1000
    return {"median": round(float(np.median(ms)), 2), "p90": round(float(np.percentile(ms, 90)), 2)}


def run_bench(
    pipeline: FacePipeline,
    frames: list[np.ndarray],
    repeat: int = 1,
    warmup: int = 3,
    compare: Callable[[np.ndarray], object] | None = None,
    progress: Callable[[int, int], None] | None = None,
    compare_whole_frame: bool = False,
) -> dict:
    """`compare`: a reference run on every frame; `compare_whole_frame`: it recognises (detects and
    embeds), so it is set against our whole frame, not our detection alone."""
    for frame in frames[:warmup]:
        pipeline.process(frame)
        if compare:
            compare(frame)
    stages: dict[str, list[float]] = {}
    detect_times, faces, ref_times = [], [], []
    total = len(frames) * repeat
    done = 0
    for _ in range(repeat):
        for frame in frames:
            result = pipeline.process(frame)
            for name, seconds in result.timings.items():
                stages.setdefault(name, []).append(seconds)
            detect_times.append(result.timings["pnet"] + result.timings["rnet"] + result.timings["onet"])
            faces.append(len(result.faces))
            if compare:
                t0 = time.perf_counter()
                compare(frame)
                ref_times.append(time.perf_counter() - t0)
            done += 1
            if progress:
                progress(done, total)
    totals = stages.pop("total")
    ms_per_frame = float(np.median(totals) * 1000)
    report = {
        "frames": total,
        "resolution": f"{frames[0].shape[1]}x{frames[0].shape[0]}",
        "backend": pipeline.backend_name,
        "embedder": pipeline.embedder.spec.name,
        "ms_per_frame": round(ms_per_frame, 2),
        "p90_ms_per_frame": round(float(np.percentile(totals, 90) * 1000), 2),
        "fps": round(1000.0 / ms_per_frame, 2),
        "detect_ms": _stats(detect_times),
        "stages": {name: _stats(v)["median"] for name, v in stages.items()},
        "stages_p90": {name: _stats(v)["p90"] for name, v in stages.items()},
        "faces_per_frame": round(float(np.mean(faces)), 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "machine": f"{platform.machine()} {platform.processor() or ''} {_cpu_count()} CPUs".strip(),
    }
    if compare:
        ref = _stats(ref_times)
        report["compare"] = {
            "facenet-pytorch": {
                "ms_per_frame": ref["median"],
                "p90": ref["p90"],
                "what": "MTCNN + InceptionResnetV1 per face, torch CPU"
                if compare_whole_frame
                else "MTCNN detection only, torch CPU",
            }
        }
        ours = report["ms_per_frame"] if compare_whole_frame else report["detect_ms"]["median"]
        report["speedup"] = round(ref["median"] / ours, 2)
    return report


def run_bench_tracked(
    pipeline: FacePipeline,
    frames: list[np.ndarray],
    repeat: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """The frames as one stream with tracking (`Recognizer.recognize_tracked`): full detections
    every few frames, O-Net alone between them, embeddings only when needed. Stages are reported
    as mean milliseconds per frame, because most of them do not run on every frame."""
    import tempfile

    from ..recognizer import Recognizer, RecognizerConfig, open_pipeline_gallery

    totals: list[float] = []
    stages: dict[str, float] = {}
    faces = []
    with tempfile.TemporaryDirectory() as tmp, open_pipeline_gallery(Path(tmp) / "bench.db", pipeline) as gallery:
        for _ in range(repeat):
            recognizer = Recognizer(pipeline, gallery, RecognizerConfig(track=True))  # a fresh stream
            for frame in frames:
                _, found, timings = recognizer.recognize_tracked(frame)
                totals.append(timings.pop("total"))
                for name, seconds in timings.items():
                    stages[name] = stages.get(name, 0.0) + seconds
                faces.append(len(found))
                if progress:
                    progress(len(totals), len(frames) * repeat)
    ms = np.asarray(totals) * 1000
    return {
        "frames": len(totals),
        "resolution": f"{frames[0].shape[1]}x{frames[0].shape[0]}",
        "backend": pipeline.backend_name,
        "embedder": pipeline.embedder.spec.name,
        "tracked": True,
        "ms_per_frame": round(float(np.median(ms)), 2),
        "mean_ms_per_frame": round(float(np.mean(ms)), 2),
        "p90_ms_per_frame": round(float(np.percentile(ms, 90)), 2),
        "fps": round(1000.0 / float(np.mean(ms)), 2),  # throughput: full detections included
        "stages_mean": {name: round(1000 * v / len(totals), 2) for name, v in stages.items()},
        "faces_per_frame": round(float(np.mean(faces)), 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "machine": f"{platform.machine()} {platform.processor() or ''} {_cpu_count()} CPUs".strip(),
    }


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def default_bench_inputs() -> list[Path]:
    """The shared sample photos when they sit beside the checkout (development), else nothing."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "data" / "samples"
        if candidate.is_dir():
            return [candidate / "groups", candidate / "portraits"]
    return []
