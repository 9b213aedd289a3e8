"""The source videos of a curation run: a folder searched recursively, or a list file, and the shard a run takes.

A list file is one of:

- `.txt`: one video path per line (blank lines and `#` comments skipped);
- `.jsonl`: one object per line, `{"video": "path", "caption"?: "original caption", "source"?: "dataset name",
  "id"?: "stable id"}` (`"path"` is accepted for `"video"`);
- `.json`: a list of such objects, or of path strings.

Relative paths in a list are relative to the list file. A source's `id` (its path relative to the folder, or as
written in the list) names it in the run's records and the clip ids, so it must not depend on where the files are
mounted. `--shard i/n` keeps the sources whose id hashes to `i` modulo `n` (0-based), so the shards of a run
partition the sources whatever order or machine lists them.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["VIDEO_EXTENSIONS", "Shard", "Source", "list_sources", "parse_shard"]

VIDEO_EXTENSIONS = frozenset({".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv", ".ts"})


@dataclass(frozen=True)
class Source:
    """A source video.

    Args:
        id (`str`): stable name of the video (relative path with `/` separators, or the id the list gives).
        path (`str`): where the file is on this machine.
        caption (`str`, *optional*): the source dataset's own caption, handed to the annotator as a hint.
        dataset (`str`): name of the collection it comes from (the list's `source`, else the folder or list name).
    """

    id: str
    path: str
    caption: str | None = None
    dataset: str = ""


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (0-based)."""

    index: int = 0
    count: int = 1

    def __post_init__(self):
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard must be i/n with 0 <= i < n, got {self.index}/{self.count}")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, source_id: str) -> bool:
        """Whether the source belongs to this shard (by SHA-1 of its id, so independent of listing order)."""
        if self.count == 1:
            return True
        return int(hashlib.sha1(source_id.encode("utf-8")).hexdigest()[:12], 16) % self.count == self.index


def parse_shard(text: str) -> Shard:
    """`"i/n"` -> `Shard(i, n)`; raises `ValueError` naming the expected form."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"shard must look like i/n (e.g. 0/4), got {text!r}") from None
    return Shard(index, count)


def _normalise_id(text: str) -> str:
    return PurePosixPath(text.replace("\\", "/")).as_posix()


def _from_folder(folder: Path) -> list[Source]:
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)
    return [Source(id=p.relative_to(folder).as_posix(), path=str(p), dataset=folder.resolve().name) for p in paths]


def _entry(record, list_path: Path, where: str) -> Source:
    if isinstance(record, str):
        record = {"video": record}
    if not isinstance(record, dict):
        raise ValueError(f"{list_path}: {where} must be a path or an object with 'video', got {record!r:.80}")
    video = record.get("video", record.get("path"))
    if not isinstance(video, str) or not video.strip():
        raise ValueError(f"{list_path}: {where} has no 'video' path: {record!r:.120}")
    caption = record.get("caption")
    if caption is not None and not isinstance(caption, str):
        raise ValueError(f"{list_path}: {where} has a 'caption' that is not text: {caption!r:.80}")
    video = video.strip()
    path = Path(video) if os.path.isabs(video) else list_path.parent / video
    return Source(
        id=_normalise_id(str(record.get("id") or video)),
        path=str(path),
        caption=caption or None,
        dataset=str(record.get("source") or list_path.stem),
    )


def _from_list(list_path: Path) -> list[Source]:
    text = list_path.read_text(encoding="utf-8")
    suffix = list_path.suffix.lower()
    if suffix == ".json":
        try:
            records = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{list_path}: not valid JSON ({error})") from None
        if not isinstance(records, list):
            raise ValueError(f"{list_path}: expected a list of videos, got {type(records).__name__}")
        return [_entry(record, list_path, f"item {i}") for i, record in enumerate(records)]
    sources = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if suffix == ".jsonl":
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{list_path}:{number}: not valid JSON ({error})") from None
        else:
            record = line
        sources.append(_entry(record, list_path, f"line {number}"))
    return sources


def list_sources(videos: str | os.PathLike) -> list[Source]:
    """The sources named by `--videos`: a folder (searched recursively by extension) or a list file.

    Returns:
        `list[Source]` sorted by id.

    Raises:
        `FileNotFoundError`: `videos` does not exist.
        `ValueError`: the list file is malformed, two sources share an id, or nothing was found.
    """
    videos = Path(videos)
    if videos.is_dir():
        sources = _from_folder(videos)
    elif videos.is_file():
        sources = _from_list(videos)
    else:
        raise FileNotFoundError(f"--videos {videos}: no such folder or list file")
    if not sources:
        raise ValueError(
            f"--videos {videos}: no videos found (extensions {', '.join(sorted(VIDEO_EXTENSIONS))} in a folder, "
            "or a .txt/.jsonl/.json list)"
        )
    seen: dict[str, Source] = {}
    for source in sources:
        if source.id in seen:
            raise ValueError(f"--videos {videos}: two entries have the id {source.id!r}; give each an 'id'")
        seen[source.id] = source
    return sorted(sources, key=lambda s: s.id)
