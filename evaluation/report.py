"""Report files of an HMI-Bench evaluation: ``report.json``, ``report.md``, ``captions.png``, ``radar.png``,
``per_sample.jsonl``.

``report.md`` prints our numbers beside the paper's HMI-Bench rows (`paper_results`); ``captions.png`` draws our
caption metrics beside the paper's rows (always), the radar plot our five judged dimensions beside the paper's M-ACM
rows (when a judge ran).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from .judge import DIMENSION_TITLES, DIMENSIONS
from .paper_results import PAPER_CAPTION_METRICS, PAPER_DIMENSION_SCORES, PAPER_REFERENCE_MODEL, PAPER_SOURCE
from .runner import EvaluationResult, dimension_scores

__all__ = ["render_markdown", "plot_caption_metrics", "plot_radar", "write_report"]

logger = logging.getLogger(__name__)

_PAPER_CAPTION_COLUMNS = ("BLEU-1", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr")
_OUR_CAPTION_COLUMNS = ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "ROUGE-1", "ROUGE-2", "ROUGE-L", "CIDEr")


def _fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + [":---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render_markdown(summary: dict, label: str = "ours") -> str:
    """``report.md``: our caption metrics, dimensions and true/false accuracy beside the paper's rows, and the
    motion-grounded consistency."""
    scores = summary["caption_metrics"]["scores"]
    backend = summary["caption_metrics"]["backend"]
    lines = [
        "# HMI-Bench evaluation",
        "",
        f"- benchmark: `{summary['bench']}` ({summary['n_bench_videos']} videos)",
        f"- source: `{json.dumps(summary.get('source', {}))}`",
        f"- scored: {summary['n_scored']} videos; missing predictions: {len(summary['missing_videos'])}; "
        f"predictions matching no video: {len(summary['extra_videos'])}",
        f"- caption metric backend: `{backend}`"
        + (
            " (pycocoevalcap, Java)"
            if backend == "coco"
            else " (pure Python; METEOR re-implemented with modules "
            + ", ".join(summary["caption_metrics"].get("meteor_modules", []))
            + ", Java METEOR 1.5 adds paraphrases)"
        ),
        "",
        "## Caption metrics",
        "",
        f"Paper rows: {PAPER_SOURCE}.",
        "",
    ]
    rows = [[f"**{label}**"] + [_fmt(scores.get(c)) for c in _PAPER_CAPTION_COLUMNS]]
    rows += [
        [model] + [_fmt(values.get(c)) for c in _PAPER_CAPTION_COLUMNS]
        for model, values in PAPER_CAPTION_METRICS.items()
    ]
    lines += _table(["Model", *_PAPER_CAPTION_COLUMNS], rows)
    if summary.get("captions_png"):
        lines += ["", f"![Caption metrics beside the paper's rows]({summary['captions_png']})"]
    lines += ["", "All our caption metrics:", ""]
    lines += _table(list(_OUR_CAPTION_COLUMNS), [[_fmt(scores.get(c), 4) for c in _OUR_CAPTION_COLUMNS]])

    lines += ["", "## Human motion understanding dimensions (0-10)", ""]
    judge = summary.get("judge", {})
    header = ["Model"] + [DIMENSION_TITLES[d] for d in DIMENSIONS] + ["Overall"]
    rows = []
    ours = dimension_scores(summary)
    if ours is None:
        lines += [f"Not scored: {judge.get('reason', 'no judge')}.", ""]
    else:
        lines += [
            f"Judge `{judge['model']}`, prompt `{judge['prompt_version']}` (sha256 {judge['prompt_sha256'][:12]}), "
            f"temperature 0, seed {judge.get('seed')}; judged {judge['n_judged']}, failed {judge['n_failed']}, "
            f"from cache {judge['n_cached']}. Our Overall is the mean of the five dimensions.",
            "",
        ]
        rows.append([f"**{label}**"] + [_fmt(ours[d], 2) for d in DIMENSIONS] + [_fmt(judge.get("overall"), 2)])
    rows += [
        [model] + [_fmt(values[d], 2) for d in DIMENSIONS] + [_fmt(values["overall"], 2)]
        for model, values in PAPER_DIMENSION_SCORES.items()
    ]
    lines += _table(header, rows)

    open_qa = summary.get("open_qa") or {}
    lines += ["", "## Open-ended questions (LLM-judged, 0-10)", ""]
    if not open_qa.get("enabled"):
        lines += [f"Not scored: {open_qa.get('reason', 'no judge')}."]
    elif not open_qa.get("n_answered"):
        lines += [f"No answers to the {open_qa.get('n_questions', 0)} open-ended questions in the predictions."]
    else:
        lines += [
            f"Prompt `{open_qa['prompt_version']}`; {open_qa['n_answered']} of {open_qa['n_questions']} questions "
            f"answered, judged {open_qa['n_judged']}, failed {open_qa['n_failed']}, from cache {open_qa['n_cached']}; "
            f"mean {_fmt(open_qa['mean'], 2)}. The paper's dimension table is not split by source (captions or QA).",
            "",
        ]
        lines += _table(
            ["Dimension", "Mean score", "Questions"],
            [
                [DIMENSION_TITLES.get(d, d), _fmt(v, 2), str(open_qa["n_per_dimension"][d])]
                for d, v in open_qa["per_dimension"].items()
            ],
        )

    tf = summary.get("true_false") or {}
    lines += ["", "## True/false questions", ""]
    if tf.get("accuracy") is None:
        lines += ["No true/false questions in the benchmark's QA file (or no QA file)."]
    else:
        lines += [
            f"Accuracy {tf['accuracy']:.4f} ({tf['n_correct']}/{tf['n_questions']}; unanswered {tf['n_unanswered']}, "
            f"unparsable {tf['n_unparsable']}). The paper reports no true/false accuracy to compare with."
        ]
        if tf.get("per_dimension"):
            lines += [""] + _table(
                ["Dimension", "Accuracy"], [[d, _fmt(a, 4)] for d, a in tf["per_dimension"].items()]
            )
    lines += _consistency_lines(summary.get("consistency") or {})
    if summary["missing_videos"]:
        lines += ["", "## Missing predictions", ""] + [f"- `{v}`" for v in summary["missing_videos"][:50]]
        if len(summary["missing_videos"]) > 50:
            lines.append(f"- ... and {len(summary['missing_videos']) - 50} more (see report.json)")
    return "\n".join(lines) + "\n"


def _consistency_lines(consistency: dict) -> list[str]:
    """The motion-grounded consistency section: our means beside the reference captions', and the skipped clips."""
    lines = ["", "## Motion-grounded consistency", ""]
    if not consistency.get("enabled"):
        return lines + [f"Not scored: {consistency.get('reason', 'not run')}."]
    sources = ", ".join(f"{k} {v}" for k, v in consistency["pose_sources"].items()) or "none"
    lines += [
        f"Body parts and sides the captions name against the limbs that moved in the clips' pose tracks "
        f"(definitions in `evaluation/README.md`). Scored {consistency['n_scored']} of {consistency['n_clips']} "
        f"clips (pose data: {sources}); skipped {consistency['n_skipped']}.",
        "",
    ]
    references = consistency.get("references", {})
    rows = [
        [title, _fmt(consistency[name]), str(consistency[f"n_{name}"]), _fmt(references.get(name)),
         str(references.get(f"n_{name}", 0))]
        for name, title in (("limb_consistency", "Limb consistency"), ("side_consistency", "Side consistency"),
                            ("limb_coverage", "Limb coverage"))
    ]  # fmt: skip
    lines += _table(["Score", "Ours", "Clips", "Reference captions", "Captions"], rows)
    if consistency["skipped"]:
        lines += ["", "Skipped clips: " + ", ".join(f"{reason} {n}" for reason, n in consistency["skipped"].items())]
    return lines


