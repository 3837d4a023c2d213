"""`enroll` and `identities list | forget | rename | scrub | export | import | migrate`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import FaceRecognitionError
from .common import emit, gallery_only, make_recognizer
from .options import setting_type


def register(sub, add, after) -> None:
    en = add("enroll", cmd_enroll, "enroll a person from photos")
    en.add_argument("name")
    en.add_argument("images", nargs="+")
    en.add_argument("--add", action="store_true", help="add samples to an existing identity")
    en.add_argument("--largest", action="store_true", help="in a group photo, enroll the largest face")
    en.add_argument("--thumbnails", action="store_true", help="keep a 64x64 thumbnail of each sample")
    en.add_argument("--min-enroll-face", type=setting_type("min_enroll_face"), help="smallest face to enroll, pixels")

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
    imp.add_argument("--min-enroll-face", type=setting_type("min_enroll_face"), help="smallest face to enroll, pixels")


def cmd_enroll(args) -> int:
    from ..frames.images import read_image

    rec = make_recognizer(args)
    samples = []
    for path in args.images:
        try:
            samples.append(rec.sample_from_frame(read_image(path), args.largest, source=Path(path).name))
        except FaceRecognitionError as exc:
            raise FaceRecognitionError(f"{path}: {exc}; nothing was enrolled") from exc
    total = rec.enroll(args.name, samples, args.add)
    identity = rec.gallery.display_name(args.name)
    emit({"identity": identity, "samples_total": total}, args.json, f"enrolled {identity}: {total} sample(s)")
    return 0


def cmd_identities(args) -> int:
    from ..gallery.transfer import export_gallery

    action = args.action
    if action == "import":
        return _identities_import(args)
    with gallery_only(args) as gallery:
        if action == "list":
            items = gallery.list()
            if args.json:
                print(json.dumps([{"name": i.name, "samples": i.samples} for i in items]))
            else:
                print("\n".join(f"{i.name}\t{i.samples}" for i in items) or "no identities enrolled")
        elif action == "forget":
            removed = gallery.forget(args.name)
            pending = gallery.erase_pending
            emit(
                {"forgotten": args.name, "samples_removed": removed, "erase_pending": pending},
                args.json,
                f"forgot {args.name} ({removed} samples removed)" + (f"; {gallery.erase_advice}" if pending else ""),
            )
        elif action == "scrub":
            done = gallery.scrub()
            emit({"erased": done}, args.json, "erased" if done else gallery.erase_advice)
            return 0 if done else 1
        elif action == "rename":
            gallery.rename(args.old, args.new)
            emit({"renamed": args.old, "to": args.new}, args.json, f"renamed {args.old} -> {args.new}")
        elif action == "export":
            count = export_gallery(gallery, Path(args.file))
            emit({"exported": count, "file": args.file}, args.json, f"exported {count} identities to {args.file}")
    return 0


def cmd_identities_migrate(args) -> int:
    """Copy every identity of SOURCE into DESTINATION (SQLite file or postgresql:// URL, either way)
    in one transaction, then read the copy back and compare counts and a checksum of names and
    embeddings."""
    from tqdm import tqdm

    from ..gallery.base import checksum
    from ..gallery.open import is_database_url
    from ..names import validate_name

    if args.gallery_password_file and not any(map(is_database_url, (args.source, args.destination))):
        raise FaceRecognitionError(
            "a password file is for a postgresql:// gallery; neither side of the migration is one"
        )
    with gallery_only(args, args.source) as source, gallery_only(args, args.destination) as destination:
        identities = source.identities_with_samples()
        samples = sum(len(s) for _, s in identities)
        with tqdm(
            total=samples, desc=f"copying to {destination.location}", unit="samples", file=sys.stderr,
            disable=args.no_progress,
        ) as bar:  # fmt: skip
            try:
                destination.enroll_many(identities, progress=bar.update)
            except FaceRecognitionError as exc:
                raise FaceRecognitionError(f"copying {source.location}: {exc}") from None
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
    emit(
        {"identities": len(identities), "samples": samples, "checksum": expected, "verified": True},
        args.json,
        f"copied {len(identities)} identities ({samples} samples) to {destination.location}; "
        f"verified: counts and checksum {expected[:12]} match",
    )
    return 0


def _identities_import(args) -> int:
    """A gallery export (JSON) or a folder of photos: DIR/name/*.jpg or DIR/name.jpg."""
    from ..gallery.transfer import import_gallery

    source = Path(args.source)
    if source.is_file():
        with gallery_only(args) as gallery:
            imported = import_gallery(gallery, source, merge=args.merge)
        emit(
            [{"name": i.name, "samples": i.samples} for i in imported],
            args.json,
            f"imported {len(imported)} identities",
        )
        return 0
    if not source.is_dir():
        raise FaceRecognitionError(f"{source}: no such file or folder")
    from ..frames.images import IMAGE_SUFFIXES, read_image

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
    rec = make_recognizer(args)
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
    emit(results, args.json, f"imported {len(results)} identities" + (f", {failed} failed" if failed else ""))
    return 1 if failed else 0  # asked and not done: the README's exit code 1
