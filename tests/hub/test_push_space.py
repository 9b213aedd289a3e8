"""`macm push space`: the dry-run folder of space/ holds the app, a pinned requirements.txt, the `macm` source it
imports and README front matter; the app imports from that folder alone in a fresh process; bad folders are refused."""

from __future__ import annotations

import ast
import json
import shutil
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from hub_helpers import FakeHub, relative_files, run_cli
from huggingface_hub import SpaceCard
from isolated import REPO_ROOT, run_isolated
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

SPACE = REPO_ROOT / "space"

IMPORT_APP = """
import json
folder = sys.argv[1]
sys.path.insert(0, folder)  # how the Space runs app.py: from its repository root
import gradio as gr
import app
import macm
loaded = [m for m in list(sys.modules.values()) if (getattr(m, "__file__", None) or "").startswith(folder)]
holders = [m for m in loaded if hasattr(m, "current_model")]
print(json.dumps({
    "macm": macm.__file__,
    "demo": isinstance(app.demo, gr.Blocks),
    "model_ready": [m.current_model().ready for m in holders],
    "model_source": [m.current_model().source for m in holders],
    "loaded_files": sorted(m.__file__ for m in loaded),
}))
"""


@pytest.fixture(scope="module")
def space_dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("space") / "upload"
    patch = pytest.MonkeyPatch()
    try:
        assert run_cli(patch, "push", "space", SPACE, "--repo-id", "tiny-org/macm-demo", "--model-id",
                       "tiny-org/macm-tiny", "--dry-run", out) == 0  # fmt: skip
    finally:
        patch.undo()
    return out


def test_dry_run_holds_app_requirements_source_and_front_matter(space_dry_run):
    files = relative_files(space_dry_run)
    assert {"app.py", "requirements.txt", "README.md", "macm/__init__.py"} <= files
    assert {p for p in relative_files(SPACE) if "__pycache__" not in p} - {"__init__.py"} <= files
    assert "macm/modeling_macm/msd.py" in files and "macm/processing/pipeline.py" in files
    data = SpaceCard.load(space_dry_run / "README.md").data.to_dict()
    assert data["sdk"] == "gradio" and data["app_file"] == "app.py" and (space_dry_run / data["app_file"]).is_file()
    assert data["models"] == ["tiny-org/macm-tiny"] and data["sdk_version"]
    requirements = [Requirement(line) for line in (space_dry_run / "requirements.txt").read_text().splitlines()
                    if line and not line.startswith("#")]  # fmt: skip
    assert {"torch", "transformers", "av", "opencv-python-headless"} <= {r.name for r in requirements}
    assert all(str(r.specifier).startswith("==") for r in requirements)  # pinned
    assert "gradio" not in {r.name for r in requirements}  # the SDK provides it, at sdk_version


