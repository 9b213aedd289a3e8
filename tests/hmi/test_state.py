"""The resumable state: a torn last line is dropped, keys are unique, settings and the lock guard the folder."""

from __future__ import annotations

import json

import pytest

from macm.processing.hmi.state import (
    CurationState,
    OutputLockedError,
    SettingsMismatchError,
    check_settings,
    lock_output,
)


def test_records_survive_a_reload_and_the_last_line_of_a_key_wins(tmp_path):
    path = tmp_path / "state.jsonl"
    state = CurationState(path)
    state.append({"kind": "source", "id": "a.mp4", "status": "failed"})
    state.append({"kind": "clip", "id": "a-000", "status": "accepted"})
    state.append({"kind": "source", "id": "a.mp4", "status": "ok"})  # a --retry-failed re-run
    again = CurationState(path)
    assert ("clip", "a-000") in again
    assert again.get("source", "a.mp4")["status"] == "ok"
    assert [r["id"] for r in again.of_kind("source")] == ["a.mp4"]


def test_a_line_cut_short_by_a_kill_is_dropped_and_cut_off(tmp_path):
    path = tmp_path / "state.jsonl"
    CurationState(path).append({"kind": "clip", "id": "done", "status": "rejected"})
    with open(path, "ab") as handle:  # what a SIGKILL in the middle of a write would leave
        handle.write(b'{"kind": "clip", "id": "half", "sta')
    state = CurationState(path)
    assert ("clip", "done") in state and ("clip", "half") not in state
    state.append({"kind": "clip", "id": "next", "status": "accepted"})
    lines = path.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["done", "next"]


def test_settings_of_a_folder_cannot_change(tmp_path):
    path = tmp_path / "out" / "curation" / "run.json"
    check_settings(path, {"filters": {"min_keypoints": 12}, "shard": "0/1"})
    check_settings(path, {"shard": "0/1", "filters": {"min_keypoints": 12}})  # same settings, any key order
    with pytest.raises(SettingsMismatchError, match=r"min_keypoints.*12.*10|filters: .*12.*10"):
        check_settings(path, {"filters": {"min_keypoints": 10}, "shard": "0/1"})


def test_one_build_at_a_time(tmp_path):
    lock = lock_output(tmp_path / "curation" / ".lock")
    with pytest.raises(OutputLockedError, match="being written by another build"):
        lock_output(tmp_path / "curation" / ".lock")
    lock.close()
    lock_output(tmp_path / "curation" / ".lock").close()
