"""HMI-Bench prediction files and true/false question accuracy (the benchmark itself is read by
`macm.processing.hmi.bench_format`, re-exported here).

A predictions file is JSON lines, one object per video, matched to the benchmark by the video path exactly as the
benchmark writes it::

    {"video": "videos/xxx.mp4", "caption": "...", "answers": ["yes", "The person is ..."]}

``answers`` is optional: a list in the order of that video's QA items in HMI-Bench-QA.json, or an object mapping
question text to answer.
"""

from __future__ import annotations

import json
import logging
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from macm.processing.hmi.bench_format import (
    BENCH_FILE,
    QA_FILE,
    BenchItem,
    HmiBench,
    QAItem,
    check_relative_path,
    load_bench,
    load_qa,
    normalize_tf,
)

__all__ = [
    "BENCH_FILE",
    "QA_FILE",
    "BenchItem",
    "HmiBench",
    "Prediction",
    "QAItem",
    "answer_for",
    "check_relative_path",
    "load_bench",
    "load_predictions",
    "load_qa",
    "match_predictions",
    "normalize_tf",
    "tf_accuracy",
]

logger = logging.getLogger(__name__)


@dataclass
class Prediction:
    """A model's output for one video: its caption and, optionally, its answers to the video's questions."""

    video: str
    caption: str
    answers: list[str] | dict[str, str] | None = None


def load_predictions(path: str | Path) -> dict[str, Prediction]:
    """Reads a predictions JSON-lines file into ``{video: Prediction}``.

    Raises:
        `ValueError`: naming the line for invalid JSON, a missing ``video``/``caption``, bad ``answers`` or a
            repeated video.
    """
    path = Path(path)
    predictions: dict[str, Prediction] = {}
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{line_number}: not valid JSON ({error})") from error
            if not isinstance(record, dict):
                raise ValueError(f"{path}:{line_number}: expected an object, got {type(record).__name__}")
            video, caption = record.get("video"), record.get("caption")
            if not isinstance(video, str) or not video:
                raise ValueError(
                    f"{path}:{line_number}: 'video' must be the video path as in the benchmark, got {video!r}"
                )
            if not isinstance(caption, str):
                raise ValueError(f"{path}:{line_number}: 'caption' must be text, got {caption!r:.80}")
            answers = record.get("answers")
            if answers is not None and not (
                (isinstance(answers, list) and all(isinstance(a, (str, bool)) for a in answers))
                or (isinstance(answers, dict) and all(isinstance(a, (str, bool)) for a in answers.values()))
            ):
                raise ValueError(
                    f"{path}:{line_number}: 'answers' must be a list of texts or an object question->text, got {answers!r:.80}"
                )
            if video in predictions:
                raise ValueError(f"{path}:{line_number}: video {video!r} appears twice")
            predictions[video] = Prediction(video=video, caption=caption, answers=answers)
    return predictions


def match_predictions(
    bench: HmiBench, predictions: Mapping[str, Prediction]
) -> tuple[dict[str, Prediction], list[str], list[str]]:
    """Pairs predictions with benchmark videos by path (exact, else after normalising ``./`` and ``//``).

    Returns:
        `tuple`: ``(matched {bench video: prediction}, missing bench videos, extra prediction videos)``.
    """
    normalised = {posixpath.normpath(video): video for video in predictions}
    matched: dict[str, Prediction] = {}
    used: set[str] = set()
    for item in bench.items:
        key = item.video if item.video in predictions else normalised.get(posixpath.normpath(item.video))
        if key is not None:
            matched[item.video] = predictions[key]
            used.add(key)
    missing = [item.video for item in bench.items if item.video not in matched]
    extra = [video for video in predictions if video not in used]
    if missing:
        logger.warning("%d benchmark videos have no prediction (first: %s)", len(missing), missing[0])
    if extra:
        logger.warning("%d predictions match no benchmark video (first: %s)", len(extra), extra[0])
    return matched, missing, extra


def answer_for(qa: QAItem, prediction: Prediction | None):
    """The predicted answer to a question (`None` when the prediction gives none)."""
    if prediction is None or prediction.answers is None:
        return None
    if isinstance(prediction.answers, dict):
        return prediction.answers.get(qa.question)
    return prediction.answers[qa.index] if qa.index < len(prediction.answers) else None


def tf_accuracy(bench: HmiBench, predictions: Mapping[str, Prediction]) -> dict:
    """Accuracy on the true/false questions.

    Unanswered or unparsable answers count as wrong; their numbers are reported. Per dimension too when the QA
    file gives dimensions.

    Returns:
        `dict`: ``{"accuracy", "n_questions", "n_correct", "n_unanswered", "n_unparsable", "per_dimension",
        "per_question": [{"video", "index", "question", "answer", "predicted", "correct"}]}``; ``accuracy`` is
        `None` when the benchmark has no true/false questions.
    """
    rows = []
    for qa in bench.qa_items:
        if qa.kind != "tf":
            continue
        given = answer_for(qa, predictions.get(qa.video))
        predicted = normalize_tf(given)
        reference = normalize_tf(qa.answer)
        if reference is None:
            raise ValueError(
                f"{QA_FILE}: true/false question {qa.question!r:.60} ({qa.video}) has answer {qa.answer!r}, not yes/no/true/false"
            )
        rows.append(
            {
                "video": qa.video,
                "index": qa.index,
                "question": qa.question,
                "dimension": qa.dimension,
                "answer": reference,
                "given": given,
                "predicted": predicted,
                "correct": predicted is not None and predicted == reference,
            }
        )
    per_dimension: dict[str, float] = {}
    for dimension in sorted({r["dimension"] for r in rows if r["dimension"] is not None}):
        subset = [r for r in rows if r["dimension"] == dimension]
        per_dimension[dimension] = sum(r["correct"] for r in subset) / len(subset)
    return {
        "accuracy": sum(r["correct"] for r in rows) / len(rows) if rows else None,
        "n_questions": len(rows),
        "n_correct": sum(r["correct"] for r in rows),
        "n_unanswered": sum(r["given"] is None for r in rows),
        "n_unparsable": sum(r["given"] is not None and r["predicted"] is None for r in rows),
        "per_dimension": per_dimension,
        "per_question": rows,
    }
