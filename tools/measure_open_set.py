"""Open-set identification, per data set and embedder: how many strangers get a name, how many
enrolled people get theirs, with and without the impostor cohort (docs/accuracy.md).

A robot's question is not "are these two photos the same person" (LFW pairs) but "is this one of
the people I know, and who". Each run (seed) enrolls up to --gallery people of a set from one photo
each (the hardest case), probes with their other photos, and shows the set's other people as
strangers. With a cohort, the cohort is drawn from --cohort-set's people that are neither enrolled
nor strangers (and never share a name with the set under test). Scores go through the product's
own Matcher, so the figures measure the shipped decision rule.

    .venv/bin/python tools/measure_open_set.py \
        --set lfw=../shared/data/lfw:central --set kpop=DIR --cohort-set lfw \
        --group lfw:east_asian=tools/eval_groups/lfw_east_asian.txt \
        --embedder dlib-resnet-v1 --embedder facenet-casia \
        --plot docs/images/open_set_det.png --json open_set.json

A set is DIR/<person>/<photo>; `:central` takes the face nearest the image centre (LFW crops),
`:single` only photos with exactly one face, otherwise the largest face. Embeddings are cached per
set and embedder in --cache (default: the user's cache directory).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import platformdirs
from face_recognition_trt.errors import FaceRecognitionError
from face_recognition_trt.frames.images import iter_image_paths, read_image
from face_recognition_trt.gallery.base import GalleryMatrix
from face_recognition_trt.match.cohort import Cohort
from face_recognition_trt.match.matcher import DEFAULT_THRESHOLDS, Matcher, decide
from face_recognition_trt.pipeline import FacePipeline, PipelineConfig
from tqdm import tqdm


def embed_set(root: Path, pick: str, embedder: str, cache: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(embeddings, person of each) for the photos of the set in which a face was found. `pick`:
    "central" (the face nearest the centre), "largest", or "single" (only photos with exactly one
    face: a photo of several people does not say which one is labelled)."""
    file = cache / f"{name}-{embedder}.npz"
    if not file.exists():
        _embed_to_cache(root, pick, embedder, file, name)
    with np.load(file) as data:
        keep = data["faces"] == 1 if pick == "single" else np.ones(len(data["people"]), bool)
        return data["embeddings"][keep], data["people"][keep]


def _embed_to_cache(root: Path, pick: str, embedder: str, file: Path, name: str) -> None:
    pipeline = FacePipeline(PipelineConfig(embedder=embedder))
    rows, people, counts = [], [], []
    for path in tqdm(list(iter_image_paths([root], recursive=True)), desc=f"{name} {embedder}", unit="img"):
        try:
            image = read_image(path)
        except FaceRecognitionError:
            continue
        faces = [f for f in pipeline.process(image).faces if f.embedding is not None]
        if not faces:
            continue
        if pick == "central":
            centre = np.array(image.shape[1::-1]) / 2
            face = min(faces, key=lambda f: np.hypot(*((f.box[:2] + f.box[2:4]) / 2 - centre)))
        else:
            face = max(faces, key=lambda f: f.size)
        rows.append(face.embedding)
        people.append(path.relative_to(root).parts[0])
        counts.append(len(faces))
    file.parent.mkdir(parents=True, exist_ok=True)
    np.savez(file, embeddings=np.asarray(rows, np.float32), people=np.asarray(people), faces=np.asarray(counts))


