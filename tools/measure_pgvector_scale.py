"""Matching a face against a large fleet gallery: the in-process matcher (every sample) against the
pgvector HNSW index's shortlist (PostgresGallery.candidates), with the index's recall@1.

Embeddings are drawn to resemble real ones: identity centres from a Gaussian fitted to the dlib
cohort (522 real LFW faces, built by tools/setup.sh), samples of one identity around their centre at
the spread of real genuine pairs. A probe is a fresh sample of an enrolled identity.

    .venv/bin/python tools/measure_pgvector_scale.py --sizes 10000 100000 1000000 --json docs/pgvector_scale.json

Times are per face, median over the probes, one face per query (the worst case for the index: a
frame's faces are separate index scans). recall@1: the index's nearest sample is the exact nearest
sample; identity recall@1: the matcher names the same best identity from the shortlist as from every
sample.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
from face_recognition_trt.gallery.postgres import SHORTLIST, PostgresGallery
from face_recognition_trt.match.cohort import load_cohort
from face_recognition_trt.match.matcher import DEFAULT_THRESHOLDS, Matcher
from face_recognition_trt.models.registry import DLIB_RESNET, default_models_dir
from face_recognition_trt.tooling.local_database import LocalDatabase
from pgvector.psycopg import register_vector

# Per-dimension noise around an identity's centre: genuine pairs at median cosine 0.94. The centres give
# impostor pairs at median 0.85, 99.9th percentile 0.93: as the real LFW cohort (0.85, 0.93).
GENUINE_SPREAD = 0.022


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


class FaceLikeEmbeddings:
    def __init__(self, cohort: np.ndarray, seed: int = 0) -> None:
        self.mean = cohort.mean(axis=0)
        self.cov = np.cov(cohort, rowvar=False)
        self.rng = np.random.default_rng(seed)

    def centres(self, count: int) -> np.ndarray:
        return unit(self.rng.multivariate_normal(self.mean, self.cov, size=count, method="cholesky"))

    def samples(self, centres: np.ndarray) -> np.ndarray:
        return unit(centres + self.rng.normal(scale=GENUINE_SPREAD, size=centres.shape))


def load(url: str, gallery: PostgresGallery, embeddings: np.ndarray, per_identity: int) -> dict:
    """Bulk load as an operator would for a large gallery: triggers and the index off during COPY,
    then one index build (much faster than growing the graph row by row)."""
    timings = {}
    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        conn.execute("DROP INDEX face_gallery.samples_embedding")
        conn.execute("ALTER TABLE face_gallery.samples DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE face_gallery.identities DISABLE TRIGGER USER")
        start = time.perf_counter()
        identities = len(embeddings) // per_identity
        with conn.cursor().copy("COPY face_gallery.identities (id, name, name_key, created) FROM STDIN") as copy:
            for i in range(identities):
                copy.write_row((i + 1, f"person {i}", f"person {i}", 0.0))
        with conn.cursor().copy(
            "COPY face_gallery.samples (identity_id, embedding, embedder, embedder_version, quality, created) "
            "FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["bigint", "vector", "text", "text", "float8", "float8"])
            for row, vector in enumerate(embeddings):
                copy.write_row((row // per_identity + 1, vector, gallery.embedder, gallery.embedder_version, 0.9, 0.0))
        timings["copy_s"] = time.perf_counter() - start
        conn.execute("SELECT setval('face_gallery.identities_id_seq', %s)", (identities,))
        conn.execute("ALTER TABLE face_gallery.samples ENABLE TRIGGER USER")
        conn.execute("ALTER TABLE face_gallery.identities ENABLE TRIGGER USER")
        conn.execute("SET maintenance_work_mem = '6GB'")
        conn.execute("SET max_parallel_maintenance_workers = 2")
        start = time.perf_counter()
        conn.execute("CREATE INDEX samples_embedding ON face_gallery.samples USING hnsw (embedding vector_cosine_ops)")
        timings["index_build_s"] = time.perf_counter() - start
        conn.execute("VACUUM ANALYZE face_gallery.samples")
        timings["table_mb"] = conn.execute(
            "SELECT pg_total_relation_size('face_gallery.samples')::float8 / 1e6"
        ).fetchone()[0]
        timings["index_mb"] = conn.execute(
            "SELECT pg_relation_size('face_gallery.samples_embedding')::float8 / 1e6"
        ).fetchone()[0]
    return timings


def measure(
    db: LocalDatabase, size: int, per_identity: int, probes: int, faces: FaceLikeEmbeddings, ef_searches: list[int]
) -> dict:
    dbname = f"scale_{size}"
    db.sql(f'DROP DATABASE IF EXISTS "{dbname}";')
    db.create_database(dbname)
    url = db.admin_url(dbname)
    identities = size // per_identity
    centres = faces.centres(identities)
    embeddings = faces.samples(np.repeat(centres, per_identity, axis=0))
    with PostgresGallery(url, DLIB_RESNET.name, DLIB_RESNET.version, DLIB_RESNET.dim, index_min_samples=0) as gallery:
        result = {"samples": size, "identities": identities, **load(url, gallery, embeddings, per_identity)}
        start = time.perf_counter()
        full = gallery.matrix()  # the in-memory copy every robot keeps
        result["load_into_memory_s"] = time.perf_counter() - start
        matcher = Matcher(DEFAULT_THRESHOLDS[DLIB_RESNET.name])
        chosen = faces.rng.choice(identities, size=probes, replace=False)
        queries = faces.samples(centres[chosen])
        exact_ms, exact_rows, exact_names, genuine = [], [], [], 0
        for probe, owner in zip(queries, chosen):
            start = time.perf_counter()
            exact = matcher.evidence(probe[None], full)
            exact_ms.append((time.perf_counter() - start) * 1000)
            exact_rows.append(int(np.argmax(full.embeddings @ probe)))
            exact_names.append(full.names[exact.candidates[0]])
            genuine += exact_names[-1] == f"person {owner}"
        result.update(exact_ms_per_face=statistics.median(exact_ms), exact_top1_is_the_probe_identity=genuine / probes)
        result["index"] = []
        for ef_search in ef_searches:
            gallery.ef_search = ef_search
            if gallery._search is not None:  # the next search connection takes the new ef_search
                gallery._search.close()
            index_ms, sample_hits, identity_hits = [], 0, 0
            for probe, exact_row, exact_name in zip(queries, exact_rows, exact_names):
                start = time.perf_counter()
                shortlist = gallery.candidates(probe[None])
                near = matcher.evidence(probe[None], shortlist)
                index_ms.append((time.perf_counter() - start) * 1000)
                sample_hits += bool(np.any(np.all(shortlist.embeddings == full.embeddings[exact_row], axis=1)))
                identity_hits += shortlist.names[near.candidates[0]] == exact_name
            result["index"].append(
                {
                    "ef_search": ef_search,
                    "ms_per_face": statistics.median(index_ms),
                    "p95_ms": float(np.percentile(index_ms, 95)),
                    "recall_at_1": sample_hits / probes,
                    "identity_recall_at_1": identity_hits / probes,
                }
            )
        result["probes"] = probes
    db.sql(f'DROP DATABASE "{dbname}";')
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--per-identity", type=int, default=4)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[40], help="hnsw.ef_search values to compare")
    parser.add_argument("--folder", type=Path, help="database folder (default: a temporary one)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    cohort = load_cohort(default_models_dir() / "cohort" / f"{DLIB_RESNET.name}.npz", DLIB_RESNET)
    faces = FaceLikeEmbeddings(cohort.embeddings.astype(np.float64))
    with tempfile.TemporaryDirectory() as tmp:
        db = LocalDatabase(args.folder or Path(tmp) / "db")
        db.start()
        db.sql("ALTER SYSTEM SET shared_buffers = '2GB'; ALTER SYSTEM SET max_wal_size = '8GB';")
        db.stop()
        db.start()
        try:
            results = []
            for size in args.sizes:
                results.append(measure(db, size, args.per_identity, args.probes, faces, args.ef_search))
                print(json.dumps(results[-1]), flush=True)
        finally:
            db.stop()
    if args.json:
        meta = {
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "cpus": __import__("os").cpu_count(),
            "shortlist": SHORTLIST,
            "hnsw": "m=16, ef_construction=64 (pgvector defaults)",
        }
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
