"""`macm eval --predictions` end to end on a tiny benchmark folder, with and without a (fake) judge."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from evaluation_helpers import FakeChatServer
from PIL import Image

import macm.cli
from macm.evaluation.bench import Prediction, load_bench, tf_accuracy
from macm.evaluation.caption_metrics import compute_caption_metrics
from macm.evaluation.judge import DIMENSIONS

CAPTIONS = [
    {
        "video": "videos/0001.mp4",
        "caption": "A man in a grey hoodie raises his left arm above his head and waves slowly.",
    },
    {"video": "videos/0002.mp4", "caption": "A woman squats, picks up a box with both hands and stands up, frowning."},
    {"video": "videos/0003.mp4", "caption": "The boy kicks the ball with his right foot, then runs forward smiling."},
    {"video": "videos/0004.mp4", "caption": "An old man leans on his cane and takes three short steps."},
]
QA = {
    "videos/0001.mp4": [
        {"question": "Does the man raise his right arm?", "answer": "No", "type": "true/false", "dimension": "details_of_movements"},
        {"question": "Why does he wave?", "answer": "To greet someone.", "type": "open", "dimension": "motivation_and_reason"},
    ],
    "videos/0002.mp4": [{"question": "Is the woman frowning?", "answer": "Yes", "type": "true/false", "dimension": "micro_expressions_and_emotions"}],
    "videos/0003.mp4": [{"question": "Does the boy kick with his left foot?", "answer": "False", "type": "true/false"}],
}  # fmt: skip
PREDICTIONS = [
    {"video": "videos/0001.mp4", "caption": "A man raises his left arm and waves.", "answers": ["No.", "He greets a friend."]},
    {"video": "videos/0002.mp4", "caption": "A woman bends down and lifts a box.", "answers": ["No"]},
    {"video": "videos/0003.mp4", "caption": "A boy kicks a ball with his right foot and runs.", "answers": ["false"]},
    {"video": "videos/9999.mp4", "caption": "Not in the benchmark."},
]  # fmt: skip
JUDGE_SCORES = [dict(zip(DIMENSIONS, s, strict=True)) for s in ([6, 4, 3, 2, 5], [5, 7, 4, 1, 6], [8, 6, 5, 4, 7])]


@pytest.fixture
def bench_dir(tmp_path) -> Path:
    root = tmp_path / "HMI-Bench"
    (root / "videos").mkdir(parents=True)
    (root / "HMI-Bench.json").write_text(json.dumps(CAPTIONS))
    (root / "HMI-Bench-QA.json").write_text(json.dumps(QA))
    return root


@pytest.fixture
def predictions_file(tmp_path) -> Path:
    path = tmp_path / "predictions.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PREDICTIONS))
    return path


def run_cli(monkeypatch, *argv: str) -> int:
    monkeypatch.setattr(macm.cli, "COMMAND_MODULES", ("macm.evaluation.cli",))
    return macm.cli.main(["eval", *map(str, argv)])


def test_eval_predictions_without_judge(monkeypatch, bench_dir, predictions_file, tmp_path):
    out = tmp_path / "out"
    assert (
        run_cli(
            monkeypatch,
            "--bench",
            bench_dir,
            "--predictions",
            predictions_file,
            "--out",
            out,
            "--backend",
            "python",
            "--no-progress",
        )
        == 0
    )
    report = json.loads((out / "report.json").read_text())
    rows = [json.loads(line) for line in (out / "per_sample.jsonl").read_text().splitlines()]
    markdown = (out / "report.md").read_text()
    assert not (out / "radar.png").exists()
    # the caption metrics are drawn beside the paper's rows even without a judge
    assert (
        report["captions_png"] == "captions.png"
        and "![Caption metrics beside the paper's rows](captions.png)" in markdown
    )
    with Image.open(out / "captions.png") as picture:
        assert picture.format == "PNG" and picture.size == (1100, 495)
        assert np.asarray(picture.convert("L")).std() > 10  # not a blank canvas

    # The numbers are those of a direct computation on the matched videos.
    scored = [p for p in PREDICTIONS if p["video"] != "videos/9999.mp4"]
    refs = {c["video"]: [c["caption"]] for c in CAPTIONS if c["video"] in {p["video"] for p in scored}}
    direct = compute_caption_metrics({p["video"]: p["caption"] for p in scored}, refs, backend="python")
    assert report["caption_metrics"] == {
        "backend": "python",
        "meteor_modules": direct.meteor_modules,
        "scores": direct.corpus,
    }
    assert [r["video"] for r in rows] == [p["video"] for p in scored]
    assert all(r["caption_metrics"] == direct.per_sample[r["video"]] for r in rows)

    assert report["missing_videos"] == ["videos/0004.mp4"] and report["extra_videos"] == ["videos/9999.mp4"]
    assert report["n_scored"] == 3 and report["n_bench_videos"] == 4
    bench = load_bench(bench_dir)
    expected_tf = tf_accuracy(
        bench, {p["video"]: Prediction(p["video"], p["caption"], p.get("answers")) for p in scored}
    )
    assert report["true_false"]["accuracy"] == expected_tf["accuracy"] == 2 / 3
    assert report["judge"]["enabled"] is False and "not scored" in report["judge"]["reason"]
    assert report["paper"]["caption_metrics"]["M-ACM Qwen2-7B"]["CIDEr"] == 0.807

    assert "| M-ACM Qwen2-7B | 0.495 | 0.124 | 0.338 | 0.327 | 0.807 |" in markdown
    assert f"| **ours** | {direct.corpus['BLEU-1']:.3f} |" in markdown
    assert "Not scored: no judge given" in markdown
    assert "Accuracy 0.6667 (2/3" in markdown


def test_eval_with_judge_draws_radar_and_reruns_from_cache(monkeypatch, bench_dir, predictions_file, tmp_path):
    replies = {c["video"]: s for c, s in zip(CAPTIONS, JUDGE_SCORES, strict=False)}

    def reply(n, body):
        user = body["messages"][1]["content"]
        if "<question>" in user:  # the open-ended question prompt: "He greets a friend." is the only answer
            assert "Why does he wave?" in user and "He greets a friend." in user and "To greet someone." in user
            return 200, "Score: 8/10"
        video = next(v for v, c in ((c["video"], c["caption"]) for c in CAPTIONS) if c in user)
        return 200, "```json\n" + json.dumps(replies[video]) + "\n```"

    cache = tmp_path / "judge_cache.jsonl"
    common = ["--bench", bench_dir, "--predictions", predictions_file, "--backend", "python", "--no-progress"]
    with FakeChatServer(reply) as server:
        judge = ["--judge-url", server.url, "--judge-model", "fake-judge", "--judge-cache", cache]
        assert run_cli(monkeypatch, *common, "--out", tmp_path / "run1", *judge) == 0
        assert len(server.requests) == 4  # three captions, one open-ended answer
        assert run_cli(monkeypatch, *common, "--out", tmp_path / "run2", *judge) == 0
        assert len(server.requests) == 4  # the second run is served from the cache
        assert run_cli(monkeypatch, *common, "--out", tmp_path / "run3", *judge, "--no-judge-qa") == 0
        assert len(server.requests) == 4
    first = json.loads((tmp_path / "run1" / "report.json").read_text())
    second = json.loads((tmp_path / "run2" / "report.json").read_text())
    assert first["judge"]["dimensions"] == second["judge"]["dimensions"]
    assert second["judge"]["n_cached"] == 3 and first["judge"]["n_cached"] == 0

    expected = {d: sum(s[d] for s in JUDGE_SCORES) / 3 for d in DIMENSIONS}
    assert first["judge"]["dimensions"] == pytest.approx(expected)
    assert first["judge"]["overall"] == pytest.approx(sum(expected.values()) / 5)
    assert first["judge"]["model"] == "fake-judge" and first["judge"]["prompt_version"] == "judge_v1"
    open_qa = first["open_qa"]
    assert open_qa["n_questions"] == 1 and open_qa["n_answered"] == 1 and open_qa["n_judged"] == 1
    assert open_qa["per_dimension"] == {"motivation_and_reason": 8.0} and open_qa["mean"] == 8.0
    assert second["open_qa"]["n_cached"] == 1
    third = json.loads((tmp_path / "run3" / "report.json").read_text())
    assert third["open_qa"]["enabled"] is False and third["judge"]["n_cached"] == 3
    png = (tmp_path / "run1" / "radar.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    rows = [json.loads(line) for line in (tmp_path / "run1" / "per_sample.jsonl").read_text().splitlines()]
    assert [r["judge"]["scores"] for r in rows] == [{d: float(v) for d, v in s.items()} for s in JUDGE_SCORES]
    assert rows[0]["open_qa"][0]["score"] == 8.0 and rows[0]["open_qa"][0]["given"] == "He greets a friend."
    assert (
        "| **ours** | " + " | ".join(f"{expected[d]:.2f}" for d in DIMENSIONS)
        in (tmp_path / "run1" / "report.md").read_text()
    )


def test_judge_failures_are_reported(monkeypatch, bench_dir, predictions_file, tmp_path):
    with FakeChatServer(lambda n, body: (500, "boom")) as server:
        argv = ["--bench", bench_dir, "--predictions", predictions_file, "--out", tmp_path / "out", "--backend",
                "python", "--judge-url", server.url, "--judge-model", "m", "--judge-cache", tmp_path / "c.jsonl",
                "--judge-attempts", "1", "--no-progress"]  # fmt: skip
        assert run_cli(monkeypatch, *argv) == 0
    assert len(server.requests) == 4
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["judge"]["n_failed"] == 3 and report["judge"]["overall"] is None
    assert report["open_qa"]["n_failed"] == 1 and report["open_qa"]["mean"] is None
    rows = [json.loads(line) for line in (tmp_path / "out" / "per_sample.jsonl").read_text().splitlines()]
    assert all("HTTP 500" in r["judge"]["error"] for r in rows)
    assert "HTTP 500" in rows[0]["open_qa"][0]["error"] and rows[0]["open_qa"][0]["score"] is None
    assert not (tmp_path / "out" / "radar.png").exists()


def test_bad_inputs_exit_2(monkeypatch, bench_dir, predictions_file, tmp_path, capsys):
    assert (
        run_cli(monkeypatch, "--bench", tmp_path / "nope", "--predictions", predictions_file, "--out", tmp_path / "o")
        == 2
    )
    assert "HMI-Bench.json not found" in capsys.readouterr().err
    assert (
        run_cli(
            monkeypatch, "--bench", bench_dir, "--predictions", tmp_path / "missing.jsonl", "--out", tmp_path / "o"
        )
        == 2
    )
    unmatched = tmp_path / "unmatched.jsonl"
    unmatched.write_text(json.dumps({"video": "elsewhere/0001.mp4", "caption": "x"}) + "\n")
    assert run_cli(monkeypatch, "--bench", bench_dir, "--predictions", unmatched, "--out", tmp_path / "o") == 2
    assert "no prediction matches a benchmark video" in capsys.readouterr().err
    assert (
        run_cli(
            monkeypatch,
            "--bench",
            bench_dir,
            "--predictions",
            predictions_file,
            "--out",
            tmp_path / "o",
            "--judge-url",
            "http://x",
        )
        == 2
    )
    assert "--judge-url and --judge-model go together" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory, tiny_model, tiny_processor):
    folder = tmp_path_factory.mktemp("tiny-macm")
    tiny_model.save_pretrained(folder)
    tiny_processor.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("msd", ["--msd", "--no-msd"])
def test_eval_model_generates_scores_and_writes_predictions(monkeypatch, tmp_path, tiny_checkpoint, msd):
    """`--model`: motion pathway + tiny random checkpoint caption and answer each video, then everything is scored."""
    from macm.processing.pose import PoseBackendUnavailableError, get_pose_backend
    from macm.processing.sample_clip import make_sample_clip

    try:
        get_pose_backend("blazepose")
    except PoseBackendUnavailableError as error:
        pytest.skip(f"BlazePose model files unavailable: {error}")
    root = tmp_path / "bench"
    (root / "videos").mkdir(parents=True)
    make_sample_clip(root / "videos" / "clip.mp4", seconds=1.0, fps=10, size=(320, 180))
    (root / "HMI-Bench.json").write_text(json.dumps([{"video": "videos/clip.mp4", "caption": "A man sways."}]))
    qa = [{"video": "videos/clip.mp4", "question": "Is the person moving?", "answer": "yes", "type": "tf"},
          {"video": "videos/clip.mp4", "question": "How does he move?", "answer": "He sways.", "type": "open"}]  # fmt: skip
    (root / "HMI-Bench-QA.json").write_text(json.dumps(qa))
    out = tmp_path / "out"
    argv = ["--bench", root, "--model", tiny_checkpoint, msd, "--out", out, "--backend", "python",
            "--num-keyframes", "4", "--max-new-tokens", "8", "--no-motion-cache", "--no-progress"]  # fmt: skip
    assert run_cli(monkeypatch, *argv) == 0
    (prediction,) = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert prediction["video"] == "videos/clip.mp4" and isinstance(prediction["caption"], str)
    assert len(prediction["answers"]) == 2
    report = json.loads((out / "report.json").read_text())
    assert report["source"] == {"model": str(tiny_checkpoint), "msd": msd == "--msd", "pose_backend": "blazepose"}
    assert report["n_scored"] == 1 and report["true_false"]["n_questions"] == 1
    # The generated file re-scores to the same numbers.
    assert (
        run_cli(
            monkeypatch,
            "--bench",
            root,
            "--predictions",
            out / "predictions.jsonl",
            "--out",
            tmp_path / "again",
            "--backend",
            "python",
        )
        == 0
    )
    again = json.loads((tmp_path / "again" / "report.json").read_text())
    assert again["caption_metrics"] == report["caption_metrics"] and again["true_false"] == report["true_false"]


def test_model_that_cannot_be_loaded_exits_3(monkeypatch, bench_dir, tmp_path, capsys):
    assert (
        run_cli(monkeypatch, "--bench", bench_dir, "--model", tmp_path / "no-such-checkpoint", "--out", tmp_path / "o")
        == 3
    )
    assert "--model" in capsys.readouterr().err
