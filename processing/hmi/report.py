"""The curation report of a run: counts per stage and per filter, every reject with its reasons, a duration plot.

Built from the run's state alone (`CurationState`), so it is the same for a run, a resumed run and merged shards.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .writer import atomic_write_text

__all__ = ["build_report", "list_rejects", "plot_durations", "write_report"]


def build_report(sources: list[dict], clips: list[dict]) -> dict:
    """Counts from the state's source and clip records.

    Returns:
        `dict` with `counts` (sources, failed sources, segments, too-short segments, clips by status, accepted
        seconds), `rejected_by_filter`, `failures` (source, clip and annotation errors by kind), `qa_by_dimension`,
        `qa_by_type` and `annotation` (requests made, clips that needed a retry).
    """
    segments = [s for record in sources if record["status"] == "ok" for s in record["segments"]]
    dropped = [s for record in sources if record["status"] == "ok" for s in record["dropped"]]
    status = Counter(record["status"] for record in clips)
    accepted = [record for record in clips if record["status"] == "accepted"]
    rejected_by_filter = Counter(reason["filter"] for record in clips for reason in record.get("reasons", []))
    failures = Counter(record["error_kind"] for record in [*sources, *clips] if record.get("error_kind"))
    qa = [qa for record in accepted for qa in record["row"]["qa"]]
    attempts = [len(record["annotation"]["attempts"]) for record in clips if record.get("annotation")]
    return {
        "counts": {
            "sources": len(sources),
            "sources_failed": sum(record["status"] == "failed" for record in sources),
            "segments": len(segments) + len(dropped),
            "segments_too_short": len(dropped),
            "clips_processed": len(clips),
            "clips_accepted": status["accepted"],
            "clips_rejected": status["rejected"],
            "clips_annotation_failed": status["annotation_failed"],
            "clips_failed": status["failed"],
            "accepted_seconds": round(sum(r["row"]["duration"] for r in accepted), 2),
        },
        "rejected_by_filter": dict(sorted(rejected_by_filter.items())),
        "failures": dict(sorted(failures.items())),
        "qa_by_dimension": dict(sorted(Counter(q["dimension"] for q in qa).items())),
        "qa_by_type": dict(sorted(Counter(q["type"] for q in qa).items())),
        "annotation": {"requests": sum(attempts), "clips_retried": sum(n > 1 for n in attempts)},
    }


def list_rejects(sources: list[dict], clips: list[dict]) -> list[dict]:
    """Every source, segment and clip that did not make it into the dataset, with its reasons."""
    rejects = []
    for record in sources:
        if record["status"] == "failed":
            rejects.append(
                {"kind": "source", "id": record["id"], "source": record["id"], "reasons": [record["error"]]}
            )
            continue
        for segment in record["dropped"]:
            rejects.append(
                {
                    "kind": "segment",
                    "id": f"{record['id']}@{segment['start']:.2f}-{segment['end']:.2f}",
                    "source": record["id"],
                    "reasons": [segment["reason"]],
                }
            )
    for record in clips:
        if record["status"] == "accepted":
            continue
        if record["status"] == "rejected":
            reasons = [reason["message"] for reason in record["reasons"]]
        else:
            reasons = [record.get("error") or record["status"]]
        rejects.append(
            {
                "kind": "clip",
                "id": record["id"],
                "source": record["source"],
                "status": record["status"],
                "filters": [reason["filter"] for reason in record.get("reasons", [])],
                "reasons": reasons,
            }
        )
    return rejects


def plot_durations(path: Path, segment_durations: list[float], accepted_durations: list[float]) -> None:
    """Histogram of clip durations: every segment cut from the sources, and the accepted clips (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = max([10.0, *segment_durations, *accepted_durations])
    bins = [0.5 * i for i in range(int(top / 0.5) + 2)]
    figure, axis = plt.subplots(figsize=(6, 3.5), dpi=100)
    axis.hist(segment_durations, bins=bins, color="#bbbbbb", label=f"segments ({len(segment_durations)})")
    axis.hist(accepted_durations, bins=bins, color="#1f77b4", label=f"accepted clips ({len(accepted_durations)})")
    axis.set_xlabel("duration (s)")
    axis.set_ylabel("clips")
    axis.set_title("HMI curation: clip durations")
    axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial.png")
    figure.savefig(partial)
    plt.close(figure)
    partial.replace(path)


def write_report(curation_dir: Path, sources: list[dict], clips: list[dict]) -> dict:
    """Write `report.json`, `rejects.jsonl` and `durations.png` into `curation_dir`; returns the report."""
    report = build_report(sources, clips)
    atomic_write_text(curation_dir / "report.json", json.dumps(report, indent=2) + "\n")
    rejects = list_rejects(sources, clips)
    atomic_write_text(
        curation_dir / "rejects.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects)
    )
    segments = [s["end"] - s["start"] for r in sources if r["status"] == "ok" for s in [*r["segments"], *r["dropped"]]]
    accepted = [r["row"]["duration"] for r in clips if r["status"] == "accepted"]
    plot_durations(curation_dir / "durations.png", segments, accepted)
    return report