def _dependency_closure(names: set[str]) -> set[str]:
    seen, todo = set(), [canonicalize_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in map(Requirement, requires):
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return seen


def _module_level_imports(path: Path) -> set[str]:
    """Top-level names a file imports when it is loaded (module body and its `if` blocks; `try` blocks guard
    optional imports and are left out)."""
    names, todo = set(), list(ast.parse(path.read_text()).body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.If):
            todo += node.body + node.orelse
    return names


def test_app_imports_from_the_dry_run_folder_alone(space_dry_run, saved_tiny_model, tmp_path):
    pytest.importorskip("gradio")
    env = {"MACM_MODEL": str(saved_tiny_model), "MACM_SPACE_TMP": str(tmp_path / "requests")}
    result = run_isolated(IMPORT_APP, str(space_dry_run), cwd=tmp_path, env=env)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["macm"].startswith(str(space_dry_run))  # the bundled source, not the repository's
    assert report["demo"] is True
    assert report["model_ready"] and all(report["model_ready"]), report
    assert set(report["model_source"]) == {str(saved_tiny_model)}

    # every third-party package the loaded Space files import is installed by requirements.txt or the Gradio SDK
    requirements = {Requirement(line).name for line in (space_dry_run / "requirements.txt").read_text().splitlines()
                    if line and not line.startswith("#")}  # fmt: skip
    provided = _dependency_closure(requirements | {"gradio", "spaces"})
    local = {p.stem for p in space_dry_run.glob("*.py")} | {"macm"}
    owners = metadata.packages_distributions()
    imported = set().union(*(_module_level_imports(Path(f)) for f in report["loaded_files"]))
    third_party = imported - local - set(sys.stdlib_module_names) - {"__future__"}
    assert {"torch", "gradio", "numpy"} <= third_party
    missing = {name for name in third_party if not {canonicalize_name(d) for d in owners.get(name, [name])} & provided}
    assert not missing, f"imported by the Space but installed neither by requirements.txt nor the SDK: {missing}"


@pytest.fixture
def small_space(tmp_path):
    """A minimal Space folder: an app file and an example."""
    folder = tmp_path / "space"
    (folder / "examples").mkdir(parents=True)
    (folder / "app.py").write_text("import gradio as gr\n\ndemo = gr.Blocks()\n")
    (folder / "examples" / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    return folder


def _refusal(monkeypatch, capsys, folder, *extra) -> str:
    assert run_cli(monkeypatch, "push", "space", folder, "--repo-id", "o/s", *extra) == 2
    return capsys.readouterr().err


def test_refusals(small_space, monkeypatch, capsys):
    hub = FakeHub(monkeypatch)
    assert "`models` is missing (give --model-id)" in _refusal(monkeypatch, capsys, small_space)
    np.savez(small_space / "examples" / "SMPL_MALE.npz", v_template=np.zeros(3))
    error = _refusal(monkeypatch, capsys, small_space, "--model-id", "o/m")
    assert "examples/SMPL_MALE.npz: an SMPL-family body model file" in error
    (small_space / "examples" / "SMPL_MALE.npz").unlink()
    (small_space / "README.md").write_text("---\ntitle: x\nsdk: streamlit\napp_file: app.py\nmodels: [o/m]\n---\n")
    assert "`sdk` must be 'gradio', got 'streamlit'" in _refusal(monkeypatch, capsys, small_space)
    (small_space / "README.md").unlink()
    (small_space / "app.py").rename(small_space / "main.py")
    assert "no app.py" in _refusal(monkeypatch, capsys, small_space, "--model-id", "o/m")
    assert hub.calls == []


def test_embedded_checkpoint_is_shipped_and_used(small_space, saved_tiny_model, monkeypatch, capsys):
    shutil.copytree(saved_tiny_model, small_space / "synthmotion-tiny")
    hub = FakeHub(monkeypatch)
    assert run_cli(monkeypatch, "push", "space", small_space, "--repo-id", "o/s", "--model-id", "o/m") == 0
    assert "add_space_variable" not in hub.names()  # the embedded checkpoint is the default
    assert hub.call("create_repo")["repo_type"] == "space" and hub.call("create_repo")["space_sdk"] == "gradio"
    assert {f"synthmotion-tiny/{f}" for f in relative_files(saved_tiny_model)} <= set(hub.uploaded)
    assert b"a copy ships in `synthmotion-tiny/`" in hub.uploaded["README.md"]

    (small_space / "synthmotion-tiny" / "model.safetensors").unlink()
    assert "the embedded checkpoint has no .safetensors weights" in _refusal(monkeypatch, capsys, small_space)


def test_model_id_becomes_the_space_variable_without_an_embedded_checkpoint(small_space, monkeypatch):
    hub = FakeHub(monkeypatch)
    assert run_cli(monkeypatch, "push", "space", small_space, "--repo-id", "o/s", "--model-id", "o/m") == 0
    assert hub.names().index("add_space_variable") < hub.names().index("upload_folder")
    assert hub.call("add_space_variable")["args"] == ("o/s", "MACM_MODEL", "o/m")
