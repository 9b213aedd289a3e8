"""Fixtures of the Hub tests: a tiny saved M-ACM folder with and without its card (nothing reaches the Hub)."""

from __future__ import annotations

import shutil

import pytest
from hub_helpers import run_cli

CARD_ARGS = (
    "--repo-id", "tiny-org/macm-tiny", "--revision", "v1.0",
    "--base-model", "llava-hf/llava-onevision-qwen2-0.5b-ov-hf", "--dataset", "tiny-org/synthmotion",
)  # fmt: skip


@pytest.fixture(scope="session")
def saved_tiny_model(tmp_path_factory, tiny_model, tiny_processor):
    """`save_pretrained` of the tiny model and processor (no card)."""
    folder = tmp_path_factory.mktemp("saved") / "macm-tiny"
    tiny_model.save_pretrained(folder)
    tiny_processor.save_pretrained(folder)
    return folder


@pytest.fixture
def model_folder(saved_tiny_model, tmp_path, monkeypatch):
    """A fresh copy of the tiny model folder with its card written by `macm card model`."""
    folder = tmp_path / "macm-tiny"
    shutil.copytree(saved_tiny_model, folder)
    assert run_cli(monkeypatch, "card", "model", folder, *CARD_ARGS) == 0
    return folder
