"""How much of detection is the networks, and how much is ours (pyramid, NMS, crops): issue 14's
"time outside the networks at most 15 % of detection" (docs/performance.md).

    .venv/bin/python tools/measure_network_share.py [--min-face 20 40] [--frames 34]

Every inference call of the detector's three networks is timed where it happens (the ONNX Runtime
backend's `run`), the whole `detect` call around it; frames are the bench's (`bench.load_frames`,
640x480 crops of the shared sample photos). The border pass is off here: it is a second detection
on the same frame and would count twice.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from face_recognition_trt.backends import onnxruntime_backend
from face_recognition_trt.pipeline import FacePipeline, PipelineConfig
from face_recognition_trt.tooling.bench import load_frames

SHARED = Path(__file__).resolve().parents[2] / "shared/data/samples"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-face", type=float, nargs="+", default=[20.0, 40.0])
    parser.add_argument("--frames", type=int, default=34)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the frames (medians over all)")
    parser.add_argument("--profile", action="store_true", help="also where the time outside the networks goes")
    args = parser.parse_args()
    frames = load_frames([str(SHARED / "groups"), str(SHARED / "portraits")], 640, 480, args.frames)
    spent, counter = [0.0], [0]
    original = onnxruntime_backend.OnnxRuntimeBackend.run

    def timed(self, inputs):
        counter[0] += 1
        start = time.perf_counter()
        try:
            return original(self, inputs)
        finally:
            spent[0] += time.perf_counter() - start

    onnxruntime_backend.OnnxRuntimeBackend.run = timed
    print("| min face | detection ms (median) | networks ms | outside the networks | calls per frame |")
    print("|---|---|---|---|---|")
    for min_face in args.min_face:
        pipeline = FacePipeline(PipelineConfig.from_values({"min_face": min_face, "border_pad": 0.0}))
        for frame in frames[:3]:  # warm-up
            pipeline.detect(frame)
        totals, nets, calls = [], [], []
        for _ in range(args.repeat):
            for frame in frames:
                spent[0], counter[0] = 0.0, 0
                start = time.perf_counter()
                pipeline.detect(frame)
                totals.append(time.perf_counter() - start)
                nets.append(spent[0])
                calls.append(counter[0])
        total, net = 1000 * np.median(totals), 1000 * np.median(nets)
        outside = np.median((np.array(totals) - np.array(nets)) / np.array(totals))
        print(f"| {min_face:g} | {total:.1f} | {net:.1f} | {outside:.0%} | {np.median(calls):.0f} |")
        if args.profile:
            profile(pipeline, frames, min_face)


def profile(pipeline: FacePipeline, frames: list, min_face: float) -> None:
    """The functions that take the most time of their own over one pass (cProfile), as shares of
    the whole detection."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for frame in frames:
        pipeline.detect(frame)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())  # own time of every function
    top = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:8]
    print(f"\nmin face {min_face:g}, own time as a share of detection:")
    for (file, line, name), row in top:
        print(f"  {row[2] / total:5.1%}  {Path(file).name}:{line} {name}")


if __name__ == "__main__":
    main()
