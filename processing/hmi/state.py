"""The resumable record of a curation run: an append-only JSON-lines file of finished work.

Every finished source (its segments, or why it failed) and every finished clip (accepted, rejected with reasons,
annotation failed, failed) is one line, appended with a single `write` on an `O_APPEND` descriptor and `fsync`ed
before the next piece of work starts. A run killed at any moment therefore loses at most the work in flight; a line
cut short by the kill is dropped (and cut off the file) when the state is read again. A re-run skips everything that
has a line, so every clip ends up in the state exactly once; if a key ever appears twice, the last line wins.

The run's settings are kept beside it (`run.json`); a re-run with different settings into the same folder is refused,
since its clips would not be comparable.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["CurationState", "OutputLockedError", "SettingsMismatchError", "check_settings", "lock_output"]

logger = logging.getLogger(__name__)


class SettingsMismatchError(ValueError):
    """An output folder holds a run made with other settings."""


class OutputLockedError(RuntimeError):
    """Another build is writing the output folder."""


def _key(record: dict) -> tuple[str, str]:
    return record["kind"], record["id"]


class CurationState:
    """Finished work of a run, keyed by `(kind, id)` (`kind` is `"source"` or `"clip"`).

    Args:
        path (`str` or `os.PathLike`): the JSON-lines file (created on the first `append`).
        fsync (`bool`, *optional*, defaults to `True`): flush each line to disk before `append` returns.
    """

    def __init__(self, path: str | os.PathLike, fsync: bool = True):
        self.path = Path(path)
        self.fsync = fsync
        self.records: dict[tuple[str, str], dict] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.is_file():
            return
        data = self.path.read_bytes()
        complete = data.rfind(b"\n") + 1
        if complete < len(data):
            logger.warning(
                "%s: dropping a line cut short by an interrupted run (%d bytes)", self.path, len(data) - complete
            )
            with open(self.path, "r+b") as handle:
                handle.truncate(complete)
        for number, line in enumerate(data[:complete].splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                key = _key(record)
            except (json.JSONDecodeError, KeyError, TypeError):
                logger.warning("%s:%d: skipping an unreadable line", self.path, number)
                continue
            self.records[key] = record

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self.records

    def get(self, kind: str, id: str) -> dict | None:
        return self.records.get((kind, id))

    def of_kind(self, kind: str) -> list[dict]:
        """Records of one kind, sorted by id."""
        return sorted((r for (k, _), r in self.records.items() if k == kind), key=lambda r: r["id"])

    def append(self, record: dict) -> None:
        """Record a finished piece of work (`record` needs `kind` and `id`)."""
        key = _key(record)
        line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(descriptor, line)
            if written != len(line):
                raise OSError(f"{self.path}: short write ({written} of {len(line)} bytes)")
            if self.fsync:
                os.fsync(descriptor)
        finally:
            os.close(descriptor)
        self.records[key] = record

    def extend(self, records: Iterable[dict]) -> None:
        for record in records:
            self.append(record)


def check_settings(path: str | os.PathLike, settings: dict) -> None:
    """Write `settings` to `path`, or check they equal the ones already there.

    Raises:
        `SettingsMismatchError`: naming every setting that differs.
    """
    path = Path(path)
    canonical = json.loads(json.dumps(settings, sort_keys=True))
    if path.is_file():
        previous = json.loads(path.read_text(encoding="utf-8"))
        if previous != canonical:
            changed = sorted(k for k in set(previous) | set(canonical) if previous.get(k) != canonical.get(k))
            details = "; ".join(f"{k}: {previous.get(k)!r} -> {canonical.get(k)!r}" for k in changed)
            raise SettingsMismatchError(
                f"{path.parent.parent} holds a run with other settings ({details}); "
                "re-run with the same settings or write to a new --out"
            )
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(canonical, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, path)


def lock_output(path: str | os.PathLike):
    """Take an exclusive lock on `path` for the life of the returned file object (close it to release).

    Raises:
        `OutputLockedError`: another process holds it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - held open by the caller for the life of the lock
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise OutputLockedError(f"{path.parent.parent} is being written by another build (lock {path})") from None
    return handle
