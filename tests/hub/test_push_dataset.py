"""`macm push dataset` and `macm card dataset` on a built SynthMotion folder: the dry-run output loads with
`datasets.load_dataset`, the card's `configs` select the folder's files, and bad folders are refused."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from hub_helpers import FakeHub, relative_files, run_cli
from huggingface_hub import DatasetCard

from macm.hub_cards.dataset_facts import config_patterns, matching_files

datasets = pytest.importorskip("datasets")


@pytest.fixture(scope="module")
def synth_folder(tmp_path_factory):
    from macm.processing.synth import SynthConfig, write_dataset

    folder = tmp_path_factory.mktemp("synth") / "ds"
    splits = write_dataset(folder, 12, SynthConfig(seed=0, size=32, frames=4), progress=False)
    return folder, {split: len(rows) for split, rows in splits.items()}


@pytest.fixture
def dataset_folder(synth_folder, tmp_path):
    folder, _ = synth_folder
    copy = tmp_path / "ds"
    shutil.copytree(folder, copy)
    return copy


def _load(folder, tmp_path):
    return datasets.load_dataset(str(folder), cache_dir=str(tmp_path / "hf-cache"))


def _configs_select_existing_files(card_path, folder) -> dict[str, list[str]]:
    files = sorted(relative_files(folder))
    selected = {}
    for _, split, pattern in config_patterns(DatasetCard.load(card_path).data.to_dict()["configs"]):
        matched = matching_files(pattern, files)
        assert matched, f"{pattern} selects nothing"
        selected.setdefault(split, []).extend(matched)
    return selected


def test_dry_run_of_a_synthmotion_folder_loads_and_its_configs_match(synth_folder, tmp_path, monkeypatch):
    folder, counts = synth_folder
    out = tmp_path / "upload"
    assert run_cli(monkeypatch, "push", "dataset", folder, "--repo-id", "tiny-org/synthmotion", "--dry-run", out) == 0
    assert relative_files(out) == relative_files(folder)
    selected = _configs_select_existing_files(out / "README.md", out)
    assert selected == {split: [f"{split}/metadata.jsonl"] for split in counts}
    loaded = _load(out, tmp_path)
    assert {split: loaded[split].num_rows for split in loaded} == counts
    row = loaded["train"][0]
    assert (out / row["file_name"]).is_file() and all((out / f).is_file() for f in row["motion_files"])


def test_card_command_writes_a_card_from_the_folder_and_the_builder_report(dataset_folder, tmp_path, monkeypatch):
    report = tmp_path / "build_report.json"
    report.write_text(json.dumps({
        "criteria": {"segment length": "2-10 s", "single person": "> 90% of frames"},
        "counts": {"candidate clips": 40, "kept": 12},
        "sources": [{"name": "synthmotion", "license": "apache-2.0", "url": "https://example.org/synthmotion"}],
    }))  # fmt: skip
    args = ("card", "dataset", dataset_folder, "--repo-id", "tiny-org/synthmotion", "--license", "apache-2.0")
    assert run_cli(monkeypatch, *args, "--builder-report", report) == 2  # SynthMotion wrote a card already
    assert run_cli(monkeypatch, *args, "--builder-report", report, "--overwrite") == 0

    card = DatasetCard.load(dataset_folder / "README.md")
    data = card.data.to_dict()
    assert data["license"] == "apache-2.0" and data["size_categories"] == ["n<1K"]
    rows = {p.parent.name: len(p.read_text().splitlines()) for p in dataset_folder.glob("*/metadata.jsonl")}
    assert _configs_select_existing_files(dataset_folder / "README.md", dataset_folder) == {
        split: [f"{split}/metadata.jsonl"] for split in rows
    }
    for split, count in rows.items():
        assert f"| {split} | `{split}/metadata.jsonl` | {count} |" in card.text
    assert f"| **all** | | **{sum(rows.values())}** |" in card.text
    assert "- segment length: 2-10 s" in card.text and "| candidate clips | 40 |" in card.text
    assert f"| synthmotion | {sum(rows.values())} | apache-2.0 | https://example.org/synthmotion |" in card.text

    out = tmp_path / "upload"
    assert run_cli(monkeypatch, "push", "dataset", dataset_folder, "--repo-id", "tiny-org/s", "--dry-run", out) == 0
    loaded = _load(out, tmp_path)
    assert {split: loaded[split].num_rows for split in loaded} == rows


def test_refuses_a_card_whose_configs_select_nothing(dataset_folder, tmp_path, monkeypatch, capsys):
    readme = dataset_folder / "README.md"
    readme.write_text(readme.read_text().replace("test/metadata.jsonl", "validation/metadata.jsonl"))
    assert (
        run_cli(monkeypatch, "push", "dataset", dataset_folder, "--repo-id", "o/d", "--dry-run", tmp_path / "x") == 2
    )
    assert "split 'test': data file 'validation/metadata.jsonl' matches no file" in capsys.readouterr().err


def test_refuses_without_a_card(dataset_folder, tmp_path, monkeypatch, capsys):
    (dataset_folder / "README.md").unlink()
    assert (
        run_cli(monkeypatch, "push", "dataset", dataset_folder, "--repo-id", "o/d", "--dry-run", tmp_path / "x") == 2
    )
    assert "no dataset card README.md" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("joints/extra.pkl", lambda p: p.write_bytes(b"\x80\x04\x95\x05")),
        ("smpl/SMPLX_NEUTRAL.npz", lambda p: np.savez(p, v_template=np.zeros(3))),
        ("smpl/model.npz", lambda p: np.savez(p, shapedirs=np.zeros(3), J_regressor=np.zeros(3))),
    ],
)
def test_refuses_pickles_and_smpl_files(dataset_folder, tmp_path, monkeypatch, capsys, name, write):
    (dataset_folder / name).parent.mkdir(exist_ok=True)
    write(dataset_folder / name)
    hub = FakeHub(monkeypatch)
    assert run_cli(monkeypatch, "push", "dataset", dataset_folder, "--repo-id", "o/d") == 2
    assert f"{name}: " in capsys.readouterr().err
    assert hub.calls == []  # refused before any request


def test_upload_of_a_dataset(synth_folder, monkeypatch):
    folder, _ = synth_folder
    hub = FakeHub(monkeypatch)
    assert run_cli(monkeypatch, "push", "dataset", folder, "--repo-id", "tiny-org/synthmotion") == 0
    assert hub.call("create_repo")["repo_type"] == "dataset" and hub.call("upload_folder")["repo_type"] == "dataset"
    assert set(hub.uploaded) == relative_files(folder)
