"""The Hub dataset folder of a curation run: clip media, `metadata.jsonl` and a card that `load_dataset` reads.

```
OUT/
  README.md                    card: YAML `configs` (-> metadata.jsonl) and `dataset_info.features`
  metadata.jsonl               one row per accepted clip, sorted by id
  HMI-Bench.json, HMI-Bench-QA.json   the same clips in the HMI-Bench layout, for `macm eval --bench OUT`
  clips/<id>.mp4               the clip (H.264)
  frames/<id>/keyframe_XX.png  pose-driven keyframes; motion_XX.png: the body drawn over them
  pose/<id>.npz                the clip's pose track (`PoseTrack.load_npz`)
  curation/                    state.jsonl, run.json, report.json, rejects.jsonl, durations.png, annotations/<id>.json
```

The card declares the row features, so every row has the same schema whether or not it was annotated, and the
videos stay plain paths (datasets' `Video` feature would need torchcodec; decoding is PyAV's, see
`macm.processing.video`). Paths in rows are relative to the folder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import yaml

__all__ = [
    "CLIPS_DIR",
    "FRAMES_DIR",
    "POSE_DIR",
    "atomic_write_text",
    "dataset_card",
    "hmi_features",
    "media_paths",
    "remove_clip_media",
    "write_bench_view",
    "write_clip_media",
    "write_metadata",
]

CLIPS_DIR = "clips"
FRAMES_DIR = "frames"
POSE_DIR = "pose"


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write a file through a temporary sibling and a rename, so readers never see half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def media_paths(clip_id: str, num_keyframes: int) -> dict:
    """The folder-relative paths of a clip's media."""
    frames = f"{FRAMES_DIR}/{clip_id}"
    return {
        "file_name": f"{CLIPS_DIR}/{clip_id}.mp4",
        "keyframe_files": [f"{frames}/keyframe_{i:02d}.png" for i in range(num_keyframes)],
        "motion_files": [f"{frames}/motion_{i:02d}.png" for i in range(num_keyframes)],
        "pose_file": f"{POSE_DIR}/{clip_id}.npz",
    }


