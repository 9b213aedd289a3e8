"""HMI-format folders on disk or on the Hub: the rows (`load_hmi_split`) and each clip's frames and joints.

An HMI-format dataset folder holds `metadata.jsonl` rows with `file_name`/`video` (the clip), `caption`, `qa`
(a list of `{"question", "answer", "type", "dimension"}`) and optionally `keyframe_files` / `motion_files`
(pre-rendered keyframes and motion frames, paths relative to the folder). Rows without pre-rendered frames get
them from the motion pathway (`extract_motion`, cached per video).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..keyframes import DEFAULT_NUM_KEYFRAMES

__all__ = ["ClipInputs", "dataset_root", "load_clip_frames", "load_clip_inputs", "load_hmi_split"]


def dataset_root(name_or_path: str, revision: str | None = None) -> Path:
    """The local folder the dataset's relative media paths start from (a Hub dataset is snapshot-downloaded)."""
    path = Path(name_or_path)
    if path.is_dir():
        return path.resolve()
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(name_or_path, repo_type="dataset", revision=revision))


TABLE_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")


def local_cache_dir(root: Path) -> Path:
    """A `datasets` cache folder that changes whenever the folder's tables or card change.

    `datasets` keys the cache of a local folder whose card declares `configs` by the folder's name and the card,
    not by its data files, so a folder regenerated in place (or another folder of the same name) would load the
    old rows. The tables (up to two levels down, as HMI folders keep them) and the card are fingerprinted here by
    path, size and modification time.
    """
    import datasets

    files = [root / "README.md", *(path for depth in ("*", "*/*") for path in root.glob(depth))]
    digest = hashlib.sha256(str(root).encode())
    for path in sorted(files):
        if (path.name == "README.md" or path.suffix in TABLE_SUFFIXES) and path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return Path(datasets.config.HF_DATASETS_CACHE) / "macm-local" / digest.hexdigest()[:16]


def load_hmi_split(name_or_path: str, split: str = "train", config: str | None = None, revision: str | None = None):
    """`datasets.load_dataset` of an HMI-format folder or Hub dataset, and its media root."""
    import datasets

    root = dataset_root(name_or_path, revision)
    cache_dir = str(local_cache_dir(root)) if Path(name_or_path).is_dir() else None
    dataset = datasets.load_dataset(str(root), name=config, split=split, cache_dir=cache_dir)
    missing = {"caption"} - set(dataset.column_names)
    if missing or not ({"video", "file_name", "keyframe_files"} & set(dataset.column_names)):
        raise ValueError(
            f"{name_or_path} (split {split!r}) is not HMI-format: it needs `caption` and one of `video`/`file_name`/"
            f"`keyframe_files`; it has columns {dataset.column_names}"
        )
    return dataset, root


def _open_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@dataclass
class ClipInputs:
    """What the two pathways of one clip read.

    Args:
        keyframes (`list[np.ndarray]`): RGB keyframes, `(H, W, 3)` uint8.
        motion_frames (`list[np.ndarray]`): the motion frames, one per keyframe.
        keypoints (`np.ndarray` of shape `(N, 17, 3)`, *optional*): COCO-17 keypoints of the keyframes in pixels
            (x, y, score), for a model whose motion pathway reads joints; `None` when the row has none.
    """

    keyframes: list[np.ndarray]
    motion_frames: list[np.ndarray]
    keypoints: np.ndarray | None = None


def _row_keypoints(row: dict, root: Path) -> np.ndarray | None:
    """`(F, 17, 3)` pixel keypoints of a row's pre-rendered frames: its ground-truth 3D joints (`joints_file`,
    camera coordinates) projected with its `intrinsics`, score 1."""
    if not (row.get("joints_file") and row.get("intrinsics")):
        return None
    from macm.processing.synth.render_rgb import project_points

    joints = np.load(root / row["joints_file"])
    if row.get("keyframe_indices") is not None:
        joints = joints[row["keyframe_indices"]]
    pixels = project_points(joints, row["intrinsics"])
    return np.concatenate([pixels, np.ones((*pixels.shape[:2], 1))], axis=-1)


def load_clip_inputs(
    row: dict, root: Path, num_keyframes: int = DEFAULT_NUM_KEYFRAMES, motion_frames: bool = True
) -> ClipInputs:
    """A row's keyframes, motion frames and keypoints.

    Pre-rendered frames (`keyframe_files`/`motion_files`) are used when listed: with more frames than
    `num_keyframes`, the project's pose-driven sampler (`macm.processing.keyframes.select_keyframes`) picks them when
    the row has joints, else they are spread evenly. Rows without pre-rendered frames go through the motion pathway
    (`extract_motion`, cached per video). With `motion_frames=False` (a model whose motion pathway reads joints),
    pre-rendered motion frames are not read and `motion_frames` is empty.
    """
    if row.get("keyframe_files") and row.get("motion_files"):
        from macm.processing.keyframes import select_keyframes, uniform_indices
        from macm.processing.pose.types import COCO17_NAMES

        if len(row["keyframe_files"]) != len(row["motion_files"]):
            raise ValueError(
                f"row {row.get('id')}: {len(row['keyframe_files'])} keyframe files but {len(row['motion_files'])} "
                "motion files"
            )
        keypoints = _row_keypoints(row, root)
        count = len(row["keyframe_files"])
        if keypoints is not None and len(keypoints) != count:
            raise ValueError(f"row {row.get('id')}: {count} frames but joints for {len(keypoints)}")
        if keypoints is not None:
            picks = select_keyframes(keypoints, num_keyframes, COCO17_NAMES)
        else:
            picks = uniform_indices(count, num_keyframes)
        return ClipInputs(
            keyframes=[_open_rgb(root / row["keyframe_files"][i]) for i in picks],
            motion_frames=[_open_rgb(root / row["motion_files"][i]) for i in picks] if motion_frames else [],
            keypoints=None if keypoints is None else keypoints[picks],
        )
    from macm.processing.pipeline import extract_motion

    video = row.get("video") or row.get("file_name")
    result = extract_motion(root / video, num_keyframes=num_keyframes, progress=False)
    return ClipInputs(result.keyframes, result.motion_frames, result.keyframe_keypoints)


def load_clip_frames(
    row: dict, root: Path, num_keyframes: int = DEFAULT_NUM_KEYFRAMES
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The keyframes and motion frames of one row (see `load_clip_inputs`)."""
    inputs = load_clip_inputs(row, root, num_keyframes)
    return inputs.keyframes, inputs.motion_frames
