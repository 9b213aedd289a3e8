"""An upload plan: the exact files a push sends (repo path -> local file or generated text), what was left out and
why, and the folder it materialises into (the `--dry-run` output, or the staging folder that is uploaded)."""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .forbidden import forbidden_reason

__all__ = ["PushRefused", "UploadPlan", "walk_folder"]

logger = logging.getLogger(__name__)

# never part of a repo: version control, caches, editor and OS litter
_SKIPPED_DIRS = {"__pycache__", ".git", ".cache", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}


class PushRefused(ValueError):
    """The folder must not be pushed as it is; the message lists every reason and the fix."""


@dataclass
class UploadPlan:
    """What one push uploads.

    Args:
        kind (`str`): `"model"`, `"dataset"` or `"space"` (the Hub repo type).
        source (`Path`): the folder the plan was made from.
        files (`dict[str, Path | str]`): repo path -> local file to copy, or text to write (generated files).
        left_out (`list[tuple[str, str]]`): `(path, reason)` of the folder's files that are not uploaded.
        space_variables (`dict[str, str]`): Space variables to set (Spaces only).
    """

    kind: str
    source: Path
    files: dict[str, Path | str] = field(default_factory=dict)
    left_out: list[tuple[str, str]] = field(default_factory=list)
    space_variables: dict[str, str] = field(default_factory=dict)

    def add_file(self, repo_path: str, local: Path) -> None:
        self.files[repo_path] = local

    def add_text(self, repo_path: str, text: str) -> None:
        self.files[repo_path] = text

    def refuse_forbidden(self) -> list[str]:
        """Problems for every local file of the plan that is a pickle or an SMPL-family model file."""
        problems = []
        for repo_path, local in sorted(self.files.items()):
            if isinstance(local, Path):
                reason = forbidden_reason(local)
                if reason is not None:
                    problems.append(f"{repo_path}: {reason}; move it out of the folder")
        return problems

    def total_bytes(self) -> int:
        return sum(v.stat().st_size if isinstance(v, Path) else len(v.encode()) for v in self.files.values())

    def write(self, out: str | Path, link: bool = False) -> Path:
        """Materialise the plan in `out` (created; must be empty). `link=True` hard-links local files where the
        file system allows (the staging folder of an upload), else they are copied (the `--dry-run` folder)."""
        out = Path(out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise FileExistsError(f"{out} exists and is not an empty folder; give a new path")
        out.mkdir(parents=True, exist_ok=True)
        for repo_path, local in self.files.items():
            target = out / repo_path
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(local, str):
                target.write_text(local, encoding="utf-8")
                continue
            if link:
                try:
                    os.link(local, target)
                    continue
                except OSError:
                    pass
            shutil.copy2(local, target)
        return out

    def summary(self) -> str:
        lines = [f"{len(self.files)} files, {self.total_bytes() / 1e6:.2f} MB, from {self.source}"]
        lines += [f"  left out: {path} ({reason})" for path, reason in self.left_out]
        lines += [f"  Space variable: {key}={value}" for key, value in self.space_variables.items()]
        return "\n".join(lines)


def walk_folder(folder: Path, plan: UploadPlan, skip=None, prefix: str = "") -> None:
    """Add every file under `folder` to `plan` (at `prefix` + its relative path), leaving out hidden files, caches
    and whatever `skip(relative_path) -> reason | None` names."""
    for root, dirs, names in os.walk(folder):
        root_path = Path(root)
        relative_root = root_path.relative_to(folder)
        kept_dirs = []
        for name in sorted(dirs):
            relative = (relative_root / name).as_posix()
            reason = "hidden or cache folder" if name in _SKIPPED_DIRS or name.startswith(".") else None
            if reason is None and (root_path / name).is_symlink():
                reason = "a symbolic link to a folder (copy the folder in)"
            reason = reason or (skip(relative + "/") if skip else None)
            if reason:
                plan.left_out.append((prefix + relative + "/", reason))
            else:
                kept_dirs.append(name)
        dirs[:] = kept_dirs
        for name in sorted(names):
            relative = (relative_root / name).as_posix()
            reason = None
            if name.startswith(".") or Path(name).suffix in _SKIPPED_SUFFIXES:
                reason = "hidden or compiled file"
            elif skip:
                reason = skip(relative)
            if reason:
                plan.left_out.append((prefix + relative, reason))
            else:  # a linked file (e.g. in a Hub cache snapshot) is uploaded as the file it points to
                plan.add_file(prefix + relative, (root_path / name).resolve())
