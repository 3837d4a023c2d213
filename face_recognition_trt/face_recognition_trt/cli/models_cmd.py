"""`models fetch | list | build-engines`."""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..models.registry import EMBEDDERS
from .common import emit, make_pipeline


def register(sub, after, after_models) -> None:
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


def cmd_models_fetch(args) -> int:
    from ..models.conversion.fetch import fetch

    log = (lambda msg: print(msg, file=sys.stderr, flush=True)) if args.json else print
    manifest = fetch(args.models_dir, args.embedder_list or [args.embedder], args.force, log)
    emit({"models_dir": str(args.models_dir), "models": sorted(manifest["models"])}, args.json)
    return 0


def cmd_models_list(args) -> int:
    from ..models.installed import read_manifest

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
    from ..backends import resolve_backend_kind

    if resolve_backend_kind("tensorrt") != "tensorrt":  # raises with the reason when unavailable
        return 1
    start = time.perf_counter()
    tensorrt = argparse.Namespace(**{**vars(args), "backend": "tensorrt"})
    chips = None
    if args.precision == "int8" and args.calibration_dir is not None:
        from ..tooling.calibration import embedder_calibration_chips

        detector = make_pipeline(argparse.Namespace(**{**vars(tensorrt), "precision": "fp16"})).detector
        chips = embedder_calibration_chips(detector, args.calibration_dir, args.embedder)
    pipeline = make_pipeline(tensorrt, chips)
    emit(
        {
            "engine_cache": str(args.engine_cache),
            "backend": pipeline.backend_name,
            "seconds": round(time.perf_counter() - start, 1),
        },
        args.json,
        f"engines ready ({pipeline.backend_name}) in {time.perf_counter() - start:.0f} s",
    )
    return 0