def _write_png(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial.png")
    if not cv2.imwrite(str(partial), np.ascontiguousarray(rgb[..., ::-1])):
        raise OSError(f"could not write {path}")
    os.replace(partial, path)


def write_clip_media(root: Path, clip_id: str, clip_file: Path, result) -> dict:
    """Move the cut clip into `clips/` and write keyframes, motion frames and the pose track of a `MotionResult`.

    Returns:
        `dict`: the media paths (`media_paths`).
    """
    paths = media_paths(clip_id, len(result.keyframes))
    for name, image in zip(paths["keyframe_files"], result.keyframes, strict=True):
        _write_png(root / name, image)
    for name, image in zip(paths["motion_files"], result.motion_frames, strict=True):
        _write_png(root / name, image)
    pose = root / paths["pose_file"]
    pose.parent.mkdir(parents=True, exist_ok=True)
    with open(pose.with_name(f".{pose.name}.partial"), "wb") as handle:
        result.track.save_npz(handle)
    os.replace(pose.with_name(f".{pose.name}.partial"), pose)
    (root / CLIPS_DIR).mkdir(parents=True, exist_ok=True)
    os.replace(clip_file, root / paths["file_name"])
    return paths


def remove_clip_media(root: Path, clip_id: str) -> None:
    """Delete whatever media an interrupted attempt left for a clip that was not accepted."""
    (root / CLIPS_DIR / f"{clip_id}.mp4").unlink(missing_ok=True)
    (root / POSE_DIR / f"{clip_id}.npz").unlink(missing_ok=True)
    shutil.rmtree(root / FRAMES_DIR / clip_id, ignore_errors=True)


def hmi_features():
    """The `datasets.Features` of a `metadata.jsonl` row."""
    from datasets import Features, List, Value

    string, number, integer = Value("string"), Value("float64"), Value("int64")
    window = List({"start": number, "end": number, "text": string})
    return Features(
        {
            "id": string,
            "file_name": string,
            "video": string,
            "caption": string,
            "captions": {"fine": window, "contextual": window, "whole": string},
            "qa": List({"question": string, "answer": string, "type": string, "dimension": string}),
            "keyframe_files": List(string),
            "motion_files": List(string),
            "keyframe_indices": List(integer),
            "keyframe_timestamps": List(number),
            "pose_file": string,
            "duration": number,
            "fps": number,
            "width": integer,
            "height": integer,
            "num_frames": integer,
            "source": string,
            "source_video": string,
            "source_start": number,
            "source_end": number,
            "source_caption": string,
            "filter_stats": {
                "num_frames": integer,
                "person_fraction": number,
                "single_person_fraction": number,
                "keypoint_fraction": number,
                "face_fraction": number,
                "bbox_fraction": number,
                "movement": number,
            },
            "pose_backend": string,
            "annotation_model": string,
            "annotation_prompt": string,
        }
    )


def write_metadata(root: Path, rows: list[dict]) -> Path:
    """`metadata.jsonl` of the rows, sorted by id; every row must have exactly the `hmi_features` columns."""
    expected = set(hmi_features())
    lines = []
    for row in sorted(rows, key=lambda r: r["id"]):
        if set(row) != expected:
            raise ValueError(f"row {row.get('id')!r}: columns differ from the schema by {sorted(set(row) ^ expected)}")
        lines.append(json.dumps(row, ensure_ascii=False, sort_keys=False))
    path = root / "metadata.jsonl"
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return path


def write_bench_view(root: Path, rows: list[dict]) -> None:
    """`HMI-Bench.json` and `HMI-Bench-QA.json` of the rows, so the folder is also a benchmark for `macm eval`."""
    rows = sorted(rows, key=lambda r: r["id"])
    captions = [{"video": row["file_name"], "caption": row["caption"]} for row in rows]
    qa = [{"video": row["file_name"], **pair} for row in rows for pair in row["qa"]]
    atomic_write_text(root / "HMI-Bench.json", json.dumps(captions, ensure_ascii=False, indent=1) + "\n")
    atomic_write_text(root / "HMI-Bench-QA.json", json.dumps(qa, ensure_ascii=False, indent=1) + "\n")


def _table(rows: list[tuple], header: tuple[str, ...]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def dataset_card(report: dict, settings: dict, pretty_name: str = "HMI (curated)") -> str:
    """The README.md: YAML front matter (configs, features) and a card built from the curation report."""
    front = {
        "license": "other",
        "task_categories": ["video-text-to-text", "visual-question-answering"],
        "language": ["en"],
        "tags": ["human-motion", "motion-captioning", "m-acm", "hmi-format"],
        "pretty_name": pretty_name,
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": "metadata.jsonl"}]}],
        "dataset_info": {"features": hmi_features()._to_yaml_list()},
    }
    counts = report["counts"]
    filters = sorted(report["rejected_by_filter"].items(), key=lambda kv: (-kv[1], kv[0]))
    qa = report.get("qa_by_dimension", {})
    filter_settings = settings.get("filters", {})
    return f"""---
{yaml.safe_dump(front, sort_keys=False, allow_unicode=True).strip()}
---

# {pretty_name}

Human-motion clips curated from source videos with M-ACM's HMI pipeline (`macm build-hmi`): scene detection,
2-10 s clips, the paper's motion-quality filters on the pose track, pose-driven keyframes, and
{"annotation by `" + settings["annotator_model"] + "` (prompt `" + settings["prompt_version"] + "`)" if settings.get("annotate") else "no annotation (curation only)"}.

## Counts

{_table([(k.replace("_", " "), v) for k, v in counts.items()], ("", "count"))}

Clips rejected per filter (a clip can fail several):

{_table(filters or [("none", 0)], ("filter", "clips"))}

Thresholds: {", ".join(f"`{k}={v:g}`" if isinstance(v, float) else f"`{k}={v}`" for k, v in filter_settings.items())}.

{_table(sorted(qa.items()) or [("none", 0)], ("QA dimension", "pairs"))}

`curation/report.json` holds these numbers, `curation/rejects.jsonl` every rejected source, segment and clip with
its reasons, `curation/durations.png` the clip durations, `curation/annotations/` the annotator's raw replies.

## Layout

- `metadata.jsonl`: one row per clip: `id`, `file_name`/`video` (the clip), `caption` (whole clip), `captions`
  (`fine`, `contextual`: `{{start, end, text}}` windows in seconds; `whole`), `qa` (`question`, `answer`, `type`
  `open`/`true_false`, `dimension`), `keyframe_files`, `motion_files`, `keyframe_indices` and `keyframe_timestamps`
  (in the clip), `pose_file`, `duration`, `fps`, `width`, `height`, `num_frames`, `source`, `source_video`,
  `source_start`/`source_end` (seconds in the source), `source_caption`, `filter_stats`, `pose_backend`,
  `annotation_model`, `annotation_prompt`.
- `clips/`, `frames/`, `pose/`: the media the rows point at.
- `HMI-Bench.json`, `HMI-Bench-QA.json`: the same clips in the HMI-Bench layout (`macm eval --bench DIR`).

```python
from datasets import load_dataset

dataset = load_dataset("DIR", split="train")  # paths in the rows are relative to DIR
```
"""
