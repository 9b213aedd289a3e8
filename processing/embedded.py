"""Where the embedded SynthMotion checkpoint is, found one way in an editable install, a wheel and the Space.

The Space folder `space/` is installed as the package `macm.space` (pyproject's package-dir), its checkpoint
`synthmotion-tiny/` as that package's data, so the import system finds it: the checkout's `space/` in an editable
install, `site-packages/macm/space/` from a wheel. On the Space itself `app.py`'s folder is that same folder, and
`space/checkpoint.py` looks beside itself.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["EMBEDDED_MODEL_DIR", "embedded_model", "space_dir"]

EMBEDDED_MODEL_DIR = "synthmotion-tiny"


def space_dir() -> Path | None:
    """The installed `macm.space` folder, or `None` where it is not installed (e.g. on the Space, which bundles only
    `macm.modeling_macm` and `macm.processing`)."""
    spec = importlib.util.find_spec("macm.space")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def embedded_model() -> Path | None:
    """The embedded checkpoint's folder when it is there (it holds a `config.json`), else `None`."""
    folder = space_dir()
    if folder is None or not (folder / EMBEDDED_MODEL_DIR / "config.json").is_file():
        return None
    return folder / EMBEDDED_MODEL_DIR
