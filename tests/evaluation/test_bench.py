"""HMI-Bench folders, QA file shapes, prediction files and true/false accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from macm.evaluation.bench import (
    Prediction,
    load_bench,
    load_predictions,
    load_qa,
    match_predictions,
    normalize_tf,
    tf_accuracy,
)

CAPTIONS = [
    {"video": "videos/a.mp4", "caption": "A man raises his left arm."},
    {"video": "videos/b.mp4", "caption": "A woman jumps twice."},
]


def write_bench(root: Path, captions=CAPTIONS, qa=None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "videos").mkdir(exist_ok=True)
    (root / "HMI-Bench.json").write_text(json.dumps(captions))
    if qa is not None:
        (root / "HMI-Bench-QA.json").write_text(json.dumps(qa))
    return root


FLAT = [
    {"video": "videos/a.mp4", "question": "Does he raise his right arm?", "answer": "No", "type": "T/F", "dimension": "details_of_movements"},
    {"video": "videos/a.mp4", "question": "Why does he raise it?", "answer": "To greet someone.", "type": "open-ended"},
    {"video": "videos/b.mp4", "question": "Does she jump?", "answer": "yes"},
]  # fmt: skip
NESTED = [
    {"video": "videos/a.mp4", "qa": [{"q": "Does he raise his right arm?", "a": "False", "category": "movement"}]},
    {
        "video": "videos/b.mp4",
        "questions": [{"Q": "Does she jump?", "A": True}, {"Q": "How high?", "A": "Knee height."}],
    },
]
BY_VIDEO = {
    "videos/a.mp4": [{"question": "Does he raise his right arm?", "answer": "no", "question_type": "true/false"}],
    "videos/b.mp4": [{"question": "How high?", "answer": "Knee height.", "qa_type": "open"}],
}


@pytest.mark.parametrize(
    "qa, kinds", [(FLAT, ["tf", "open", "tf"]), (NESTED, ["tf", "tf", "open"]), (BY_VIDEO, ["tf", "open"])]
)
def test_qa_shapes(tmp_path, qa, kinds):
    bench = load_bench(write_bench(tmp_path, qa=qa))
    assert [q.kind for q in bench.qa_items] == kinds
    assert [q.index for q in bench["videos/b.mp4"].qa] == list(range(len(bench["videos/b.mp4"].qa)))
    assert all(q.question and q.answer for q in bench.qa_items)


@pytest.mark.parametrize(
    "qa, message",
    [
        ({"videos/a.mp4": "yes"}, r"HMI-Bench-QA.json: entry 'videos/a.mp4' must be a list"),
        (
            [{"video": "videos/a.mp4", "text": "?"}],
            r"HMI-Bench-QA.json: item 0 \(videos/a.mp4\) has neither a question",
        ),
        ([{"question": "q", "answer": "a"}], r"HMI-Bench-QA.json: item 0 must be an object with a 'video' path"),
        ([{"video": "videos/a.mp4", "question": "q", "answer": 3}], r"item 0 \(videos/a.mp4\) has no answer text"),
        (
            [{"video": "videos/a.mp4", "question": "q", "answer": "a", "type": "essay"}],
            r"unknown question type 'essay'",
        ),
        (
            [{"video": "videos/zz.mp4", "question": "q", "answer": "a"}],
            r"about 'videos/zz.mp4', which HMI-Bench.json lacks",
        ),
        ("just text", r"expected a list or an object"),
    ],
)
def test_bad_qa_files_fail_clearly(tmp_path, qa, message):
    with pytest.raises(ValueError, match=message):
        load_bench(write_bench(tmp_path, qa=qa))


def test_bad_caption_files_fail_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="HMI-Bench.json not found"):
        load_bench(tmp_path)
    with pytest.raises(ValueError, match=r"HMI-Bench.json: item 1 \(videos/b.mp4\) needs 'caption'"):
        load_bench(write_bench(tmp_path, captions=[CAPTIONS[0], {"video": "videos/b.mp4", "caption": 5}]))
    with pytest.raises(ValueError, match=r"HMI-Bench.json: item 1 repeats video 'videos/a.mp4'"):
        load_bench(write_bench(tmp_path, captions=[CAPTIONS[0], CAPTIONS[0]]))
    with pytest.raises(ValueError, match=r"item 0 has no 'video' path"):
        load_bench(write_bench(tmp_path, captions=[{"caption": "x"}]))
    (tmp_path / "HMI-Bench.json").write_text("[{")
    with pytest.raises(ValueError, match="HMI-Bench.json: not valid JSON"):
        load_bench(tmp_path)


def test_multiple_reference_captions(tmp_path):
    bench = load_bench(write_bench(tmp_path, captions=[{"video": "v.mp4", "caption": ["one.", "two."]}]))
    assert bench["v.mp4"].captions == ["one.", "two."] and bench.video_path(bench.items[0]) == tmp_path / "v.mp4"


def test_predictions_file_errors(tmp_path):
    path = tmp_path / "p.jsonl"
    cases = [
        ('{"video": "a", "caption": "x"}\n{oops\n', r"p.jsonl:2: not valid JSON"),
        ('{"caption": "x"}\n', r"p.jsonl:1: 'video' must be the video path"),
        ('{"video": "a"}\n', r"p.jsonl:1: 'caption' must be text"),
        ('{"video": "a", "caption": "x", "answers": 3}\n', r"p.jsonl:1: 'answers' must be a list"),
        ('{"video": "a", "caption": "x"}\n\n{"video": "a", "caption": "y"}\n', r"p.jsonl:3: video 'a' appears twice"),
    ]
    for text, message in cases:
        path.write_text(text)
        with pytest.raises(ValueError, match=message):
            load_predictions(path)


def test_match_predictions_reports_missing_and_extra(tmp_path):
    bench = load_bench(write_bench(tmp_path))
    predictions = {
        "./videos/a.mp4": Prediction("./videos/a.mp4", "x"),
        "videos/zz.mp4": Prediction("videos/zz.mp4", "y"),
    }
    matched, missing, extra = match_predictions(bench, predictions)
    assert list(matched) == ["videos/a.mp4"] and missing == ["videos/b.mp4"] and extra == ["videos/zz.mp4"]


@pytest.mark.parametrize(
    "answer, expected",
    [("Yes", True), ("yes.", True), ("TRUE", True), ("Correct, he does.", True), (True, True), ("No", False),
     ("false!", False), ("Incorrect", False), (False, False), ("maybe", None), ("", None), (None, None), (3, None)],
)  # fmt: skip
def test_normalize_tf(answer, expected):
    assert normalize_tf(answer) is expected


def test_tf_accuracy(tmp_path):
    bench = load_bench(write_bench(tmp_path, qa=FLAT))
    predictions = {
        "videos/a.mp4": Prediction("videos/a.mp4", "x", answers=["No, he raises the left one.", "To wave."]),
        "videos/b.mp4": Prediction("videos/b.mp4", "y", answers={"Does she jump?": "perhaps"}),
    }
    result = tf_accuracy(bench, predictions)
    assert result["n_questions"] == 2 and result["n_correct"] == 1 and result["accuracy"] == 0.5
    assert result["n_unparsable"] == 1 and result["n_unanswered"] == 0
    assert result["per_dimension"] == {"details_of_movements": 1.0}
    del predictions["videos/b.mp4"]
    assert tf_accuracy(bench, predictions)["n_unanswered"] == 1


def test_tf_question_with_non_boolean_answer_fails(tmp_path):
    qa = [{"video": "videos/a.mp4", "question": "Q?", "answer": "Sometimes", "type": "tf"}]
    bench = load_bench(write_bench(tmp_path, qa=qa))
    with pytest.raises(ValueError, match="has answer 'Sometimes', not yes/no/true/false"):
        tf_accuracy(bench, {})


def test_load_qa_reads_a_file_directly(tmp_path):
    path = tmp_path / "qa.json"
    path.write_text(json.dumps(FLAT))
    assert [q.question for q in load_qa(path)] == [q["question"] for q in FLAT]