def plot_caption_metrics(scores: dict[str, float], path: str | Path, label: str = "ours") -> Path:
    """Grouped bars of BLEU-1, BLEU-4, METEOR and ROUGE-L (left) and CIDEr (right, its own scale): ours beside every
    row of the paper's caption table. Writes a PNG and returns its path."""
    import numpy as np
    from matplotlib.figure import Figure

    rows = [(label, scores)] + [(f"paper: {name}", values) for name, values in PAPER_CAPTION_METRICS.items()]
    figure = Figure(figsize=(10, 4.5))
    bounded, cider = figure.subplots(1, 2, gridspec_kw={"width_ratios": [4, 1]})
    width = 0.8 / len(rows)
    for axis, columns in ((bounded, _PAPER_CAPTION_COLUMNS[:-1]), (cider, _PAPER_CAPTION_COLUMNS[-1:])):
        positions = np.arange(len(columns))
        for k, (name, values) in enumerate(rows):
            heights = [values.get(c) or 0.0 for c in columns]
            style = {"edgecolor": "black", "linewidth": 1.2} if k == 0 else {}
            axis.bar(positions + (k - (len(rows) - 1) / 2) * width, heights, width, label=name, **style)
        axis.set_xticks(positions, columns)
        axis.grid(axis="y", alpha=0.3)
    bounded.set_ylim(0, 1)
    bounded.set_title("HMI-Bench caption metrics")
    cider.set_title("CIDEr")
    bounded.legend(fontsize=7, ncol=2, loc="upper right")
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=110)
    return path


