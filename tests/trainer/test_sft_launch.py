"""`accelerate launch` of the SFT script on two CPU processes, checkpoints, resume."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tiny_models import make_tiny_hmi_dataset, tiny_macm, tiny_processor

STEPS = 6


def _train_args(model_dir, data_dir, out_dir, steps=STEPS):
    return [
        "--model_name_or_path", str(model_dir), "--dataset_name", str(data_dir), "--output_dir", str(out_dir),
        "--max_steps", str(steps), "--per_device_train_batch_size", "2", "--learning_rate", "3e-3",
        "--lr_scheduler_type", "constant", "--num_frames", "2", "--qa_ratio", "1.0", "--logging_steps", "1",
        "--save_steps", "3", "--report_to", "none", "--seed", "0", "--use_cpu", "--activation_checkpointing", "false",
        "--dataloader_num_workers", "0", "--bf16", "false", "--max_grad_norm", "1.0", "--data_seed", "0",
    ]  # fmt: skip


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("sft")
    model_dir, data_dir = root / "init", root / "data"
    model = tiny_macm(seed=5)
    model.save_pretrained(model_dir)
    tiny_processor().save_pretrained(model_dir)
    make_tiny_hmi_dataset(data_dir, num_clips=4, num_frames=2)
    return model, model_dir, data_dir, root


@pytest.fixture(scope="module")
def launched(setup, repo_root):
    model, model_dir, data_dir, root = setup
    out = root / "run"
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--config_file",
        str(repo_root / "trainer/configs/cpu_2proc.yaml"), str(repo_root / "trainer/sft_macm.py"),
        *_train_args(model_dir, data_dir, out),
    ]  # fmt: skip
    result = subprocess.run(command, cwd=root, env=_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return model, out


def test_two_process_training_learns(launched):
    _, out = launched
    state = json.loads((out / "checkpoint-6" / "trainer_state.json").read_text())
    losses = [entry["loss"] for entry in state["log_history"] if "loss" in entry]
    assert len(losses) == STEPS and all(torch.isfinite(torch.tensor(losses)))
    assert sum(losses[-2:]) < sum(losses[:2]), losses
    logged = {key for entry in state["log_history"] for key in entry}
    assert {"visual_loss", "motion_loss", "mean_token_accuracy"} <= logged


def test_trainable_changed_frozen_did_not(launched):
    model, out = launched
    trained = load_file(out / "model.safetensors")
    initial = model.state_dict()
    for name, tensor in initial.items():
        if name.startswith("model.vision_tower."):
            torch.testing.assert_close(trained[name], tensor, rtol=0, atol=0, msg=name)
        else:
            assert not torch.equal(trained[name], tensor), f"{name} did not change"


def test_checkpoint_loads_with_remote_code(launched):
    from transformers import AutoModel, AutoProcessor

    _, out = launched
    for folder in (out, out / "checkpoint-3"):
        model = AutoModel.from_pretrained(folder, trust_remote_code=True)
        processor = AutoProcessor.from_pretrained(folder, trust_remote_code=True)
        assert type(model).__name__ == "MacmForConditionalGeneration"
        assert type(processor).__name__ == "MacmProcessor"


def test_resume_reaches_the_same_parameters(setup, repo_root):
    """Train 6 steps straight vs stop after the step-3 checkpoint and resume to 6 (one deterministic process)."""
    _, model_dir, data_dir, root = setup
    script = str(repo_root / "trainer/sft_macm.py")
    straight = root / "straight"
    subprocess.run([sys.executable, script, *_train_args(model_dir, data_dir, straight)], cwd=root, env=_env(),
                   check=True, capture_output=True, timeout=600)  # fmt: skip
    resumed = root / "resumed"
    resumed.mkdir()
    shutil.copytree(straight / "checkpoint-3", resumed / "checkpoint-3")  # the run was killed after this save
    subprocess.run([sys.executable, script, *_train_args(model_dir, data_dir, resumed), "--resume_from_checkpoint",
                    "last"], cwd=root, env=_env(), check=True, capture_output=True, timeout=600)  # fmt: skip
    a, b = load_file(straight / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=0, atol=1e-6, msg=name)
    assert Path(resumed / "checkpoint-6").is_dir()
