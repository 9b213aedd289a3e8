"""The card sources and the plan's file handling: a training run's pickle is read without running its code, linked
files are uploaded as their targets, a dry run never writes into a non-empty folder."""

from __future__ import annotations

import os
import pathlib

import torch
from hub_helpers import relative_files, run_cli

from macm.hub_cards.training_run import read_training_arguments


class _RunsCodeWhenLoaded:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_training_arguments_are_read_without_running_the_pickle(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "training_args.bin"
    torch.save({"learning_rate": 3e-4, "lr_scheduler_type": "cosine", "payload": _RunsCodeWhenLoaded(marker)}, path)
    arguments = read_training_arguments(path)
    assert not marker.exists()
    assert arguments["learning_rate"] == 3e-4 and arguments["lr_scheduler_type"] == "cosine"
    torch.load(path, weights_only=False)  # the same file, unpickled for real, does run it
    assert marker.exists()


def test_linked_files_are_uploaded_as_their_targets(model_folder, tmp_path, monkeypatch):
    blob = tmp_path / "blobs" / "weights"
    blob.parent.mkdir()
    (model_folder / "model.safetensors").rename(blob)
    os.symlink(blob, model_folder / "model.safetensors")  # how a Hub cache snapshot stores files
    out = tmp_path / "upload"
    assert run_cli(monkeypatch, "push", "model", model_folder, "--repo-id", "o/m", "--dry-run", out) == 0
    copied = out / "model.safetensors"
    assert not copied.is_symlink() and copied.read_bytes() == blob.read_bytes()


def test_dry_run_never_writes_into_a_non_empty_folder(model_folder, tmp_path, monkeypatch, capsys):
    out = tmp_path / "upload"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert run_cli(monkeypatch, "push", "model", model_folder, "--repo-id", "o/m", "--dry-run", out) == 2
    assert "exists and is not an empty folder" in capsys.readouterr().err
    assert relative_files(out) == {"notes.txt"}
