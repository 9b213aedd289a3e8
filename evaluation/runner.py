"""One HMI-Bench evaluation: predictions in, the report record and per-sample rows out.

`evaluate_predictions` ties the parts together (bench matching, caption metrics, the optional LLM judge, true/false
accuracy); `report.write_report` turns its result into files. Other metrics (e.g. a motion-consistency score) plug
in through ``extra_metrics``: callables ``(bench, matched predictions) -> {"summary": {...}, "per_sample": {video:
{...}}}`` whose results land under their name in the report and the per-sample rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from .bench import HmiBench, Prediction, answer_for, match_predictions, tf_accuracy
from .caption_metrics import compute_caption_metrics
from .judge import DIMENSIONS, CaptionJudge, JudgeResult, canonical_dimension, summarize_judgements

__all__ = ["EvaluationResult", "ExtraMetric", "evaluate_predictions"]

logger = logging.getLogger(__name__)

ExtraMetric = Callable[[HmiBench, Mapping[str, Prediction]], dict]


@dataclass
class EvaluationResult:
    """What one evaluation measured.

    Args:
        summary (`dict`): the content of ``report.json``.
        per_sample (`list[dict]`): one row per scored video (``per_sample.jsonl``).
    """

    summary: dict
    per_sample: list[dict] = field(default_factory=list)


def evaluate_predictions(
    bench: HmiBench,
    predictions: Mapping[str, Prediction],
    backend: str = "auto",
    judge: CaptionJudge | None = None,
    extra_metrics: Mapping[str, ExtraMetric] | None = None,
    source: dict | None = None,
    progress: bool = True,
    judge_open_qa: bool = True,
) -> EvaluationResult:
    """Scores predictions on a benchmark.

    Args:
        bench ([`HmiBench`]): the loaded benchmark.
        predictions (`Mapping[str, Prediction]`): ``{video: Prediction}`` as `load_predictions` returns.
        backend (`str`, *optional*, defaults to `"auto"`): caption metric backend (`compute_caption_metrics`).
        judge ([`CaptionJudge`], *optional*): scores the five dimensions; without it they are skipped and the
            report says so.
        extra_metrics (`Mapping[str, ExtraMetric]`, *optional*): further metrics, see the module docstring.
        source (`dict`, *optional*): where the predictions came from (file or model and settings), for the report.
        progress (`bool`, *optional*, defaults to `True`): progress bars.
        judge_open_qa (`bool`, *optional*, defaults to `True`): with a judge, also score the predicted answers to the
            open-ended questions (0-10 each, averaged per dimension).

    Returns:
        [`EvaluationResult`].
    """
    matched, missing, extra = match_predictions(bench, predictions)
    if not matched:
        raise ValueError(
            f"no prediction matches a benchmark video: the 'video' fields must be paths as written in the benchmark "
            f"(e.g. {bench.items[0].video!r}); first prediction video: {next(iter(predictions), None)!r}"
        )
    videos = [item.video for item in bench.items if item.video in matched]
    refs = {video: bench[video].captions for video in videos}
    caption_scores = compute_caption_metrics({v: matched[v].caption for v in videos}, refs, backend=backend)

    summary: dict = {
        "schema_version": 1,
        "bench": str(bench.root),
        "source": source or {},
        "n_bench_videos": len(bench),
        "n_predictions": len(predictions),
        "n_scored": len(videos),
        "missing_videos": missing,
        "extra_videos": extra,
        "caption_metrics": {
            "backend": caption_scores.backend,
            "meteor_modules": caption_scores.meteor_modules,
            "scores": caption_scores.corpus,
        },
    }

    judge_rows: dict[str, dict] = {}
    if judge is None:
        summary["judge"] = {
            "enabled": False,
            "reason": "no judge given (--judge-url/--judge-model or --judge-local): the five dimensions were not scored",
        }
    else:
        results = judge.judge_many([(v, refs[v], matched[v].caption) for v in videos], progress=progress)
        judge_rows = {r.item_id: r.to_dict() for r in results}
        summary["judge"] = {
            "enabled": True,
            "model": judge.backend.model_name,
            "prompt_version": judge.prompt.version,
            "prompt_sha256": judge.prompt.sha256,
            "seed": getattr(judge.backend, "seed", None),
            "temperature": 0,
            **summarize_judgements(results),
        }
        if summary["judge"]["n_failed"]:
            logger.warning("the judge failed on %d videos; see per_sample.jsonl", summary["judge"]["n_failed"])

    tf = tf_accuracy(bench, matched)
    tf_rows: dict[str, list[dict]] = {}
    for row in tf.pop("per_question"):
        tf_rows.setdefault(row["video"], []).append(row)
    summary["true_false"] = tf
    summary["qa"] = {
        "n_questions": len(bench.qa_items),
        "n_true_false": sum(qa.kind == "tf" for qa in bench.qa_items),
        "n_open": sum(qa.kind == "open" for qa in bench.qa_items),
    }

    open_rows: dict[str, list[dict]] = {}
    if judge is not None and judge_open_qa:
        summary["open_qa"], open_rows = _judge_open_answers(bench, matched, judge, progress)
    else:
        reason = "no judge given" if judge is None else "open-ended answers not judged (--no-judge-qa)"
        summary["open_qa"] = {"enabled": False, "reason": reason}

    extra_rows: dict[str, dict[str, dict]] = {}
    for name, metric in (extra_metrics or {}).items():
        output = metric(bench, matched)
        summary[name] = output.get("summary", {})
        extra_rows[name] = output.get("per_sample", {})

    per_sample = []
    for video in videos:
        row = {
            "video": video,
            "prediction": matched[video].caption,
            "references": refs[video],
            "caption_metrics": caption_scores.per_sample[video],
            "judge": judge_rows.get(video),
            "true_false": tf_rows.get(video, []),
            "open_qa": open_rows.get(video, []),
        }
        for name, rows in extra_rows.items():
            row[name] = rows.get(video)
        per_sample.append(row)
    return EvaluationResult(summary=summary, per_sample=per_sample)


def _judge_open_answers(
    bench: HmiBench, matched: Mapping[str, Prediction], judge: CaptionJudge, progress: bool
) -> tuple[dict, dict[str, list[dict]]]:
    """Judges every predicted answer to an open-ended question; means per dimension (as the QA file names them)."""
    questions = [qa for qa in bench.qa_items if qa.kind == "open" and qa.video in matched]
    answered = [(qa, answer_for(qa, matched[qa.video])) for qa in questions]
    answered = [(qa, str(answer)) for qa, answer in answered if answer is not None]
    results: list[tuple] = []
    for qa, answer in tqdm(answered, desc="LLM judge (open QA)", disable=not progress):
        result: JudgeResult = judge.judge_answer(f"{qa.video}#q{qa.index}", qa.question, qa.answer, answer)
        results.append((qa, answer, result))
    rows: dict[str, list[dict]] = {}
    by_dimension: dict[str, list[float]] = {}
    for qa, answer, result in results:
        score = result.scores["score"] if result.scores else None
        dimension = (canonical_dimension(qa.dimension) or qa.dimension) if qa.dimension else "unlabelled"
        if score is not None:
            by_dimension.setdefault(dimension, []).append(score)
        rows.setdefault(qa.video, []).append(
            {"index": qa.index, "question": qa.question, "dimension": dimension, "answer": qa.answer,
             "given": answer, "score": score, "error": result.error, "cached": result.cached}
        )  # fmt: skip
    scores = [s for values in by_dimension.values() for s in values]
    summary = {
        "enabled": True,
        "prompt_version": judge.qa_prompt.version,
        "prompt_sha256": judge.qa_prompt.sha256,
        "n_questions": len(questions),
        "n_answered": len(answered),
        "n_judged": len(scores),
        "n_failed": len(results) - len(scores),
        "n_cached": sum(r.cached for _, _, r in results),
        "per_dimension": {d: sum(v) / len(v) for d, v in sorted(by_dimension.items())},
        "n_per_dimension": {d: len(v) for d, v in sorted(by_dimension.items())},
        "mean": sum(scores) / len(scores) if scores else None,
    }
    return summary, rows


def dimension_scores(summary: dict) -> dict[str, float] | None:
    """The judged five-dimension means of a report summary, or `None` when no judge ran."""
    judge = summary.get("judge", {})
    dims = judge.get("dimensions") if judge.get("enabled") else None
    return {d: dims[d] for d in DIMENSIONS} if dims else None
