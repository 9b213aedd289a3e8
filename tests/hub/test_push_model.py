"""`macm push model`: the dry-run folder loads with the Auto classes in a fresh process, its card carries the
required metadata, bad folders are refused, and the upload path (HfApi faked) verifies the Hub's file list."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from hub_helpers import FakeHub, relative_files, run_cli, write_tiny_bench
from huggingface_hub import ModelCard
from isolated import LOAD_AND_RUN_MODEL, run_isolated
from tiny_models import paired_inputs

REMOTE_CODE = {"configuration_macm.py", "modeling_macm.py", "processing_macm.py", "msd.py"}


def test_dry_run_loads_with_auto_classes_in_a_fresh_process(
    model_folder, tiny_model, tiny_processor, tmp_path, monkeypatch
):
    out = tmp_path / "upload"
    assert (
        run_cli(monkeypatch, "push", "model", model_folder, "--repo-id", "tiny-org/macm-tiny", "--dry-run", out) == 0
    )
    assert relative_files(out) == relative_files(model_folder)  # nothing left out of a save_pretrained folder
    assert relative_files(out) >= REMOTE_CODE and "model.safetensors" in relative_files(out)

    inputs = dict(paired_inputs(tiny_processor, ["Describe.", "Which foot steps first?"]))
    torch.save(inputs, tmp_path / "inputs.pt")
    run_isolated(LOAD_AND_RUN_MODEL, str(out), str(tmp_path / "inputs.pt"), str(tmp_path / "out.pt"), cwd=tmp_path)
    result = torch.load(tmp_path / "out.pt")
    assert (result["model"], result["processor"]) == ("MacmForConditionalGeneration", "MacmProcessor")
    assert result["module"].startswith("transformers_modules.")  # the uploaded .py files, not the project's package
    with torch.no_grad():
        expected = tiny_model(**inputs, pathways="both").logits
    torch.testing.assert_close(result["logits"], expected, rtol=0, atol=0)


def test_dry_run_card_has_the_required_metadata_and_the_config_values(model_folder, tiny_model, tmp_path, monkeypatch):
    out = tmp_path / "upload"
    assert (
        run_cli(monkeypatch, "push", "model", model_folder, "--repo-id", "tiny-org/macm-tiny", "--dry-run", out) == 0
    )
    card = ModelCard.load(out / "README.md")
    data = card.data.to_dict()
    assert data["library_name"] == "transformers" and data["pipeline_tag"] == "video-text-to-text"
    assert data["license"] == "apache-2.0"
    assert data["base_model"] == "llava-hf/llava-onevision-qwen2-0.5b-ov-hf"
    assert data["datasets"] == ["tiny-org/synthmotion"] and "m-acm" in data["tags"]
    text = card.text
    assert (
        'repo, revision = "tiny-org/macm-tiny", "v1.0"' in text and "trust_remote_code=True, revision=revision" in text
    )
    total = sum(p.numel() for p in tiny_model.parameters())
    assert f"| parameters: total | {total / 1e3:.2f} K ({total:,}) |" in text
    config = tiny_model.config
    assert f"alpha = ({', '.join(f'{a:g}' for a in config.msd_alpha)}), beta = {config.msd_beta}" in text
    assert f"`{config.text_config.model_type}`, {config.text_config.num_hidden_layers} layers" in text
    assert "has not been evaluated with `macm eval` yet" in text and "| M-ACM Qwen2-7B | 0.495 |" in text
    assert "No training run was recorded" in text and "SMPL" in text and "@inproceedings{macm2025" in text


def _write_run(run_dir, learning_rate: float, losses: list[float]):
    """What `Trainer` leaves in an output folder: `training_args.bin` and a checkpoint's `trainer_state.json`."""
    trl = pytest.importorskip("trl")
    from transformers import TrainerState

    run_dir.mkdir(parents=True, exist_ok=True)
    args = trl.SFTConfig(output_dir=str(run_dir), learning_rate=learning_rate, max_steps=len(losses), seed=7,
                         per_device_train_batch_size=2, report_to="none", use_cpu=True)  # fmt: skip
    torch.save(args, run_dir / "training_args.bin")  # exactly how Trainer writes it
    state = TrainerState(global_step=len(losses), max_steps=len(losses), epoch=1.0, train_batch_size=2)
    state.log_history = [{"step": i + 1, "loss": loss, "visual_loss": loss + 0.1, "motion_loss": loss - 0.1}
                         for i, loss in enumerate(losses)]  # fmt: skip
    (run_dir / f"checkpoint-{len(losses)}").mkdir()
    state.save_to_json(str(run_dir / f"checkpoint-{len(losses)}" / "trainer_state.json"))


