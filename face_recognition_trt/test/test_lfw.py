"""LFW protocol: pairs files, k-fold threshold selection, failed detections, the eval-lfw command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from face_recognition_trt.errors import FaceRecognitionError
from face_recognition_trt.tooling import lfw


def test_reads_the_shared_dev_pairs(lfw_dir):
    pairs = lfw.read_pairs(lfw_dir / "pairs_dev.txt", lfw_dir)
    assert len(pairs) == 1200
    assert sum(p.same for p in pairs) == 600
    assert {p.fold for p in pairs} == {0, 1}
    assert [p.same for p in pairs[:300]] == [True] * 300 and not any(p.same for p in pairs[300:600])
    assert all(p.path_a.exists() and p.path_b.exists() for p in pairs)
    name, i, j = (lfw_dir / "pairs_dev.txt").read_text().splitlines()[1].split("\t")
    assert (pairs[0].path_a, pairs[0].path_b) == (
        lfw_dir / name / f"{name}_{int(i):04d}.jpg",
        lfw_dir / name / f"{name}_{int(j):04d}.jpg",
    )


def test_count_header_and_bad_files(tmp_path):
    (tmp_path / "one.txt").write_text("2\nAda\t1\t2\nAda\t1\tBob\t3\n")
    pairs = lfw.read_pairs(tmp_path / "one.txt", tmp_path)
    assert [(p.same, p.fold) for p in pairs] == [(True, 0), (False, 0)]
    assert pairs[1].path_b == tmp_path / "Bob" / "Bob_0003.jpg"
    for text, message in [
        ("", "empty"),
        ("x y z\n", "first line"),
        ("2\nAda 1\n", "3 or 4 fields"),
        ("3\nAda 1 2\n", "announces 3 pairs"),
    ]:
        (tmp_path / "bad.txt").write_text(text)
        with pytest.raises(FaceRecognitionError, match=message):
            lfw.read_pairs(tmp_path / "bad.txt", tmp_path)


def test_threshold_is_chosen_on_the_other_fold():
    same = np.array([1, 1, 0, 0, 1, 1, 0, 0], bool)
    folds = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    # fold 0 separates best at 0.5, fold 1 at 0.825: each fold is scored with the other's threshold
    sims = np.array([0.9, 0.7, 0.3, 0.2, 0.95, 0.9, 0.75, 0.6])
    result = lfw.evaluate(sims, same, folds, failed=0)
    assert result.fold_thresholds == pytest.approx([0.825, 0.5])
    # fold 0 at 0.825: 0.7 (same person) is missed; fold 1 at 0.5: 0.75 and 0.6 (different) pass
    assert result.fold_accuracies == [0.75, 0.5]
    assert result.accuracy == 0.625


def test_failed_detections_count_as_errors():
    same = np.array([1, 0, 1, 0], bool)
    sims = np.array([0.9, 0.1, -np.inf, -np.inf])
    result = lfw.evaluate(sims, same, np.zeros(4, int), failed=2)
    assert result.accuracy == 0.5 and result.failed_detections == 2


def test_eval_lfw_command_on_a_few_pairs(capsys, lfw_dir, models_dir, tmp_path):
    from face_recognition_trt.cli import main

    lines = (lfw_dir / "pairs_dev.txt").read_text().splitlines()
    subset = tmp_path / "pairs.txt"
    subset.write_text("2\t5\n" + "\n".join(lines[1:6] + lines[301:306] + lines[601:606] + lines[901:906]) + "\n")
    assert main(["eval-lfw", "--pairs", str(subset), "--images", str(lfw_dir), "--json", "--no-progress"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["pairs"] == 20 and doc["folds"] == 2 and doc["failed_detections"] == 0
    assert doc["accuracy"] >= 0.9 and 0.5 < doc["threshold"] < 1.0
