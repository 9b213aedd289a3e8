"""On-disk cache of pose work, keyed by the video's bytes and the settings that produced it.

Training, evaluation and the Space all call `extract_motion` on the same clips; pose estimation is
the slow step, so its result is stored once per (video content, settings):

    $MACM_CACHE/motion (or ~/.cache/macm/motion)/<key[:2]>/<key>/pose.npz
                                                          /keyframes.json

`key` is the sha256 of the video's sha256 (streamed, so large files are fine) and a canonical JSON of
the settings. An entry is written to a temporary directory and renamed into place, so readers never
see half an entry and concurrent writers of the same entry do not corrupt it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .pose.types import PoseTrack

__all__ = ["CACHE_ENV", "CACHE_VERSION", "MotionCache", "cache_key", "default_cache_dir", "file_sha256"]

logger = logging.getLogger(__name__)

CACHE_ENV = "MACM_CACHE"
# Bump when the meaning of a cached entry changes (pose post-processing, sampler), to orphan old entries.
CACHE_VERSION = 1


def default_cache_dir() -> Path:
    """`$MACM_CACHE/motion` if `MACM_CACHE` is set, else `~/.cache/macm/motion`."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() / "motion" if env else Path.home() / ".cache" / "macm" / "motion"


def file_sha256(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in `chunk_size` chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def cache_key(video_sha256: str, settings: Mapping[str, Any]) -> str:
    """The entry key for a video (by content hash) and settings (any JSON-able mapping; key order is irrelevant)."""
    payload = _canonical_json({"version": CACHE_VERSION, "video": video_sha256, "settings": dict(settings)})
    return hashlib.sha256(payload.encode()).hexdigest()


class MotionCache:
    """Pose tracks and keyframe choices on disk, keyed by `cache_key`.

    Args:
        root (`str` or `os.PathLike`, *optional*): cache directory; defaults to `default_cache_dir()`.
    """

    POSE_FILE = "pose.npz"
    KEYFRAMES_FILE = "keyframes.json"

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_cache_dir()

    def entry_dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def load(self, key: str) -> tuple[PoseTrack, dict] | None:
        """The cached `(track, keyframes)` of `key`, or `None` when absent or unreadable."""
        entry = self.entry_dir(key)
        pose_path, keyframes_path = entry / self.POSE_FILE, entry / self.KEYFRAMES_FILE
        if not (pose_path.is_file() and keyframes_path.is_file()):
            return None
        try:
            track = PoseTrack.load_npz(pose_path)
            keyframes = json.loads(keyframes_path.read_text())
        except (OSError, ValueError, KeyError) as error:
            logger.warning("Ignoring unreadable cache entry %s: %s", entry, error)
            return None
        return track, keyframes

    def save(self, key: str, track: PoseTrack, keyframes: Mapping[str, Any]) -> Path:
        """Store an entry atomically; returns its directory. An existing entry for `key` is kept as is."""
        entry = self.entry_dir(key)
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{key[:16]}-", dir=entry.parent))
        try:
            with open(staging / self.POSE_FILE, "wb") as handle:
                track.save_npz(handle)
            (staging / self.KEYFRAMES_FILE).write_text(_canonical_json(dict(keyframes)))
            try:
                os.rename(staging, entry)
            except OSError:
                if not entry.is_dir():
                    raise
                logger.debug("Cache entry %s was written concurrently; keeping the existing one", entry)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return entry
