"""The command-line tool end to end: output formats, exit codes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from face_recognition_trt.cli import main


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_detect_json_format(capsys, samples, models_dir):
    code, out, _ = run(capsys, "detect", "--json", samples / "groups/rose_leslie_and_kit_harington_1.jpg")
    assert code == 0
    doc = json.loads(out)
    assert doc["path"].endswith("rose_leslie_and_kit_harington_1.jpg")
    img = cv2.imread(str(samples / "groups/rose_leslie_and_kit_harington_1.jpg"))
    assert (doc["width"], doc["height"]) == (img.shape[1], img.shape[0])
    assert len(doc["faces"]) == 2
    for face in doc["faces"]:
        x1, y1, x2, y2 = face["box"]
        assert 0 <= x1 < x2 <= doc["width"] + 5 and 0 <= y1 < y2 <= doc["height"] + 5
        assert 0.5 < face["score"] <= 1 and len(face["landmarks"]) == 5


def test_detect_one_line_per_image_and_folder_skips_non_images(capsys, samples, tmp_path, models_dir):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "notes.txt").write_text("not an image")
    (folder / "a.jpg").write_bytes((samples / "portraits/joe_biden_1.jpg").read_bytes())
    cv2.imwrite(str(folder / "b.png"), np.zeros((64, 64, 3), np.uint8))
    code, out, _ = run(capsys, "detect", "--json", folder)
    assert code == 0
    docs = [json.loads(line) for line in out.splitlines()]
    assert [d["path"].rsplit("/", 1)[1] for d in docs] == ["a.jpg", "b.png"]
    assert [len(d["faces"]) for d in docs] == [1, 0]  # no face is an empty result, not an error


def _variants(samples, tmp_path):
    bgr = cv2.imread(str(samples / "portraits/joe_biden_1.jpg"))
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    cv2.imwrite(str(tmp_path / "grey.png"), grey)
    cv2.imwrite(str(tmp_path / "sixteen.png"), bgr.astype(np.uint16) * 257)
    cv2.imwrite(str(tmp_path / "rgba.png"), cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA))
    return ["grey.png", "sixteen.png", "rgba.png"]


def test_grey_16bit_and_rgba_images_work(capsys, samples, tmp_path, models_dir):
    names = _variants(samples, tmp_path)
    code, out, _ = run(capsys, "detect", "--json", *[tmp_path / n for n in names])
    assert code == 0
    assert [len(json.loads(line)["faces"]) for line in out.splitlines()] == [1, 1, 1]


def test_bad_images_give_one_clear_line_and_exit_1(capsys, tmp_path, models_dir):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg" * 10)
    for name, message in [
        ("empty.jpg", "empty file"),
        ("corrupt.jpg", "not an image"),
        ("missing.jpg", "no such file"),
    ]:
        code, out, err = run(capsys, "detect", tmp_path / name)
        assert code == 1, name
        assert message in err and "Traceback" not in err


def test_very_large_image_is_refused(capsys, tmp_path, models_dir):
    big = np.zeros((7000, 7000), np.uint8)  # 49 megapixels
    cv2.imwrite(str(tmp_path / "big.png"), big)
    code, _, err = run(capsys, "detect", tmp_path / "big.png")
    assert code == 1 and "larger than" in err


def test_missing_models_say_how_to_fetch(capsys, tmp_path, samples):
    code, _, err = run(capsys, "--models-dir", tmp_path, "detect", samples / "portraits/joe_biden_1.jpg")
    assert code == 1
    assert "models fetch" in err and "Traceback" not in err


def test_corrupt_model_is_reported(capsys, tmp_path, samples, models_dir):
    import shutil

    for f in models_dir.iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    (tmp_path / "mtcnn_onet.onnx").write_bytes(b"garbage")
    code, _, err = run(capsys, "--models-dir", tmp_path, "detect", samples / "portraits/joe_biden_1.jpg")
    assert code == 1 and "checksum" in err and "models fetch --force" in err


def test_usage_errors_exit_2():
    for args in (["detect"], ["identities", "rename", "onlyone"], ["nonsense"], ["recognize"]):
        proc = subprocess.run([sys.executable, "-m", "face_recognition_trt.cli", *args], capture_output=True, text=True)
        assert proc.returncode == 2, args
        assert "usage" in proc.stderr


def test_enroll_recognize_identities_json(capsys, samples, tmp_path, models_dir):
    g = tmp_path / "g.db"
    code, out, _ = run(capsys, "--gallery", g, "enroll", "--json", "Joe Biden", samples / "portraits/joe_biden_1.jpg")
    assert code == 0 and json.loads(out) == {"identity": "Joe Biden", "samples_total": 1}
    code, out, _ = run(
        capsys, "--gallery", g, "enroll", "--json", "--add", "joe biden", samples / "portraits/joe_biden_2.jpg"
    )
    assert json.loads(out) == {"identity": "Joe Biden", "samples_total": 2}  # the stored display form
    code, out, _ = run(capsys, "--gallery", g, "identities", "list", "--json")
    assert json.loads(out) == [{"name": "Joe Biden", "samples": 2}]
    out_dir = tmp_path / "annotated"
    code, out, _ = run(capsys, "--gallery", g, "recognize", "--json", samples / "groups", "--output", out_dir)
    assert code == 0
    docs = {json.loads(line)["path"].rsplit("/", 1)[1]: json.loads(line) for line in out.splitlines()}
    assert len(docs) == 12
    biden = docs["barack_obama_and_joe_biden_1.jpg"]["faces"]
    assert sorted(f["identity"] for f in biden) == ["Joe Biden", "unknown"]
    assert set(biden[0]) == {"box", "score", "identity", "similarity"}
    assert cv2.imread(str(out_dir / "barack_obama_and_joe_biden_1.jpg")).shape[2] == 3


def test_enroll_failure_changes_nothing(capsys, samples, tmp_path, models_dir):
    g = tmp_path / "g.db"
    code, _, err = run(
        capsys,
        "--gallery",
        g,
        "enroll",
        "Obama",
        samples / "portraits/barack_obama_1.jpg",
        samples / "groups/barack_obama_and_joe_biden_1.jpg",
    )
    assert code == 1 and "comparable size" in err and "nothing was enrolled" in err
    code, out, _ = run(capsys, "--gallery", g, "identities", "list", "--json")
    assert json.loads(out) == []
    for bad in ("", "a/b"):
        code, _, err = run(capsys, "--gallery", g, "enroll", bad, samples / "portraits/barack_obama_1.jpg")
        assert code == 1 and "name" in err


def test_identities_import_folder_rename_forget_export(capsys, samples, tmp_path, models_dir):
    people = tmp_path / "imgs"
    (people / "Barack Obama").mkdir(parents=True)
    for i in (1, 3):
        (people / "Barack Obama" / f"{i}.jpg").write_bytes((samples / f"portraits/barack_obama_{i}.jpg").read_bytes())
    (people / "Rose Leslie.jpg").write_bytes((samples / "portraits/rose_leslie_1.jpg").read_bytes())
    g = tmp_path / "g.db"
    code, out, _ = run(capsys, "--gallery", g, "identities", "import", "--json", people)
    assert code == 0
    assert json.loads(out) == [{"name": "Barack Obama", "samples": 2}, {"name": "Rose Leslie", "samples": 1}]
    assert run(capsys, "--gallery", g, "identities", "rename", "rose leslie", "Ygritte")[0] == 0
    assert run(capsys, "--gallery", g, "identities", "export", tmp_path / "out.json")[0] == 0
    assert run(capsys, "--gallery", g, "identities", "forget", "barack obama")[0] == 0
    code, _, err = run(capsys, "--gallery", g, "identities", "forget", "barack obama")
    assert code == 1 and "no identity" in err
    g2 = tmp_path / "g2.db"
    assert run(capsys, "--gallery", g2, "identities", "import", tmp_path / "out.json")[0] == 0
    code, out, _ = run(capsys, "--gallery", g2, "identities", "list", "--json")
    assert json.loads(out) == [{"name": "Barack Obama", "samples": 2}, {"name": "Ygritte", "samples": 1}]


def test_import_folder_ignores_hidden_entries(capsys, samples, tmp_path, models_dir):
    people = tmp_path / "people"
    for folder in ("Joe Biden", ".git", ".thumbnails"):
        (people / folder).mkdir(parents=True)
        (people / folder / "1.jpg").write_bytes((samples / "portraits/joe_biden_1.jpg").read_bytes())
    (people / "._Joe.jpg").write_bytes((samples / "portraits/joe_biden_2.jpg").read_bytes())
    code, out, err = run(capsys, "--gallery", tmp_path / "g.db", "identities", "import", "--json", people)
    assert code == 0, err
    assert json.loads(out) == [{"name": "Joe Biden", "samples": 1}]


def test_import_folder_with_a_person_who_could_not_be_imported_exits_1(capsys, samples, tmp_path, models_dir):
    """Asked and not done is exit code 1 (README), even when the other people were imported."""
    people = tmp_path / "people"
    people.mkdir()
    (people / "Joe Biden.jpg").write_bytes((samples / "portraits/joe_biden_1.jpg").read_bytes())
    cv2.imwrite(str(people / "Nobody.jpg"), np.full((200, 200, 3), 128, np.uint8))  # no face in it
    code, out, err = run(capsys, "--gallery", tmp_path / "g.db", "identities", "import", "--json", people)
    assert code == 1 and json.loads(out) == [{"name": "Joe Biden", "samples": 1}]
    assert "Nobody" in err


def test_faces_beyond_max_faces_are_unchecked_not_unknown(capsys, samples, tmp_path, models_dir):
    """A face that was never compared is not reported as a stranger."""
    g = tmp_path / "g.db"
    run(capsys, "--gallery", g, "enroll", "Joe Biden", samples / "portraits/joe_biden_1.jpg")
    group = samples / "groups/faceapi_sample1.jpg"
    code, out, _ = run(capsys, "--gallery", g, "--max-faces", "1", "recognize", "--json", group)
    faces = json.loads(out)["faces"]
    assert code == 0 and len(faces) >= 3
    assert sorted(f["identity"] for f in faces).count("unchecked") == len(faces) - 1
    code, out, _ = run(capsys, "--max-faces", "1", "embed", "--json", group)
    faces = json.loads(out)["faces"]
    assert [f["checked"] for f in faces].count(True) == 1 and len(faces) >= 3
    assert all((f["embedding"] is None) != f["checked"] for f in faces)


def clip(samples, tmp_path, frames: int):
    """A short 320x240 video of one portrait."""
    frame = cv2.resize(cv2.imread(str(samples / "portraits/joe_biden_1.jpg")), (320, 240))
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (320, 240))
    for _ in range(frames):
        writer.write(frame)
    writer.release()
    return video


def test_recognize_video(capsys, samples, tmp_path, models_dir):
    video = clip(samples, tmp_path, 4)
    code, out, _ = run(capsys, "--gallery", tmp_path / "g.db", "recognize", "--json", video)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 4 and all(len(doc["faces"]) == 1 for doc in lines)
    # one stream: the face is tracked, and keeps its id from frame to frame
    assert {doc["faces"][0]["track_id"] for doc in lines} == {1}
    code, out, _ = run(capsys, "--gallery", tmp_path / "g.db", "recognize", "--json", "--no-track", video)
    assert code == 0 and all("track_id" not in json.loads(line)["faces"][0] for line in out.splitlines())


@pytest.mark.parametrize(
    "args,message",
    [
        (["--min-face", "0", "detect", "x.jpg"], "min_face must be >= 12"),
        (["--min-face", "-10", "detect", "x.jpg"], "min_face must be >= 12"),
        (["--min-face", "nan", "detect", "x.jpg"], "finite"),
        (["--threads", "-3", "detect", "x.jpg"], "threads must be >= 0"),
        (["--max-faces", "0", "detect", "x.jpg"], "max_faces must be >= 1"),
        (["recognize", "--threshold", "nan", "x.jpg"], "finite"),
        (["recognize", "--threshold", "-5", "x.jpg"], "threshold must be >= -1"),
        (["recognize", "--max-frames", "-1", "x.avi"], "0 (no limit) or more"),
        (["enroll", "--min-enroll-face", "nan", "A", "x.jpg"], "finite"),
    ],
)
def test_bad_option_values_are_usage_errors(args, message):
    """Every value is checked against its setting before any work: exit 2 and the reason."""
    proc = subprocess.run([sys.executable, "-m", "face_recognition_trt.cli", *args], capture_output=True, text=True)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_embed_json(capsys, samples, models_dir):
    code, out, _ = run(capsys, "embed", "--json", samples / "portraits/kit_harington_1.jpg")
    doc = json.loads(out)
    assert code == 0 and doc["embedder"] == "dlib-resnet-v1"
    assert len(doc["faces"]) == 1 and len(doc["faces"][0]["embedding"]) == 128


@pytest.mark.parametrize("args", [["models", "list", "--json"]])
def test_models_list(capsys, models_dir, args):
    code, out, _ = run(capsys, "--models-dir", models_dir, *args)
    names = {m["name"] for m in json.loads(out)["models"]}
    assert code == 0 and {"mtcnn-pnet", "mtcnn-rnet", "mtcnn-onet", "dlib-resnet-v1"} <= names
    for m in json.loads(out)["models"]:
        assert {
            "source",
            "sha256_onnx",
            "sha256_weights",
            "input",
            "colour",
            "normalisation",
            "outputs",
            "licence",
        } <= set(m)


def test_global_options_work_before_or_after_the_command(capsys, samples, models_dir):
    photo = samples / "portraits/kit_harington_1.jpg"
    results = []
    for args in (
        ["detect", "--json", photo],
        ["--min-face", 300, "detect", "--json", photo],
        ["detect", "--min-face", 300, "--json", photo],
    ):
        code, out, _ = run(capsys, *args)
        assert code == 0
        results.append(json.loads(out)["faces"])
    assert results[1] == results[2]  # the same option, before or after the command
    assert results[1] != results[0]  # and it did change the detector's pyramid


@pytest.mark.parametrize("ext", ["png", "bmp", "webp"])
def test_tiny_images_are_a_clear_error_in_every_command(capsys, tmp_path, samples, models_dir, ext):
    tiny = tmp_path / f"tiny.{ext}"
    cv2.imwrite(str(tiny), np.full((5, 5, 3), 128, np.uint8))
    gallery = ["--gallery", tmp_path / "g.db"]
    for command in (["detect", tiny], ["embed", tiny], ["recognize", tiny], ["enroll", "Tiny", tiny]):
        code, _, err = run(capsys, *gallery, *command)
        assert code == 1 and "5x5 pixels is too small" in err, (command, err)
    # a folder goes on past the bad file
    folder = tmp_path / "photos"
    folder.mkdir()
    tiny.rename(folder / tiny.name)
    (folder / "biden.jpg").write_bytes((samples / "portraits/joe_biden_1.jpg").read_bytes())
    code, out, err = run(capsys, *gallery, "recognize", "--json", folder)
    assert code == 1 and "too small" in err and json.loads(out.splitlines()[-1])["path"].endswith("biden.jpg")


def test_unwritable_output_is_refused_before_any_work(capsys, tmp_path, samples, models_dir):
    photo = samples / "portraits/joe_biden_1.jpg"
    for output, message in ((tmp_path / "missing" / "x.jpg", "no folder"), (tmp_path / "x.xyz", "cannot write")):
        code, out, err = run(capsys, "--gallery", tmp_path / "g.db", "recognize", photo, "--output", output)
        assert code == 1 and message in err and out == "", err  # refused before recognising anything


def test_a_damaged_video_is_not_reported_as_done(capsys, tmp_path, samples, models_dir):
    video = clip(samples, tmp_path, 20)
    data = video.read_bytes()
    video.write_bytes(data[: len(data) // 2])  # the header still says 20 frames
    code, out, err = run(capsys, "--gallery", tmp_path / "g.db", "recognize", "--json", video)
    assert code == 1 and "of 20 frames" in err
    assert 0 < len(out.splitlines()) < 20


def test_recognize_takes_several_paths_and_folders(capsys, samples, tmp_path, models_dir):
    g = tmp_path / "g.db"
    run(capsys, "--gallery", g, "enroll", "Kit Harington", samples / "portraits/kit_harington_1.jpg")
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "a.jpg").write_bytes((samples / "portraits/kit_harington_2.jpg").read_bytes())
    out = tmp_path / "annotated"
    code, stdout, err = run(
        capsys, "--gallery", g, "recognize", "--json", samples / "portraits/joe_biden_1.jpg", folder, "--output", out
    )
    assert code == 0, err
    docs = [json.loads(line) for line in stdout.splitlines()]  # one line per image
    assert [Path(d["path"]).name for d in docs] == ["joe_biden_1.jpg", "a.jpg"]
    assert docs[1]["faces"][0]["identity"] == "Kit Harington"
    assert sorted(p.name for p in out.iterdir()) == ["a.jpg", "joe_biden_1.jpg"]


def test_a_face_under_the_score_threshold_never_reaches_the_matcher(capsys, samples, tmp_path):
    """The group photo holds a false face (a dark patch) that O-Net scores about 0.8 (docs/accuracy.md)."""
    photo = samples / "groups/joe_biden_and_barack_obama_2.jpg"
    g = tmp_path / "g.db"
    code, out, _ = run(capsys, "--gallery", g, "recognize", "--json", photo)
    default = json.loads(out)["faces"]
    code, out, _ = run(capsys, "--gallery", g, "recognize", "--json", "--score-threshold", "0.85", photo)
    strict = json.loads(out)["faces"]
    assert code == 0 and len(strict) < len(default)
    assert min(f["score"] for f in default) < 0.85 <= min(f["score"] for f in strict)
    assert all(f["identity"] != "unchecked" for f in strict)  # every kept face was compared


def test_bench_track_runs_the_frames_as_one_stream(capsys, samples, tmp_path, models_dir):
    video = clip(samples, tmp_path, 12)
    code, out, _ = run(capsys, "bench", "--json", "--track", "--frames", 12, video)
    report = json.loads(out)
    assert code == 0 and report["tracked"] and report["frames"] == 12 and report["faces_per_frame"] == 1.0
    # full detections on some frames, O-Net alone on the others, embeddings only on a few
    assert {"pnet", "follow", "embed"} <= set(report["stages_mean"])
    assert report["mean_ms_per_frame"] >= report["ms_per_frame"] > 0


def test_bench_faces_makes_frames_with_that_many_people(capsys, samples, tmp_path, models_dir):
    code, out, _ = run(
        capsys, "--min-face", 30, "bench", "--json", "--faces", 1, 2, "--frames", 2, samples / "portraits"
    )
    reports = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["faces_asked"] for r in reports] == [1, 2]
    assert [r["faces_per_frame"] for r in reports] == [1.0, 2.0]
    assert reports[1]["stages"]["embed"] > 0
    plot = tmp_path / "stages.png"
    assert run(capsys, "bench", "--faces", 1, "--frames", 1, "--plot", plot, samples / "portraits")[0] == 0
    assert cv2.imread(str(plot)) is not None
    with pytest.raises(SystemExit) as usage:
        main(["bench", "--faces", "0"])
    assert usage.value.code == 2


def test_a_plot_without_matplotlib_is_refused_before_any_work(capsys, tmp_path, monkeypatch):
    import importlib.util

    from face_recognition_trt.tooling import bench

    def no_work(*args, **kwargs):
        raise AssertionError("frames were read although the plot cannot be made")

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    monkeypatch.setattr(bench, "load_frames", no_work)
    code, _, err = run(capsys, "bench", "--faces", 1, "--plot", tmp_path / "p.png", tmp_path)
    assert code == 1 and "matplotlib" in err and "[eval]" in err and "Traceback" not in err
    assert not (tmp_path / "p.png").exists()


@pytest.mark.torch
def test_bench_compares_whole_frames_with_the_peer_pipeline(capsys, samples, models_dir):
    import importlib.util

    from conftest import missing

    for module in ("torch", "facenet_pytorch"):  # found, not imported: the reference handles torchvision
        if importlib.util.find_spec(module) is None:
            missing(module, "the peer needs torch and `pip install --no-deps facenet-pytorch==2.6.0`")
    photo = samples / "groups/barack_obama_and_joe_biden_1.jpg"
    code, out, _ = run(capsys, "bench", "--json", "--frames", 1, "--compare", "facenet-pytorch-pipeline", photo)
    report = json.loads(out)
    peer = report["compare"]["facenet-pytorch"]
    assert code == 0 and "InceptionResnetV1" in peer["what"]
    assert report["speedup"] == pytest.approx(peer["ms_per_frame"] / report["ms_per_frame"], rel=0.02)
