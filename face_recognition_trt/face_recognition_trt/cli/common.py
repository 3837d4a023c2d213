"""What the commands share: settings from the command line into the engine, output, progress."""

from __future__ import annotations

import json
import sys

from ..errors import FaceRecognitionError


def progress_bar(desc: str, enabled: bool = True):
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


def emit(obj, as_json: bool, text: str | None = None) -> None:
    if as_json:
        print(json.dumps(obj), flush=True)
    elif text is not None:
        print(text, flush=True)


def flat_values(args) -> dict:
    """The command line as flat settings (settings.py): the same route into the engine as ROS parameters."""
    return {name: value for name, value in vars(args).items() if value is not None}


def make_pipeline(args, calibration_chips=None):
    from ..pipeline import FacePipeline, PipelineConfig

    return FacePipeline(PipelineConfig.from_values(flat_values(args)), calibration_chips)


def make_recognizer(args, track: bool = False):
    """`track`: the frames are one stream (a video, a camera), so faces are tracked across them."""
    from ..recognizer import build_recognizer

    return build_recognizer(flat_values(args), track=track, thumbnails=getattr(args, "thumbnails", False))


def gallery_only(args, location: str | None = None):
    """Open the gallery (or the one at `location`) without loading any network (list, forget, ...).
    With two locations (`identities migrate`), --gallery-password-file goes to the database side."""
    from ..embed.embedder import load_embedder_spec
    from ..gallery.open import is_database_url, open_gallery

    spec = load_embedder_spec(args.embedder)
    password_file = args.gallery_password_file
    if location is not None and not is_database_url(location):
        password_file = None  # the SQLite side of a migration
    location = args.gallery if location is None else location
    return open_gallery(location, spec.name, spec.version, spec.dim, password_file)


def each_image(paths, on_error):
    from ..frames.images import iter_image_paths, read_image

    for path in iter_image_paths(paths):
        try:
            yield path, read_image(path)
        except FaceRecognitionError as exc:
            on_error(path, exc)


def image_errors(args):
    failures = []

    def on_error(path, exc):
        failures.append(path)
        print(f"error: {exc}", file=sys.stderr)

    return failures, on_error
