"""Run a script in a fresh interpreter that cannot see the project's source tree or its editable install."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Drops the repository's folders and the editable-install hooks from a fresh interpreter, so that only the files of
# the folder under test can provide `macm` or the model code.
ISOLATION = textwrap.dedent(
    """
    import sys
    REPO = {repo!r}
    in_repo = lambda p: p == REPO or (p.startswith(REPO + "/") and "site-packages" not in p)  # noqa: E731
    sys.path[:] = [p for p in sys.path if p and not in_repo(p) and "__editable__" not in p]
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path_hooks[:] = [h for h in sys.path_hooks if "editable" not in repr(h).lower()]
    sys.path_importer_cache.clear()
    """
)


def run_isolated(body: str, *args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `body` after `ISOLATION` in a fresh interpreter; fails the test with its stderr when it fails."""
    script = Path(cwd) / "isolated_script.py"
    script.write_text(ISOLATION.format(repo=str(REPO_ROOT)) + textwrap.dedent(body))
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", **(env or {})}
    environment.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, str(script), *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result


# Loads a saved M-ACM folder through the Auto classes (its own .py files only), runs both pathways and a short MSD
# generation on saved inputs, and saves what the tests compare: argv = folder, inputs.pt, out.pt.
LOAD_AND_RUN_MODEL = """
try:
    import macm  # noqa: F401
    raise SystemExit("the project package is still importable")
except ImportError:
    pass
import torch
from transformers import AutoModel, AutoProcessor
folder, inputs_path, out_path = sys.argv[1:4]
model = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
processor = AutoProcessor.from_pretrained(folder, trust_remote_code=True)
inputs = torch.load(inputs_path)
with torch.no_grad():
    logits = model(**inputs, pathways="both").logits
ids = model.generate(**inputs, max_new_tokens=6, do_sample=False, msd=True)
torch.save({"logits": logits, "ids": ids, "model": type(model).__name__, "processor": type(processor).__name__,
            "module": type(model).__module__, "prompt_len": processor.num_video_tokens(3)}, out_path)
"""
