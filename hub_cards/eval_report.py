"""The model card's evaluation tables: `macm eval`'s `report.json` beside the paper's HMI-Bench figures."""

from __future__ import annotations

import json
from pathlib import Path

from macm.evaluation.judge import DIMENSION_TITLES, DIMENSIONS
from macm.evaluation.paper_results import PAPER_CAPTION_METRICS, PAPER_DIMENSION_SCORES, PAPER_SOURCE

__all__ = ["CAPTION_COLUMNS", "evaluation_tables"]

CAPTION_COLUMNS = ("BLEU-1", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr")  # the columns the paper reports


def _fmt(value, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _read_report(path: Path) -> dict:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"evaluation report {path} does not exist (write it with `macm eval --out DIR`)"
        ) from None
    except json.JSONDecodeError as error:
        raise ValueError(f"evaluation report {path} is not JSON: {error}") from None
    scores = (report.get("caption_metrics") or {}).get("scores") if isinstance(report, dict) else None
    if not isinstance(scores, dict):
        raise ValueError(f"evaluation report {path} has no caption_metrics.scores: not a `macm eval` report.json")
    return report


def evaluation_tables(report_path: str | Path | None, label: str = "this model") -> dict:
    """Rows of the caption-metric and dimension tables, ours first (when a report is given), then the paper's.

    Returns:
        `dict` with `caption_columns`, `caption_rows` and `dimension_columns`, `dimension_rows` (lists of cells,
        already formatted), `paper_source`, and, with a report, `settings` (benchmark, clips scored, metric
        backend, judge, true/false accuracy, decoding) and `ours` (`True`).
    """
    caption_rows, dimension_rows = [], []
    tables = {"ours": False, "settings": None}
    if report_path is not None:
        report = _read_report(Path(report_path))
        scores = report["caption_metrics"]["scores"]
        caption_rows.append([f"**{label}**"] + [_fmt(scores.get(c), 3) for c in CAPTION_COLUMNS])
        judge = report.get("judge") or {}
        dims = judge.get("dimensions") if judge.get("enabled") else None
        if dims:
            dimension_rows.append(
                [f"**{label}**"] + [_fmt(dims.get(d), 2) for d in DIMENSIONS] + [_fmt(judge.get("overall"), 2)]
            )
        true_false = report.get("true_false") or {}
        source = report.get("source") or {}
        tables["ours"] = True
        tables["settings"] = {
            "bench": Path(str(report.get("bench", "?"))).name,
            "n_scored": report.get("n_scored"),
            "n_bench_videos": report.get("n_bench_videos"),
            "backend": report["caption_metrics"].get("backend"),
            "judge": (
                f"`{judge['model']}`, prompt `{judge.get('prompt_version')}`, temperature 0, seed {judge.get('seed')}"
                if dims
                else None
            ),
            "true_false": (
                f"{true_false['accuracy']:.4f} ({true_false['n_correct']}/{true_false['n_questions']})"
                if true_false.get("accuracy") is not None
                else None
            ),
            "msd": source.get("msd"),
        }
    caption_rows += [
        [name] + [_fmt(v.get(c), 3) for c in CAPTION_COLUMNS] for name, v in PAPER_CAPTION_METRICS.items()
    ]
    dimension_rows += [
        [name] + [_fmt(v[d], 2) for d in DIMENSIONS] + [_fmt(v["overall"], 2)]
        for name, v in PAPER_DIMENSION_SCORES.items()
    ]
    tables.update(
        caption_columns=["Model", *CAPTION_COLUMNS],
        caption_rows=caption_rows,
        dimension_columns=["Model", *(DIMENSION_TITLES[d] for d in DIMENSIONS), "Overall"],
        dimension_rows=dimension_rows,
        paper_source=PAPER_SOURCE,
    )
    return tables
