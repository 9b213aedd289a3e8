"""The upload plan of the Gradio Space: the app's files, the embedded checkpoint, the `macm` source it imports, a
pinned `requirements.txt` and the README front matter.

The Space runs `app.py` from the repository root, so the app's `from macm.processing ...` imports are served by a
copy of the installed package's source (`macm/`, only the subpackages the app uses) rather than by a requirement
on a package index: the Space then runs exactly the code it was tested with. `requirements.txt` pins the installed
versions of that code's dependencies (`macm`'s core and `motion` extra); Gradio itself comes with the Space SDK.
"""

from __future__ import annotations

import importlib.util
import logging
from importlib import metadata
from pathlib import Path

from huggingface_hub import SpaceCard
from packaging.requirements import Requirement
from packaging.version import Version

from .cards import render_space_card
from .checks import CardError, space_card_problems
from .plan import PushRefused, UploadPlan, walk_folder

__all__ = ["BUNDLED_PACKAGES", "EMBEDDED_MODEL_DIR", "plan_space", "space_requirements"]

logger = logging.getLogger(__name__)

BUNDLED_PACKAGES = ("macm.modeling_macm", "macm.processing")  # what the app imports, with their subpackages
EMBEDDED_MODEL_DIR = "synthmotion-tiny"
REQUIREMENTS_EXTRA = "motion"
SDK_PROVIDED = {"gradio"}
DEFAULT_TITLE = "M-ACM motion captioning"


def _installed_macm() -> metadata.Distribution:
    # pip records what it installed (RECORD); a stale `macm.egg-info` left in the working directory has no RECORD
    # and would otherwise shadow the installed metadata
    found = list(metadata.distributions(name="macm"))
    if not found:
        raise PushRefused("the macm distribution is not installed: the Space's requirements come from its metadata")
    return next((d for d in found if d.read_text("RECORD") is not None), found[0])


def space_requirements(extra: str = REQUIREMENTS_EXTRA) -> str:
    """`requirements.txt` of the Space: `macm`'s core requirements and those of `extra`, pinned to the installed
    versions (local version labels such as `+cpu` dropped)."""
    macm = _installed_macm()
    lines = [f"# dependencies of the bundled macm {macm.version} source (core and '{extra}' extra)"]
    for text in macm.requires or []:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        if requirement.name.lower() in SDK_PROVIDED:
            continue
        try:
            lines.append(f"{requirement.name}=={Version(metadata.version(requirement.name)).public}")
        except metadata.PackageNotFoundError:
            requirement.marker = None
            lines.append(str(requirement))
    return "\n".join(lines) + "\n"


def _bundle_macm(plan: UploadPlan) -> None:
    macm_root = Path(importlib.util.find_spec("macm").origin).parent
    plan.add_file("macm/__init__.py", macm_root / "__init__.py")
    for name in BUNDLED_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise PushRefused(f"{name} is not installed: the Space needs its source")
        package_dir = Path(list(spec.submodule_search_locations)[0])
        walk_folder(package_dir, plan, prefix="macm/" + "/".join(name.split(".")[1:]) + "/")  # code and data


def _skip_space_file(relative: str) -> str | None:
    if relative == "__init__.py":
        return "marks space/ as a package for the repository's tests; the Space runs app.py as a script"
    return None


def _embedded_model_problems(plan: UploadPlan) -> list[str]:
    prefix = f"{EMBEDDED_MODEL_DIR}/"
    files = [p[len(prefix) :] for p in plan.files if p.startswith(prefix)]
    problems = []
    if "config.json" not in files:
        problems.append(f"{prefix}: the embedded checkpoint has no config.json")
    if not any(f.endswith(".safetensors") for f in files):
        problems.append(f"{prefix}: the embedded checkpoint has no .safetensors weights")
    return problems


def plan_space(
    folder: str | Path,
    *,
    models: list[str] | None = None,
    title: str = DEFAULT_TITLE,
    license: str = "apache-2.0",
    datasets: list[str] | None = None,
) -> UploadPlan:
    """The upload plan of the Space folder (`space/`).

    Args:
        folder (`str` or `Path`): the Space's source folder (`app.py`, its modules, `examples/`, optionally the
            embedded checkpoint `synthmotion-tiny/`, a `README.md`, a `requirements.txt`).
        models (`list[str]`, *optional*): Hub ids of the checkpoints the app uses (front matter `models`). Without
            an embedded checkpoint, the first is set as the Space variable `MACM_MODEL`, which the app loads.
        title (`str`, *optional*): the Space title (when the README is generated).
        license (`str`, *optional*, defaults to `"apache-2.0"`): the Space licence (when the README is generated).
        datasets (`list[str]`, *optional*): Hub ids of datasets to list in the front matter.

    Raises:
        [`PushRefused`]: listing every problem (no `app.py`, incomplete front matter, a broken embedded checkpoint,
        a pickle or SMPL file).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PushRefused(f"Space folder {folder} does not exist")
    plan = UploadPlan(kind="space", source=folder)
    walk_folder(folder, plan, skip=_skip_space_file)
    problems = []
    embedded = EMBEDDED_MODEL_DIR if any(p.startswith(f"{EMBEDDED_MODEL_DIR}/") for p in plan.files) else None
    if embedded:
        problems += _embedded_model_problems(plan)
    if not any(p.startswith("macm/") for p in plan.files):
        _bundle_macm(plan)
    if "requirements.txt" in plan.files:
        note = "the Space folder's own requirements"
    else:
        plan.add_text("requirements.txt", space_requirements())
        note = "that code's dependencies, pinned to the versions it was tested with (Gradio comes with the SDK)"
    models = list(models or [])
    if "README.md" in plan.files:
        try:
            card = SpaceCard.load(plan.files["README.md"])
        except Exception as error:  # malformed YAML front matter
            problems.append(f"README.md: its YAML front matter does not parse ({error})")
        else:
            problems += [f"README.md: {p}" for p in space_card_problems(card, plan.files)]
            models = models or list(card.data.to_dict().get("models") or [])
    elif "app.py" not in plan.files:
        problems.append("no app.py: the Space's Gradio script")
    else:
        try:
            card = render_space_card(
                title=title,
                models=models,
                files=list(plan.files),
                license=license,
                datasets=datasets,
                embedded_model=embedded,
                requirements_note=note,
            )
            plan.add_text("README.md", str(card))
        except CardError as error:
            problems += [f"README.md: {p}" for p in error.problems]
    if not embedded and models:
        plan.space_variables["MACM_MODEL"] = models[0]
    problems += plan.refuse_forbidden()
    if problems:
        raise PushRefused(f"refusing to push Space folder {folder}:\n" + "\n".join(f"  - {p}" for p in problems))
    return plan
