"""What a saved M-ACM folder says about itself: sizes and MSD settings from `config.json`, parameter counts from the
safetensors headers (no weight is loaded)."""

from __future__ import annotations

import json
import struct
from collections import Counter
from pathlib import Path

__all__ = ["PARAMETER_GROUPS", "count_parameters", "read_model_facts"]

# state-dict prefix -> the part of the model it belongs to (first match wins)
PARAMETER_GROUPS: tuple[tuple[str, str], ...] = (
    ("model.vision_tower.", "vision tower (frozen, shared by both pathways)"),
    ("model.multi_modal_projector.", "visual projector"),
    ("model.motion_projector.", "motion projector"),
    ("model.language_model.", "language model"),
    ("lm_head.", "language model"),
)
OTHER_PARAMETERS = "other (image newline embedding)"


def _weight_files(folder: Path) -> list[Path]:
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        return [folder / shard for shard in shards]
    return sorted(folder.glob("*.safetensors"))


def count_parameters(folder: str | Path) -> dict[str, int]:
    """Parameters per part of the model (in `PARAMETER_GROUPS` order) and `"total"`, from the safetensors headers."""
    counts: Counter = Counter()
    for path in _weight_files(Path(folder)):
        for name, entry in _safetensors_header(path).items():
            if name == "__metadata__":
                continue
            size = 1
            for dim in entry["shape"]:
                size *= dim
            group = next((title for prefix, title in PARAMETER_GROUPS if name.startswith(prefix)), OTHER_PARAMETERS)
            counts[group] += size
            counts["total"] += size
    order = [*dict.fromkeys(title for _, title in PARAMETER_GROUPS), OTHER_PARAMETERS, "total"]
    return {name: counts[name] for name in order if counts[name]}


def _safetensors_header(path: Path) -> dict:
    # the format: an 8-byte little-endian header length, then the JSON header (names, dtypes, shapes, offsets)
    with open(path, "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        return json.loads(handle.read(length))


def _sub(config: dict, key: str) -> dict:
    sub = config.get(key) or {}
    return {
        "model_type": sub.get("model_type", "?"),
        "hidden_size": sub.get("hidden_size"),
        "num_hidden_layers": sub.get("num_hidden_layers"),
        "num_attention_heads": sub.get("num_attention_heads"),
        "vocab_size": sub.get("vocab_size"),
        "image_size": sub.get("image_size"),
        "patch_size": sub.get("patch_size"),
    }


def read_model_facts(folder: str | Path) -> dict:
    """The facts of an M-ACM folder a model card prints.

    Returns:
        `dict` with `config` (the parsed `config.json`), `text` and `vision` (backbone sizes), `parameters`
        (see `count_parameters`), `msd` (alpha, beta, theta, synergy, the terms in use), `num_keyframes`,
        `motion_frame_style`, `motion_frame_alpha`, `motion_encoder`, `dtype` and `transformers_version`.
    """
    folder = Path(folder)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{folder} has no config.json: not a saved model folder")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("model_type") != "macm":
        raise ValueError(f"{config_path}: model_type is {config.get('model_type')!r}, expected 'macm'")
    from macm.modeling_macm import MacmConfig
    from macm.modeling_macm.msd import MSD_TERMS

    defaults = MacmConfig  # the class defaults, for a config.json that leaves a field out
    alpha = config.get("msd_alpha", list(defaults.msd_alpha))
    return {
        "config": config,
        "text": _sub(config, "text_config"),
        "vision": _sub(config, "vision_config"),
        "parameters": count_parameters(folder),
        "msd": {
            "alpha": alpha,
            "alpha_text": ", ".join(f"{a:g}" for a in alpha),
            "beta": config.get("msd_beta", defaults.msd_beta),
            "theta": config.get("msd_theta", defaults.msd_theta),
            "synergy": config.get("msd_synergy", defaults.msd_synergy),
            "terms": list(config.get("msd_terms") or MSD_TERMS),
        },
        **{
            field: config.get(field, getattr(defaults, field))
            for field in (
                "num_keyframes",
                "motion_frame_style",
                "motion_frame_alpha",
                "motion_encoder",
                "loss_pathways",
            )
        },
        "dtype": config.get("dtype") or config.get("torch_dtype") or "float32",
        "transformers_version": config.get("transformers_version"),
    }
