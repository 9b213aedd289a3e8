"""One loader for HMI-format folders (what `build-hmi` writes, SynthMotion, a Hub dataset) and the HMI-Bench layout.

`load_hmi` returns a `datasets.Dataset` of rows in the HMI schema (`id`, `video`/`file_name`, `caption`, `qa` of
`{question, answer, type, dimension}`, ...) and the folder the rows' paths start from; with `decode_frames=True` each
example also carries its decoded `keyframes` and `motion_frames` (`(H, W, 3)` uint8 RGB arrays), read from the
pre-rendered files when the row lists them, else produced by the motion pathway (cached per video).

An HMI-Bench folder (`HMI-Bench.json`, optional `HMI-Bench-QA.json`, `videos/`) is read with the HMI-Bench loader
(`macm.processing.hmi.bench_format.load_bench`), which accepts the plausible shapes of the unpublished QA file and names the file,
the item and what it found when the shape is none of them. Media paths that leave the folder (absolute, `..`) are
refused in both layouts.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..keyframes import DEFAULT_NUM_KEYFRAMES
from .bench_format import BENCH_FILE, check_relative_path, load_bench

__all__ = ["MEDIA_COLUMNS", "bench_rows", "load_hmi"]

MEDIA_COLUMNS = ("file_name", "video", "keyframe_files", "motion_files", "pose_file", "joints_file")
_QA_TYPES = {"tf": "true_false", "open": "open"}


def bench_rows(root: str | os.PathLike) -> list[dict]:
    """The videos of an HMI-Bench folder as HMI rows (`caption` is the first reference, `references` all of them)."""
    bench = load_bench(root)
    return [
        {
            "id": item.video,
            "video": item.video,
            "file_name": item.video,
            "caption": item.captions[0],
            "references": item.captions,
            "qa": [
                {"question": qa.question, "answer": qa.answer, "type": _QA_TYPES[qa.kind], "dimension": qa.dimension}
                for qa in item.qa
            ],
        }
        for item in bench.items
    ]


def _bench_dataset(root: Path):
    from datasets import Dataset, Features, List, Value

    string = Value("string")
    features = Features(
        {
            "id": string,
            "video": string,
            "file_name": string,
            "caption": string,
            "references": List(string),
            "qa": List({"question": string, "answer": string, "type": string, "dimension": string}),
        }
    )
    return Dataset.from_list(bench_rows(root), features=features)


def _check_media_paths(dataset, name: str) -> None:
    for column in MEDIA_COLUMNS:
        if column not in dataset.column_names:
            continue
        for index, value in enumerate(dataset[column]):
            for path in value if isinstance(value, list) else [value]:
                if path:
                    check_relative_path(path, f"{name}: row {index} `{column}`")


class _FrameDecoder:
    """`with_transform` function adding `keyframes` and `motion_frames` to a batch of rows."""

    def __init__(self, root: Path, num_keyframes: int):
        self.root, self.num_keyframes = root, num_keyframes

    def __call__(self, batch: dict) -> dict:
        from .clips import load_clip_frames

        size = len(next(iter(batch.values())))
        keyframes, motion = [], []
        for index in range(size):
            row = {key: values[index] for key, values in batch.items()}
            frames, motion_frames = load_clip_frames(row, self.root, self.num_keyframes)
            keyframes.append(frames)
            motion.append(motion_frames)
        return {**batch, "keyframes": keyframes, "motion_frames": motion}


def load_hmi(
    name_or_path: str | os.PathLike,
    split: str = "train",
    decode_frames: bool = False,
    num_keyframes: int = DEFAULT_NUM_KEYFRAMES,
    revision: str | None = None,
):
    """Load HMI-format data or an HMI-Bench folder.

    Args:
        name_or_path (`str` or `os.PathLike`): an HMI-format folder or Hub dataset id, or an HMI-Bench folder.
        split (`str`, *optional*, defaults to `"train"`): the split of an HMI-format dataset (HMI-Bench has one).
        decode_frames (`bool`, *optional*, defaults to `False`): add `keyframes` and `motion_frames` to every
            example (decoded when the example is read).
        num_keyframes (`int`, *optional*, defaults to 16): keyframes per clip when they come from the motion pathway.
        revision (`str`, *optional*): the Hub revision of a dataset id.

    Returns:
        `tuple[datasets.Dataset, Path]`: the rows and the folder their paths are relative to.

    Raises:
        `ValueError`: the data is not HMI-format, a media path leaves the folder, or an HMI-Bench file is malformed
            (the message names the file and the item).
    """
    path = Path(name_or_path)
    # A build-hmi folder holds both layouts; its metadata.jsonl rows are the richer view.
    if (path / BENCH_FILE).is_file() and not (path / "metadata.jsonl").is_file():
        root = path.resolve()
        dataset = _bench_dataset(root)
    else:
        from .clips import load_hmi_split

        dataset, root = load_hmi_split(str(name_or_path), split=split, revision=revision)
        _check_media_paths(dataset, f"{name_or_path} ({split})")
    if decode_frames:
        dataset = dataset.with_transform(_FrameDecoder(root, num_keyframes))
    return dataset, root