def plot_radar(ours: dict[str, float], path: str | Path, label: str = "ours") -> Path:
    """Radar plot of the five dimensions: ours against the paper's M-ACM rows. Writes a PNG and returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    angles = np.linspace(0, 2 * np.pi, len(DIMENSIONS), endpoint=False).tolist()
    figure, axis = plt.subplots(figsize=(6.5, 6.5), subplot_kw={"projection": "polar"})
    series = [(label, ours, "tab:red", 2.5)]
    series += [
        (f"paper: {name}", PAPER_DIMENSION_SCORES[name], color, 1.5)
        for name, color in ((PAPER_REFERENCE_MODEL, "tab:blue"), ("M-ACM Llama3-8B", "tab:green"))
    ]
    for name, values, color, width in series:
        points = [values[d] for d in DIMENSIONS]
        axis.plot(angles + angles[:1], points + points[:1], color=color, linewidth=width, label=name)
        axis.fill(angles + angles[:1], points + points[:1], color=color, alpha=0.08)
    axis.set_xticks(angles)
    axis.set_xticklabels(
        [DIMENSION_TITLES[d].replace(" and ", "\nand ").replace(" with ", "\nwith ") for d in DIMENSIONS], fontsize=8
    )
    axis.set_ylim(0, 10)
    axis.set_rlabel_position(36)  # between the first two axes, clear of their labels
    axis.set_yticks([2, 4, 6, 8, 10])
    axis.set_title("HMI-Bench: human motion understanding (0-10)", pad=20)
    axis.legend(loc="lower right", bbox_to_anchor=(1.3, -0.1), fontsize=8)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def write_report(result: EvaluationResult, out_dir: str | Path, label: str = "ours") -> dict[str, Path]:
    """Writes ``report.json``, ``report.md``, ``per_sample.jsonl``, ``captions.png`` and (when judged) ``radar.png``
    into `out_dir`.

    Returns:
        `dict[str, Path]`: the files written, by kind.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "json": out_dir / "report.json",
        "markdown": out_dir / "report.md",
        "per_sample": out_dir / "per_sample.jsonl",
    }
    summary = dict(result.summary)
    summary["paper"] = {
        "source": PAPER_SOURCE,
        "caption_metrics": PAPER_CAPTION_METRICS,
        "dimension_scores": PAPER_DIMENSION_SCORES,
    }
    files["captions"] = plot_caption_metrics(summary["caption_metrics"]["scores"], out_dir / "captions.png", label)
    summary["captions_png"] = files["captions"].name
    ours = dimension_scores(summary)
    if ours is not None:
        files["radar"] = plot_radar(ours, out_dir / "radar.png", label=label)
        summary["radar_png"] = files["radar"].name
    else:
        logger.info("no judged dimensions: radar.png not drawn")
    files["json"].write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    files["markdown"].write_text(render_markdown(summary, label=label), encoding="utf-8")
    with files["per_sample"].open("w", encoding="utf-8") as handle:
        for row in result.per_sample:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    logger.info("wrote %s", ", ".join(str(p) for p in files.values()))
    return files
