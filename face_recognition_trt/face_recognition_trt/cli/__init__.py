"""`face-recognition-trt`: everything the ROS nodes do, without ROS.

Exit codes: 0 ok, 1 failure (one clear line on stderr), 2 usage error.
Machine-readable output (--json) is one JSON document per line and kept stable.

One module per group of commands, each with its parser (`register`) beside its handlers:
models_cmd, detect_cmd (detect, embed), recognize_cmd, identities_cmd (enroll, identities ...),
bench_cmd, evaluate_cmd (cohort build, eval-lfw); options.py holds the options every command takes,
common.py what the commands share.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..errors import FaceRecognitionError
from . import bench_cmd, detect_cmd, evaluate_cmd, identities_cmd, models_cmd, recognize_cmd
from .options import add_global_options


def build_parser() -> argparse.ArgumentParser:
    from ..gallery.open import default_gallery_path

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

    models_cmd.register(sub, after, after_models)
    detect_cmd.register(add)
    bench_cmd.register(add)
    identities_cmd.register(sub, add, after)
    recognize_cmd.register(add)
    evaluate_cmd.register(sub, add, after)
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
