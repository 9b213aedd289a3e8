"""The arguments and outcome of a `trainer/sft_macm.py` run, for the model card's "Training procedure".

A run's folder holds `training_args.bin` (the `SFTConfig`, written by `Trainer` with `torch.save`, i.e. a pickle) and
`checkpoint-N/trainer_state.json` (the log history). The pickle is read with an unpickler that resolves every class
to an inert record, so no code from the file runs. Script arguments (`qa_ratio`, `num_frames`, the dataset, LoRA)
are not in the run folder: they come from the YAML passed to the script with `--config`.
"""

from __future__ import annotations

import io
import json
import pickle
import re
import zipfile
from pathlib import Path

import yaml

__all__ = ["find_trainer_state", "read_training_arguments", "read_training_run"]

# SFTConfig fields the card prints, in this order (values from training_args.bin, else from the YAML)
TRAINING_FIELDS = (
    "learning_rate",
    "lr_scheduler_type",
    "warmup_steps",
    "warmup_ratio",
    "num_train_epochs",
    "max_steps",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "weight_decay",
    "max_grad_norm",
    "optim",
    "bf16",
    "fp16",
    "max_length",
    "gradient_checkpointing",
    "activation_checkpointing",
    "deepspeed",
    "fsdp",
    "seed",
)
# script and model arguments of trainer/sft_macm.py (only the YAML has them)
SCRIPT_FIELDS = (
    "model_name_or_path",
    "dataset_name",
    "dataset_train_split",
    "qa_ratio",
    "num_frames",
    "loss_pathways",
    "freeze_vision_tower",
    "freeze_projectors",
    "freeze_language_model",
    "use_peft",
    "lora_r",
    "lora_alpha",
    "dtype",
    "attn_implementation",
)
LOGGED_METRICS = ("loss", "visual_loss", "motion_loss", "mean_token_accuracy")


class _Record:
    """Stands in for any class a pickle names: keeps constructor arguments and state, runs nothing."""

    _args: tuple = ()
    _state: dict | None = None

    def __init__(self, *args, **kwargs):
        self._args = args

    def __call__(self, *args, **kwargs):  # a record standing in for a callable (e.g. `getattr(cls, name)`)
        return _Record(*args)

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2:  # (dict state, slots state)
            state = {**(state[0] or {}), **(state[1] or {})}
        self._state = state if isinstance(state, dict) else {"value": state}


class _InertUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        return type(name, (_Record,), {"__module__": f"inert.{module}"})

    def persistent_load(self, pid):  # tensor storages live outside the pickle; arguments hold none we need
        return None


def _plain(value, active: frozenset = frozenset()):
    """Records, dicts and sequences as plain values; a reference back into an object being converted is `None`."""
    if id(value) in active:
        return None
    if isinstance(value, _Record | dict | list | tuple):
        active = active | {id(value)}
    if isinstance(value, _Record):
        if value._state is not None:
            return {k: _plain(v, active) for k, v in value._state.items()}
        if len(value._args) == 1:
            return _plain(value._args[0], active)
        return [_plain(a, active) for a in value._args]
    if isinstance(value, dict):
        return {k: _plain(v, active) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, active) for v in value]
    return value


def read_training_arguments(path: str | Path) -> dict:
    """The fields of a `training_args.bin` (a `torch.save` zip archive) as plain values, without running its code."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            member = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
            if member is None:
                raise ValueError(f"{path}: a zip archive without data.pkl, not a torch.save file")
            data = archive.read(member)
    except zipfile.BadZipFile:
        raise ValueError(f"{path}: not a torch.save zip archive (written by an old torch?)") from None
    arguments = _plain(_InertUnpickler(io.BytesIO(data)).load())
    if not isinstance(arguments, dict):
        raise ValueError(f"{path}: holds {type(arguments).__name__}, not training arguments")
    return arguments


def find_trainer_state(run_dir: str | Path) -> Path | None:
    """`trainer_state.json` of the run folder itself, else of its newest `checkpoint-N`; `None` when there is none."""
    run_dir = Path(run_dir)
    candidates = [run_dir / "trainer_state.json"]
    checkpoints = [p for p in run_dir.glob("checkpoint-*") if re.fullmatch(r"checkpoint-\d+", p.name)]
    candidates += [p / "trainer_state.json" for p in sorted(checkpoints, key=lambda p: -int(p.name.split("-")[1]))]
    return next((path for path in candidates if path.is_file()), None)


def _outcome(state: dict) -> dict:
    logs = [entry for entry in state.get("log_history", []) if "loss" in entry]
    outcome = {
        "global_step": state.get("global_step"),
        "epoch": state.get("epoch"),
        "train_batch_size": state.get("train_batch_size"),
    }
    if logs:
        first, last = logs[0], logs[-1]
        outcome["metrics"] = [
            {"name": name, "first": first.get(name), "last": last.get(name), "first_step": first.get("step"),
             "last_step": last.get("step")}
            for name in LOGGED_METRICS
            if name in last
        ]  # fmt: skip
    return outcome


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict | list):
        return json.dumps(value) if value else "-"
    return "-" if value in (None, "") else str(value)


def read_training_run(run_dir: str | Path | None = None, config_file: str | Path | None = None) -> dict | None:
    """What the card's "Training procedure" shows, from a run folder and/or the YAML given to `--config`.

    Returns:
        `dict | None`: `arguments` (`[(name, value)]` for `SCRIPT_FIELDS` then `TRAINING_FIELDS`, as text),
        `outcome` (steps, epochs, first and last logged losses; `None` without a `trainer_state.json`) and `sources`
        (the files read); `None` when neither source is given.
    """
    if run_dir is None and config_file is None:
        return None
    values: dict = {}
    sources = []
    if config_file is not None:
        loaded = yaml.safe_load(Path(config_file).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{config_file}: expected a mapping of argument names to values")
        values.update(loaded)
        sources.append(Path(config_file).name)  # names only: local paths stay private
    state = None
    if run_dir is not None:
        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            raise FileNotFoundError(f"training run folder {run_dir} does not exist")
        args_file = run_dir / "training_args.bin"
        if args_file.is_file():
            values.update({k: v for k, v in read_training_arguments(args_file).items() if k in TRAINING_FIELDS})
            sources.append(args_file.name)
        state_file = find_trainer_state(run_dir)
        if state_file is not None:
            state = json.loads(state_file.read_text(encoding="utf-8"))
            sources.append(state_file.relative_to(run_dir).as_posix())
        if not sources:
            raise FileNotFoundError(f"{run_dir} has neither training_args.bin nor a trainer_state.json")
    arguments = [(name, _fmt(values[name])) for name in (*SCRIPT_FIELDS, *TRAINING_FIELDS) if name in values]
    return {"arguments": arguments, "outcome": None if state is None else _outcome(state), "sources": sources}
