"""`build-hmi` end to end: real scene detection, BlazePose and filters on generated clips, a canned annotator.

The reference run (module fixture) builds the folder of `make_sources` once; the other tests compare what they
build (killed and resumed, sharded and merged) with it row for row.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hmi_helpers import CannedServer, bright_square_frames, write_video

from macm.evaluation.bench import load_bench
from macm.evaluation.judge import DIMENSIONS
from macm.processing.hmi.annotate import AnnotatorConfig
from macm.processing.hmi.build import BuildConfig, build_hmi
from macm.processing.hmi.merge import merge_outputs
from macm.processing.hmi.sources import Shard
from macm.processing.hmi.state import SettingsMismatchError

pytest.importorskip("scenedetect", reason="the hmi extra (PySceneDetect) is not installed")
pytest.importorskip("ai_edge_litert", reason="the default pose backend (BlazePose) runs on ai-edge-litert")

ACCEPTED = ["dancer", "two_shots", "two_shots"]


def blazepose_available() -> bool:
    from macm.processing.pose import model_files

    try:
        model_files.find_blazepose_models()
    except FileNotFoundError:
        return False
    return True


needs_blazepose = pytest.mark.skipif(
    not blazepose_available(), reason="BlazePose model files not cached (python -m macm.processing.pose.model_files)"
)


def config(url: str) -> BuildConfig:
    return BuildConfig(annotator=AnnotatorConfig(url=url, model="canned", backoff=0.01))


def rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]


def state_lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "curation" / "state.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def reference(source_videos, tmp_path_factory):
    """One uninterrupted in-process build of the source folder: `(folder, report, server requests)`."""
    if not blazepose_available():
        pytest.skip("BlazePose model files not cached")
    server = CannedServer()
    try:
        out = tmp_path_factory.mktemp("hmi-reference") / "hmi"
        cache = tmp_path_factory.mktemp("hmi-reference-cache")
        report = build_hmi(source_videos, out, config(server.url), cache_dir=cache, progress=False)
        yield out, report, list(server.requests)
    finally:
        server.close()


@needs_blazepose
def test_end_to_end_folder_loads_and_records_every_reject(reference):
    import datasets

    from macm.processing.hmi.loading import load_hmi
    from macm.trainer.data import build_sft_samples, load_hmi_split

    out, report, requests = reference
    dataset = datasets.load_dataset(str(out), split="train")
    assert sorted(dataset["id"]) == dataset["id"] and [i.split("-")[0] for i in dataset["id"]] == ACCEPTED
    example = dataset[0]
    assert example["file_name"] == f"clips/{example['id']}.mp4" and (out / example["file_name"]).is_file()
    assert example["caption"] and example["captions"]["whole"] == example["caption"]
    assert [w["end"] for w in example["captions"]["fine"]] == [3.0] and example["captions"]["contextual"] == []
    assert {qa["dimension"] for qa in example["qa"]} == set(DIMENSIONS)
    assert {qa["type"] for qa in example["qa"]} == {"open", "true_false"}
    assert len(example["keyframe_files"]) == 16 and all((out / p).is_file() for p in example["motion_files"])
    assert example["filter_stats"]["keypoint_fraction"] >= 0.9 and example["pose_backend"] == "blazepose"
    assert [r["source_start"] for r in dataset][1:] == [0.0, 2.5]  # the two shots of two_shots.mp4

    # the trainer's and the evaluator's loaders, and the loading helper with decoded frames
    train, root = load_hmi_split(str(out))
    samples = build_sft_samples(list(train), qa_ratio=1.0)
    assert sum(s["kind"] == "caption" for s in samples) == 3 and sum(s["kind"] == "qa" for s in samples) == 30
    bench = load_bench(out)
    assert len(bench) == 3 and {qa.kind for qa in bench.qa_items} == {"tf", "open"}
    decoded, _ = load_hmi(out, decode_frames=True)
    assert decoded[0]["keyframes"][0].shape == (128, 128, 3) and len(decoded[0]["motion_frames"]) == 16

    # rejects, with their reasons; the corrupt source did not stop the run
    counts = report["counts"]
    assert (counts["sources"], counts["sources_failed"], counts["segments_too_short"]) == (6, 1, 1)
    assert (counts["clips_accepted"], counts["clips_rejected"], counts["clips_failed"]) == (3, 2, 0)
    assert report["rejected_by_filter"] == {"no_person": 1, "static": 1}
    rejects = {
        r["id"].split("-")[0].split("@")[0]: r for r in map(json.loads, (out / "curation" / "rejects.jsonl").open())
    }
    assert set(rejects) == {"broken.mp4", "short.mp4", "empty", "still"}
    assert "not a readable video" in rejects["broken.mp4"]["reasons"][0]
    assert rejects["short.mp4"]["reasons"] == ["too_short"]
    assert rejects["empty"]["filters"] == ["no_person"] and rejects["still"]["filters"] == ["static"]
    assert "keypoint movement" in rejects["still"]["reasons"][0]

    # one request per accepted clip, with the keyframes as images; raw replies kept
    assert len(requests) == 3
    assert sum(part["type"] == "image_url" for part in requests[0]["messages"][1]["content"]) == 8
    raw = json.loads((out / "curation" / "annotations" / f"{example['id']}.json").read_text())
    assert raw["ok"] and json.loads(json.loads(raw["attempts"][0]["response"])["choices"][0]["message"]["content"])
    card = (out / "README.md").read_text()
    assert "path: metadata.jsonl" in card and "| static | 1 |" in card
    assert (out / "curation" / "durations.png").read_bytes()[:4] == b"\x89PNG"


def run_cli(args: list[str], log: Path) -> subprocess.Popen:
    """`macm build-hmi ARGS` in a child process, its output going to `log` (a pipe could fill up and block it)."""
    command = [sys.executable, "-m", "macm.cli", "build-hmi", *args, "--no-progress"]
    with open(log, "w") as handle:
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)


@needs_blazepose
def test_sigkill_mid_run_then_rerun_gives_the_same_rows_once(reference, source_videos, tmp_path):
    out_reference = reference[0]
    server = CannedServer(script=["ok", "hold"])  # the second annotation hangs until the builder is killed
    try:
        out = tmp_path / "hmi"
        args = ["--videos", str(source_videos), "--out", str(out), "--annotator-url", server.url]
        args += ["--annotator-model", "canned", "--annotator-backoff", "0.01", "--cache-dir", str(tmp_path / "c")]
        log = tmp_path / "build.log"
        builder = run_cli(args, log)
        deadline = time.monotonic() + 300  # generous: the machine may be shared
        while len(server.requests) < 2:
            assert builder.poll() is None, f"the build ended before it could be killed: {log.read_text()}"
            assert time.monotonic() < deadline, "the build never reached its second clip"
            time.sleep(0.05)
        os.kill(builder.pid, signal.SIGKILL)
        builder.wait()
        server.release.set()
        killed = state_lines(out)
        finished = {r["id"] for r in killed if r["kind"] == "clip"}
        assert len(finished) == 3 and not any(i.startswith("two_shots") for i in finished)
        assert not (out / "metadata.jsonl").exists()

        again = run_cli(args, log)
        assert again.wait(timeout=600) == 0, log.read_text()
    finally:
        server.close()
    assert rows(out) == rows(out_reference)
    ids = [(r["kind"], r["id"]) for r in state_lines(out)]
    assert len(ids) == len(set(ids)) == 6 + 5  # every source and every clip exactly once
    assert not (out / ".work").exists()


@needs_blazepose
def test_two_shards_and_merge_equal_one_run(reference, source_videos, tmp_path):
    out_reference, report_reference, _ = reference
    server = CannedServer()
    try:
        shards = []
        for index in range(2):
            shards.append(tmp_path / f"shard{index}")
            build_hmi(
                source_videos,
                shards[-1],
                config(server.url),
                shard=Shard(index, 2),
                cache_dir=tmp_path / "cache",
                progress=False,
            )
    finally:
        server.close()
    held = [{r["id"] for r in state_lines(folder) if r["kind"] == "source"} for folder in shards]
    assert held[0] and held[1] and not held[0] & held[1] and len(held[0] | held[1]) == 6
    report = merge_outputs(shards, tmp_path / "merged")
    assert rows(tmp_path / "merged") == rows(out_reference)
    assert report["counts"] == report_reference["counts"]
    assert report["rejected_by_filter"] == report_reference["rejected_by_filter"]
    assert (tmp_path / "merged" / rows(out_reference)[0]["keyframe_files"][3]).is_file()
    with pytest.raises(SettingsMismatchError, match="other settings"):
        build_hmi(source_videos, shards[0], BuildConfig(), shard=Shard(0, 2), progress=False)
    with pytest.raises(ValueError, match="is one of the folders to merge"):
        merge_outputs(shards, shards[1])


def test_annotation_failures_are_recorded_then_retried_on_request(canned_server, bright_backend, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    write_video(folder / "square.mp4", bright_square_frames(24))
    out = tmp_path / "hmi"
    failing = canned_server(default="500")
    settings = BuildConfig(annotator=AnnotatorConfig(url=failing.url, model="canned", retries=2, backoff=0.01))
    report = build_hmi(folder, out, settings, backend=bright_backend, cache=False, progress=False)
    assert report["counts"]["clips_annotation_failed"] == 1 and report["failures"] == {"annotation:http": 1}
    assert len(failing.requests) == 3 and rows(out) == []
    (record,) = [r for r in state_lines(out) if r["kind"] == "clip"]
    assert record["status"] == "annotation_failed" and "after 3 attempts: http: HTTP 500" in record["error"]
    raw = json.loads((out / record["annotation"]["file"]).read_text())
    assert [a["status_code"] for a in raw["attempts"]] == [500, 500, 500]
    assert all("canned HTTP 500" in a["response"] for a in raw["attempts"])
    (reject,) = map(json.loads, (out / "curation" / "rejects.jsonl").open())
    assert reject["status"] == "annotation_failed"
    assert not (out / "clips").exists() or not any((out / "clips").iterdir())

    # a re-run skips the recorded clip; --retry-failed annotates it again (same settings, the server is back)
    working = canned_server()
    settings = BuildConfig(annotator=AnnotatorConfig(url=working.url, model="canned", retries=2, backoff=0.01))
    build_hmi(folder, out, settings, backend=bright_backend, cache=False, progress=False)
    assert working.requests == []
    report = build_hmi(folder, out, settings, backend=bright_backend, cache=False, retry_failed=True, progress=False)
    assert report["counts"]["clips_accepted"] == 1 and report["counts"]["clips_annotation_failed"] == 0
    assert len(rows(out)) == 1 and rows(out)[0]["pose_backend"] == "bright-figure"


def test_curation_only_run_with_workers(bright_backend, tmp_path):
    import datasets

    folder = tmp_path / "videos"
    folder.mkdir()
    for name, moving in (("a", True), ("b", True), ("c", False)):
        write_video(folder / f"{name}.mp4", bright_square_frames(24, moving=moving))
    one = build_hmi(folder, tmp_path / "one", backend=bright_backend, cache=False, progress=False)
    two = build_hmi(folder, tmp_path / "two", backend=bright_backend, cache=False, workers=2, progress=False)
    assert one == two and one["counts"]["clips_accepted"] == 2 and one["rejected_by_filter"] == {"static": 1}
    assert rows(tmp_path / "one") == rows(tmp_path / "two")
    dataset = datasets.load_dataset(str(tmp_path / "two"), split="train")
    assert dataset["caption"] == ["", ""] and dataset["qa"] == [[], []] and dataset["annotation_model"] == [None, None]


def test_cli_refuses_inconsistent_annotation_flags(tmp_path, capsys):
    from macm.cli import main

    assert main(["build-hmi", "--videos", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "--no-annotate for a curation-only run" in capsys.readouterr().err
    code = main(
        ["build-hmi", "--videos", str(tmp_path), "--out", str(tmp_path / "o"), "--no-annotate", "--shard", "2/2"]
    )
    assert code == 2 and "0 <= i < n" in capsys.readouterr().err