def run_split(E, people, seed, gallery_size, cohort_pool):
    """One enrollment: returns (gallery, probe rows, true name or None, cohort embeddings)."""
    rng = np.random.default_rng(seed)
    names, counts = np.unique(people, return_counts=True)
    eligible = rng.permutation(names[counts >= 2])
    enrolled = set(eligible[: min(gallery_size, len(eligible) // 2)])
    rest = [n for n in rng.permutation(names) if n not in enrolled]
    cohort_people: set = set()
    if cohort_pool is None:  # the set is its own cohort source: a third of the people not enrolled
        cohort_people = set(rest[: len(rest) // 3])
    rows, starts, gallery_names, probes, truth = [], [], [], [], []
    for name in sorted(names):
        index = np.flatnonzero(people == name)
        if name in enrolled:
            index = rng.permutation(index)
            starts.append(len(rows))
            rows.append(E[index[0]])
            gallery_names.append(name)
            probes.extend(index[1:])
            truth.extend([name] * (len(index) - 1))
        elif name not in cohort_people:
            probes.extend(index)
            truth.extend([None] * len(index))
    if cohort_pool is None:
        cohort = E[np.isin(people, list(cohort_people))]
    else:
        pool_e, pool_people = cohort_pool
        cohort = pool_e[~np.isin(pool_people, names)]  # never the same person as in the set under test
    gallery = GalleryMatrix(np.asarray(rows, np.float32), np.asarray(starts), gallery_names)
    return gallery, np.asarray(probes), np.asarray(truth, dtype=object), cohort


def outcomes(decision, correct, ambiguous, supported, accept, uncertain):
    """Rates of named-right, named-wrong, uncertain, unknown at one pair of thresholds."""
    labels = [decide(float(s), accept, uncertain, bool(a), bool(u)) for s, a, u in zip(decision, ambiguous, supported)]
    named = np.array([x == "named" for x in labels])
    unsure = np.array([x == "uncertain" for x in labels])
    return {
        "named_right": float(np.mean(named & correct)),
        "named_wrong": float(np.mean(named & ~correct)),
        "uncertain": float(np.mean(unsure)),
        "unknown": float(np.mean(~named & ~unsure)),
    }


def evaluate(E, people, groups, seeds, gallery_size, cohort_pool, embedder):
    """Decision scores of every probe over all seeds, for the cosine rule and the cohort rule."""
    thresholds = DEFAULT_THRESHOLDS[embedder]
    collected = {"cosine": [], "cohort": []}
    for seed in range(seeds):
        gallery, probes, truth, cohort_e = run_split(E, people, seed, gallery_size, cohort_pool)
        cohort = Cohort(embedder, "eval", cohort_e)
        for rule, matcher in (
            ("cosine", Matcher(thresholds)),
            ("cohort", Matcher(thresholds, cohort=cohort)),
        ):
            ev = matcher.evidence(E[probes], gallery)
            candidate = np.asarray(gallery.names, dtype=object)[ev.candidates]
            collected[rule].append(
                {
                    "decision": ev.decision,
                    "ambiguous": ev.best - ev.second < matcher.margin,
                    "supported": ev.best >= thresholds.cosine_uncertain,  # as in Matcher.match
                    "stranger": np.array([t is None for t in truth]),
                    "correct": candidate == truth,
                    "groups": {g: np.isin(people[probes], list(members)) for g, members in groups.items()},
                }
            )
    merged = {}
    for rule, runs in collected.items():
        merged[rule] = {
            k: np.concatenate([r[k] for r in runs])
            for k in ("decision", "ambiguous", "supported", "stranger", "correct")
        }
        merged[rule]["groups"] = {g: np.concatenate([r["groups"][g] for r in runs]) for g in groups}
    return merged


def summarise(merged, embedder):
    t = DEFAULT_THRESHOLDS[embedder]
    out = {}
    for rule, m in merged.items():
        accept, uncertain = (
            (t.cosine, t.cosine_uncertain) if rule == "cosine" else (t.normalised, t.normalised_uncertain)
        )
        s, genuine = m["stranger"], ~m["stranger"]

        def at(sel, m=m, accept=accept, uncertain=uncertain):
            picked = (m["decision"][sel], m["correct"][sel], m["ambiguous"][sel], m["supported"][sel])
            return outcomes(*picked, accept, uncertain)

        row = {
            "probes_enrolled": int(genuine.sum()),
            "probes_strangers": int(s.sum()),
            "enrolled": at(genuine),
            "strangers": at(s),
        }
        for g, member in m["groups"].items():
            row[f"strangers_{g}"] = at(s & member)
            row[f"probes_strangers_{g}"] = int((s & member).sum())
        # calibration: the accept threshold at which 1 % (5 %) of all strangers would be named
        for far in (0.01, 0.05):
            eligible = nameable(m, rule)
            t_far = threshold_at_far(m["decision"][s], ~eligible[s], far)
            named = (m["decision"][genuine] >= t_far) & m["correct"][genuine] & eligible[genuine]
            row[f"threshold_far_{far:.0%}"] = round(t_far, 4)
            row[f"named_right_at_far_{far:.0%}"] = float(np.mean(named))
        out[rule] = row
    return out


def nameable(m, rule):
    """Probes that some accept threshold would name: not ambiguous, and for the cohort rule with
    the plain cosine's support (match.decide); the cosine rule's support is its threshold itself."""
    return ~m["ambiguous"] & (m["supported"] if rule == "cohort" else True)


def threshold_at_far(scores, never, far):
    """The lowest accept threshold that names at most `far` of these strangers (`never`: ones that
    cannot be named whatever their score: ambiguous, or without cosine support)."""
    eligible = np.sort(scores[~never])[::-1]
    allowed = int(np.floor(far * len(scores)))  # strangers that may be named
    if allowed >= len(eligible):
        return float(eligible[-1]) if len(eligible) else 0.0
    return float(np.nextafter(eligible[allowed], np.inf))  # just above the first one not allowed


def det_curve(m, rule, member=None):
    """False-accept rate of strangers against the miss rate of enrolled people, over thresholds."""
    s = m["stranger"] if member is None else m["stranger"] & member
    genuine = ~m["stranger"]
    eligible = nameable(m, rule)
    named_ok = m["correct"] & eligible
    grid = np.quantile(m["decision"], np.linspace(0, 1, 400))
    far = np.array([np.mean((m["decision"][s] >= x) & eligible[s]) for x in grid])
    miss = np.array([1 - np.mean((m["decision"][genuine] >= x) & named_ok[genuine]) for x in grid])
    return far, miss


def plot(results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    embedders = sorted({e for _, e in results})
    fig, axes = plt.subplots(1, len(embedders), figsize=(6.5 * len(embedders), 5.5), squeeze=False)
    styles = {"cosine": "--", "cohort": "-"}
    for ax, embedder in zip(axes[0], embedders):
        for (set_name, e), merged in results.items():
            if e != embedder:
                continue
            for rule, m in merged.items():
                curves = [(set_name, None)] + [(f"{set_name} {g}", member) for g, member in m["groups"].items()]
                for label, member in curves:
                    far, miss = det_curve(m, rule, member)
                    ok = far > 0
                    ax.plot(far[ok], miss[ok], styles[rule], label=f"{label}, {rule}")
        ax.axvline(0.01, color="grey", lw=0.8)
        ax.axhline(0.10, color="grey", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlim(1e-4, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("strangers named (false-accept rate)")
        ax.set_ylabel("enrolled probes not named correctly (miss rate)")
        ax.set_title(embedder)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Open-set identification, one enrollment photo per person (tools/measure_open_set.py)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def table(summaries) -> str:
    lines = [
        "| set | embedder | rule | strangers named | strangers uncertain | enrolled named right | "
        "enrolled named wrong | enrolled uncertain |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (set_name, embedder), by_rule in summaries.items():
        for rule, row in by_rule.items():
            cells = [("all", row["strangers"], row["probes_strangers"])]
            cells += [
                (k[len("strangers_") :], v, row[f"probes_{k}"]) for k, v in row.items() if k.startswith("strangers_")
            ]
            named = ", ".join(f"{c['named_right'] + c['named_wrong']:.2%} ({g}, n={n})" for g, c, n in cells)
            unsure = row["strangers"]["uncertain"]
            e = row["enrolled"]
            lines.append(
                f"| {set_name} | {embedder} | {rule} | {named} | {unsure:.1%} | {e['named_right']:.1%} "
                f"(n={row['probes_enrolled']}) | {e['named_wrong']:.2%} | {e['uncertain']:.1%} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", required=True, help="NAME=DIR[:central]")
    parser.add_argument("--cohort-set", help="draw every set's cohort from this set (default: each set's own)")
    parser.add_argument("--group", action="append", default=[], help="SET:GROUP=FILE of person names, one a line")
    parser.add_argument("--embedder", action="append", help="default: dlib-resnet-v1 and facenet-casia")
    parser.add_argument("--gallery", type=int, default=50, help="people enrolled per run (at most half a set)")
    parser.add_argument("--seeds", type=int, default=20, help="runs with different people enrolled")
    parser.add_argument(
        "--cache", type=Path, default=Path(platformdirs.user_cache_dir("face_recognition_trt")) / "open-set"
    )
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sets = {}
    for spec in args.set:
        name, _, location = spec.partition("=")
        folder, _, pick = location.partition(":")
        sets[name] = (Path(folder), pick or "largest")
    groups: dict[str, dict[str, set]] = {}
    for spec in args.group:
        key, _, file = spec.partition("=")
        set_name, _, group = key.partition(":")
        names = {line.split()[0] for line in Path(file).read_text().splitlines() if line.strip() and line[0] != "#"}
        groups.setdefault(set_name, {})[group] = names
    embedders = args.embedder or ["dlib-resnet-v1", "facenet-casia"]
    results, summaries = {}, {}
    for embedder in embedders:
        data = {name: embed_set(folder, pick, embedder, args.cache, name) for name, (folder, pick) in sets.items()}
        for name, (E, people) in data.items():
            pool = data[args.cohort_set] if args.cohort_set and args.cohort_set != name else None
            merged = evaluate(E, people, groups.get(name, {}), args.seeds, args.gallery, pool, embedder)
            results[(name, embedder)] = merged
            summaries[(name, embedder)] = summarise(merged, embedder)
    print(table(summaries))
    for (set_name, embedder), by_rule in summaries.items():
        for rule, row in by_rule.items():
            print(
                f"{set_name} {embedder} {rule}: 1 % of strangers named at {row['threshold_far_1%']} "
                f"({row['named_right_at_far_1%']:.1%} of enrolled named right); "
                f"5 % at {row['threshold_far_5%']} ({row['named_right_at_far_5%']:.1%})"
            )
    if args.json:
        args.json.write_text(json.dumps({f"{s}/{e}": v for (s, e), v in summaries.items()}, indent=1))
    if args.plot:
        plot(results, args.plot)
        print(f"plot written to {args.plot}")


if __name__ == "__main__":
    main()