def test_card_from_a_training_run_and_an_eval_report(model_folder, tmp_path, monkeypatch):
    _write_run(model_folder, learning_rate=3e-4, losses=[2.5, 2.0, 1.25])
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("dataset_name: tiny-org/synthmotion\nqa_ratio: 0.2\nnum_frames: 4\nlearning_rate: 1.0e-5\n")
    bench, predictions = write_tiny_bench(tmp_path)
    report_dir = tmp_path / "eval"
    assert run_cli(monkeypatch, "eval", "--bench", bench, "--predictions", predictions, "--out", report_dir,
                   "--backend", "python", "--no-progress") == 0  # fmt: skip
    report = json.loads((report_dir / "report.json").read_text())

    assert run_cli(monkeypatch, "card", "model", model_folder, "--repo-id", "tiny-org/macm-tiny", "--revision",
                   "v1.0", "--base-model", "llava-hf/llava-onevision-qwen2-0.5b-ov-hf", "--dataset",
                   "tiny-org/synthmotion", "--run-dir", model_folder, "--training-config", recipe, "--eval-report",
                   report_dir / "report.json", "--overwrite") == 0  # fmt: skip
    text = (model_folder / "README.md").read_text()
    assert "| `learning_rate` | 0.0003 |" in text  # the run's value wins over the recipe's
    assert "| `qa_ratio` | 0.2 |" in text and "| `seed` | 7 |" in text
    assert "| `loss` | 2.5000 | 1.2500 |" in text and "| `motion_loss` | 2.4000 | 1.1500 |" in text
    assert "read from recipe.yaml, training_args.bin, checkpoint-3/trainer_state.json" in text
    scores = report["caption_metrics"]["scores"]
    ours = f"| **macm-tiny** | {scores['BLEU-1']:.3f} | {scores['BLEU-4']:.3f} | {scores['METEOR']:.3f} |"
    assert ours in text and "| M-ACM Qwen2-7B | 0.495 | 0.124 | 0.338 | 0.327 | 0.807 |" in text
    accuracy = report["true_false"]
    assert f"True/false question accuracy: {accuracy['accuracy']:.4f} ({accuracy['n_correct']}/" in text

    out = tmp_path / "upload"  # the run's files stay home
    assert (
        run_cli(monkeypatch, "push", "model", model_folder, "--repo-id", "tiny-org/macm-tiny", "--dry-run", out) == 0
    )
    assert "training_args.bin" not in relative_files(out) and not (out / "checkpoint-3").exists()


def test_missing_remote_code_file_is_added_from_the_installed_package(model_folder, tmp_path, monkeypatch):
    from macm import modeling_macm

    (model_folder / "msd.py").unlink()  # imported by modeling_macm.py, named by no auto_map
    out = tmp_path / "upload"
    assert (
        run_cli(monkeypatch, "push", "model", model_folder, "--repo-id", "tiny-org/macm-tiny", "--dry-run", out) == 0
    )
    assert (out / "msd.py").read_bytes() == (Path(modeling_macm.__file__).parent / "msd.py").read_bytes()


def _refused(monkeypatch, capsys, folder, tmp_path) -> str:
    out = tmp_path / "never-written"
    assert run_cli(monkeypatch, "push", "model", folder, "--repo-id", "tiny-org/macm-tiny", "--dry-run", out) == 2
    assert not out.exists()
    return capsys.readouterr().err


def test_refuses_without_safetensors(model_folder, tmp_path, monkeypatch, capsys):
    (model_folder / "model.safetensors").unlink()
    assert "no .safetensors weights" in _refused(monkeypatch, capsys, model_folder, tmp_path)


def test_refuses_without_auto_map(model_folder, tmp_path, monkeypatch, capsys):
    config = json.loads((model_folder / "config.json").read_text())
    del config["auto_map"]
    (model_folder / "config.json").write_text(json.dumps(config))
    assert "no `auto_map` entry for AutoConfig, AutoModel" in _refused(monkeypatch, capsys, model_folder, tmp_path)


def test_refuses_without_a_card_and_with_an_incomplete_one(model_folder, tmp_path, monkeypatch, capsys):
    (model_folder / "README.md").unlink()
    assert "no model card README.md: write it with `macm card model" in _refused(
        monkeypatch, capsys, model_folder, tmp_path
    )
    (model_folder / "README.md").write_text("---\nlibrary_name: transformers\ntags: [trl]\n---\n# draft\n")
    error = _refused(monkeypatch, capsys, model_folder, tmp_path)
    for field in ("`pipeline_tag` must be 'video-text-to-text'", "`license` is missing", "`base_model` is missing",
                  "`datasets` is missing"):  # fmt: skip
        assert field in error


