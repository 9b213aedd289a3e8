"""Join the output folders of `--shard i/n` runs into one dataset folder.

The shards' states are united (a source or clip found in two shards must have the same record in both), the media
of their accepted clips and their raw annotator replies are linked (or copied across file systems) into the output,
and the folder is finalized from the merged state exactly as a single run's would be. Shards made with different
settings are refused.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .build import CURATION_DIR, SETTINGS_FILE, STATE_FILE, finalize_output
from .state import CurationState, SettingsMismatchError, check_settings, lock_output
from .writer import atomic_write_text

__all__ = ["merge_outputs"]


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _settings(folder: Path) -> dict:
    path = folder / CURATION_DIR / SETTINGS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a build-hmi output (no {CURATION_DIR}/{SETTINGS_FILE})")
    settings = json.loads(path.read_text(encoding="utf-8"))
    settings.pop("shard", None)
    return settings


def _media(record: dict) -> list[str]:
    paths = []
    if record["status"] == "accepted":
        row = record["row"]
        paths += [row["file_name"], row["pose_file"], *row["keyframe_files"], *row["motion_files"]]
    if record.get("annotation"):
        paths.append(record["annotation"]["file"])
    return paths


def merge_outputs(inputs: list[str | os.PathLike], out_dir: str | os.PathLike) -> dict:
    """Merge shard outputs into `out_dir` (created; a folder holding an earlier merge of the same settings is redone).

    Returns:
        `dict`: the curation report of the merged folder.

    Raises:
        `FileNotFoundError`: an input is not a build output.
        `SettingsMismatchError`: inputs differ in settings, or `out_dir` holds a run of other settings.
        `ValueError`: `out_dir` is one of the inputs, or a clip has different records in two shards.
    """
    folders = [Path(folder) for folder in inputs]
    root = Path(out_dir)
    if not folders:
        raise ValueError("nothing to merge: give the output folders of the shards")
    if any(folder.resolve() == root.resolve() for folder in folders):
        raise ValueError(f"--out {root} is one of the folders to merge; write the merge to a new folder")
    settings = _settings(folders[0])
    for folder in folders[1:]:
        other = _settings(folder)
        if other != settings:
            changed = sorted(k for k in set(settings) | set(other) if settings.get(k) != other.get(k))
            raise SettingsMismatchError(f"{folder} was built with other settings than {folders[0]}: {changed}")
    merged: dict[tuple[str, str], tuple[dict, Path]] = {}
    for folder in folders:
        for key, record in CurationState(folder / CURATION_DIR / STATE_FILE).records.items():
            if key in merged and merged[key][0] != record:
                raise ValueError(f"{key[0]} {key[1]!r} has different records in {merged[key][1]} and {folder}")
            merged.setdefault(key, (record, folder))

    curation = root / CURATION_DIR
    lock = lock_output(curation / ".lock")
    try:
        check_settings(curation / SETTINGS_FILE, {**settings, "shard": "merged"})
        for (kind, _), (record, folder) in merged.items():
            if kind == "clip":
                for relative in _media(record):
                    source = folder / relative
                    if not source.is_file():
                        raise FileNotFoundError(f"{folder}: {relative} is missing (clip {record['id']})")
                    _link_or_copy(source, root / relative)
        lines = [json.dumps(record, ensure_ascii=False, sort_keys=True) for _, (record, _) in sorted(merged.items())]
        atomic_write_text(curation / STATE_FILE, "".join(line + "\n" for line in lines))
        return finalize_output(root)
    finally:
        lock.close()
