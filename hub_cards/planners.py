"""Upload plans of a model folder and of a dataset folder, with every reason to refuse them."""

from __future__ import annotations

import ast
import json
import logging
import re
from pathlib import Path

from huggingface_hub import DatasetCard, ModelCard

from .checks import dataset_card_problems, model_card_problems
from .plan import PushRefused, UploadPlan, walk_folder

__all__ = ["plan_dataset", "plan_model", "remote_code_modules"]

logger = logging.getLogger(__name__)

# what `Trainer` writes beside the model: optimizer state, RNG state and arguments are pickles, and none of it is
# part of the model
_RUN_FILES = re.compile(
    r"(training_args\.bin|optimizer\.pt|scheduler\.pt|scaler\.pt|rng_state(_\d+)?\.pth|trainer_state\.json)"
)
_RUN_DIRS = re.compile(r"(checkpoint-\d+|runs)/")
_AUTO_MAP_FILES = ("config.json", "processor_config.json", "preprocessor_config.json", "tokenizer_config.json")
CARD_COMMAND = "macm card model FOLDER --repo-id ID --revision TAG --base-model ID --dataset ID ..."


def _skip_training_run(relative: str) -> str | None:
    if _RUN_DIRS.fullmatch(relative):
        return "training run folder (checkpoints, logs)"
    if _RUN_FILES.fullmatch(relative):
        return "training run file, not part of the model"
    return None


def _auto_map_modules(folder: Path) -> dict[str, str]:
    """Module name -> the file naming it, for every `auto_map` entry of the folder's configs."""
    modules = {}
    for name in _AUTO_MAP_FILES:
        path = folder / name
        if not path.is_file():
            continue
        config = json.loads(path.read_text(encoding="utf-8"))
        auto_maps = [config.get("auto_map") or {}]
        auto_maps += [v.get("auto_map") or {} for v in config.values() if isinstance(v, dict)]  # nested processors
        for auto_map in auto_maps:
            for reference in auto_map.values():
                for item in reference if isinstance(reference, list) else [reference]:
                    if item and "--" not in item:  # "module.Class"; "repo--module.Class" is code in another repo
                        modules.setdefault(item.rsplit(".", 1)[0], name)
    return modules


def _relative_imports(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            # `from .msd import x` needs msd.py; `from . import msd` names the sibling in the import list
            modules.update([node.module.split(".")[0]] if node.module else [alias.name for alias in node.names])
    return modules


def remote_code_modules(folder: Path, plan: UploadPlan) -> list[str]:
    """Make sure `plan` holds every `.py` file `trust_remote_code` loads: the `auto_map` modules and their relative
    imports. A file the folder lacks is taken from the installed `macm.modeling_macm` (logged); one that differs from
    it is a problem (the Hub would run other code than this package). Returns problems."""
    from macm import modeling_macm

    installed = Path(modeling_macm.__file__).parent
    problems = []
    pending = list(_auto_map_modules(folder))
    seen = set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        repo_path = f"{module}.py"
        if repo_path not in plan.files:
            if (installed / repo_path).is_file():
                plan.add_file(repo_path, installed / repo_path)
                logger.info("%s: not in the folder, added from the installed macm.modeling_macm", repo_path)
            else:
                problems.append(f"{repo_path} is named by `auto_map` (or imported by its modules) but is missing")
                continue
        source = plan.files[repo_path]
        text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
        if (installed / repo_path).is_file() and text != (installed / repo_path).read_text(encoding="utf-8"):
            problems.append(
                f"{repo_path} differs from the installed macm.modeling_macm/{repo_path} (a stale copy): copy it "
                "again or re-save the model"
            )
        pending += sorted(_relative_imports(text))
    return problems


def _weights_problems(folder: Path, plan: UploadPlan) -> list[str]:
    weights = [p for p in plan.files if p.endswith(".safetensors") and "/" not in p]
    if not weights:
        return ["no .safetensors weights: save the model with `save_pretrained` (safetensors is its default)"]
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
        missing = sorted(shards - set(weights))
        if missing:
            return [f"model.safetensors.index.json names shards that are missing: {missing}"]
    return []


def _config_problems(folder: Path) -> list[str]:
    path = folder / "config.json"
    if not path.is_file():
        return ["no config.json: not a saved model folder"]
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        return [f"config.json is not JSON: {error}"]
    auto_map = config.get("auto_map") or {}
    missing = [key for key in ("AutoConfig", "AutoModel") if key not in auto_map]
    if missing:
        return [
            f"config.json has no `auto_map` entry for {', '.join(missing)}: `AutoModel.from_pretrained(..., "
            "trust_remote_code=True)` could not load it (save with the classes from `macm.modeling_macm`, which "
            "register themselves)"
        ]
    return []


def _model_card_problems(folder: Path) -> list[str]:
    path = folder / "README.md"
    if not path.is_file():
        return [f"no model card README.md: write it with `{CARD_COMMAND}`"]
    try:
        card = ModelCard.load(path)
    except Exception as error:  # malformed YAML front matter
        return [f"README.md: its YAML front matter does not parse ({error})"]
    problems = model_card_problems(card)
    if problems:
        return [f"README.md: {p}" for p in problems] + [f"rewrite the card with `{CARD_COMMAND} --overwrite`"]
    return []


def plan_model(folder: str | Path) -> UploadPlan:
    """The upload plan of a saved M-ACM folder (a `save_pretrained` output or a training run's output folder).

    Training run files (`training_args.bin`, `checkpoint-N/`, optimizer and RNG state) are left out. Refuses
    (`PushRefused`, listing every reason) a folder without safetensors weights, without `auto_map`, without a card
    `README.md` holding the required metadata, or holding a pickle or an SMPL-family model file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PushRefused(f"model folder {folder} does not exist")
    plan = UploadPlan(kind="model", source=folder)
    walk_folder(folder, plan, skip=_skip_training_run)
    problems = _config_problems(folder) + _weights_problems(folder, plan)
    if not problems:
        problems += remote_code_modules(folder, plan)
    problems += _model_card_problems(folder)
    problems += plan.refuse_forbidden()
    if problems:
        raise PushRefused(f"refusing to push model folder {folder}:\n" + "\n".join(f"  - {p}" for p in problems))
    return plan


def plan_dataset(folder: str | Path) -> UploadPlan:
    """The upload plan of a dataset folder: everything in it, with a card whose `configs` select existing files.

    Refuses (`PushRefused`) a folder without a card `README.md`, whose card lacks `license` or `configs` or whose
    `configs` match no file, or that holds a pickle or an SMPL-family model file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PushRefused(f"dataset folder {folder} does not exist")
    plan = UploadPlan(kind="dataset", source=folder)
    walk_folder(folder, plan)
    problems = []
    path = folder / "README.md"
    if not path.is_file():
        problems.append(
            "no dataset card README.md: write it with `macm card dataset FOLDER --repo-id ID --license ID`"
        )
    else:
        try:
            card = DatasetCard.load(path)
        except Exception as error:  # malformed YAML front matter
            problems.append(f"README.md: its YAML front matter does not parse ({error})")
        else:
            problems += [f"README.md: {p}" for p in dataset_card_problems(card, plan.files)]
    problems += plan.refuse_forbidden()
    if problems:
        raise PushRefused(f"refusing to push dataset folder {folder}:\n" + "\n".join(f"  - {p}" for p in problems))
    return plan