def test_card_command_names_missing_metadata(saved_tiny_model, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "m"
    shutil.copytree(saved_tiny_model, folder)
    assert run_cli(monkeypatch, "card", "model", folder, "--repo-id", "o/m", "--revision", "v1") == 2
    error = capsys.readouterr().err
    assert "`base_model` is missing (give --base-model)" in error and "`datasets` is missing (give --dataset)" in error
    assert not (folder / "README.md").exists()


@pytest.mark.parametrize(
    ("name", "write", "reason"),
    [
        ("SMPL_NEUTRAL.npz", lambda p: np.savez(p, v_template=np.zeros(3)), "SMPL-family body model file (by name)"),
        ("body/model.npz", lambda p: np.savez(p, shapedirs=np.zeros(3), J_regressor=np.zeros(3)),
         "an SMPL-family body model (an .npz with shapedirs and J_regressor)"),
        ("basicModel_f_lbs_10_207_0_v1.0.0.pkl", lambda p: p.write_bytes(b"\x80\x02}q\x00."), "SMPL-family"),
        ("extra/state.pkl", lambda p: p.write_bytes(b"\x80\x04\x95\x05"), "a pickle (by name)"),
        ("optimizer_copy.bin", lambda p: torch.save({"x": torch.zeros(2)}, p), "zip archive holding a pickle"),
        ("raw.dat", lambda p: p.write_bytes(b"\x80\x04\x95\x10\x00\x00\x00"), "a pickle (by content)"),
        ("objects.npy", lambda p: np.save(p, np.array([{"a": 1}], dtype=object)), "holding Python objects"),
    ],
)  # fmt: skip
def test_refuses_pickles_and_smpl_files(model_folder, tmp_path, monkeypatch, capsys, name, write, reason):
    path = model_folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    write(path)
    error = _refused(monkeypatch, capsys, model_folder, tmp_path)
    assert f"{name}: " in error and reason in error


def test_upload_creates_the_repo_commits_the_plan_and_checks_the_hub(model_folder, monkeypatch, capsys):
    hub = FakeHub(monkeypatch)
    assert run_cli(monkeypatch, "push", "model", model_folder, "--repo-id", "tiny-org/macm-tiny", "--private",
                   "--revision", "release", "--tag", "v1.0", "--commit-message", "First release") == 0  # fmt: skip
    assert hub.names() == ["create_repo", "create_branch", "upload_folder", "list_repo_files", "create_tag"]
    create = hub.call("create_repo")
    assert create["args"] == ("tiny-org/macm-tiny",) and create["private"] and create["exist_ok"]
    assert create["repo_type"] == "model"
    assert hub.call("create_branch")["branch"] == "release"
    upload = hub.call("upload_folder")
    assert upload["revision"] == "release" and upload["commit_message"] == "First release"
    assert upload["delete_patterns"] == "*"  # the revision ends up holding exactly the uploaded files
    assert set(hub.uploaded) == relative_files(model_folder)
    assert hub.uploaded["model.safetensors"] == (model_folder / "model.safetensors").read_bytes()
    assert hub.call("list_repo_files")["revision"] == "a" * 40  # the new commit, not a moving branch
    assert hub.call("create_tag")["tag"] == "v1.0" and hub.call("create_tag")["revision"] == "a" * 40
    out = capsys.readouterr().out
    assert f'revision="{"a" * 40}"' in out


@pytest.mark.parametrize(("drop", "extra", "message"), [
    (("msd.py",), (), "missing on the Hub ['msd.py']"),
    ((), ("old-shard.safetensors",), "unexpected on the Hub ['old-shard.safetensors']"),
])  # fmt: skip
def test_upload_fails_when_the_hub_lists_other_files(model_folder, monkeypatch, capsys, drop, extra, message):
    hub = FakeHub(monkeypatch, drop=drop, extra=extra)
    assert run_cli(monkeypatch, "push", "model", model_folder, "--repo-id", "tiny-org/macm-tiny", "--tag", "v1") == 3
    assert message in capsys.readouterr().err
    assert "create_tag" not in hub.names()  # a failed push is never tagged


EMBEDDED = Path(__file__).resolve().parents[2] / "space" / "synthmotion-tiny"


def test_the_embedded_checkpoint_trained_from_scratch_pushes_without_base_model(tmp_path, monkeypatch):
    """Its card says it was trained from scratch, so it names no `base_model`."""
    out = tmp_path / "upload"
    assert (
        run_cli(monkeypatch, "push", "model", EMBEDDED, "--repo-id", "tiny-org/synthmotion-tiny", "--dry-run", out)
        == 0
    )
    assert "base_model" not in ModelCard.load(out / "README.md").data.to_dict()
    assert relative_files(out) >= REMOTE_CODE


def test_a_stale_remote_code_copy_is_refused(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "stale"
    shutil.copytree(EMBEDDED, folder, ignore=shutil.ignore_patterns("benchmark*"))
    with (folder / "msd.py").open("a") as handle:
        handle.write("# edited by hand\n")
    assert run_cli(monkeypatch, "push", "model", folder, "--repo-id", "tiny-org/x", "--dry-run", tmp_path / "o") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "msd.py differs from the installed macm.modeling_macm/msd.py" in err[0]
