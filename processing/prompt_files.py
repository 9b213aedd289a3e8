"""Versioned prompt files: `---` front matter naming the version, then a `## System` and a `## User` section.

The HMI annotator and the HMI-Bench judge each keep theirs in such files and render their own placeholders.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["VersionedPrompt", "parse_prompt_file"]


@dataclass(frozen=True)
class VersionedPrompt:
    """A prompt read from a versioned file (`parse_prompt_file`); the judge and the HMI annotator render their own.

    Args:
        version (`str`): the version named in the file's front matter (e.g. ``"judge_v1"``).
        system (`str`): the system message.
        user_template (`str`): the user message with ``{{placeholder}}``s.
    """

    version: str
    system: str
    user_template: str

    @property
    def sha256(self) -> str:
        """Hash of the version and both sections, stored with every result so a changed prompt shows."""
        return hashlib.sha256(f"{self.version}\0{self.system}\0{self.user_template}".encode()).hexdigest()


def parse_prompt_file(path: Path, kind: str) -> tuple[str, dict[str, str]]:
    """A versioned prompt file: `---` front matter with `version: ...`, then `## System` and `## User` sections.

    Returns `(version, {"System": ..., "User": ...})`; errors name the file and say what is missing (`kind`, e.g.
    `"judge prompt"`, words the first one).
    """
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, flags=re.S)
    if not match:
        raise ValueError(f"{path}: a {kind} starts with a '---' front matter block holding 'version: ...'")
    front = dict(line.split(":", 1) for line in match.group(1).splitlines() if ":" in line)
    version = front.get("version", "").strip()
    if not version:
        raise ValueError(f"{path}: front matter has no 'version'")
    sections = re.split(r"^## (System|User)\s*$", match.group(2), flags=re.M)
    parts = {sections[i]: sections[i + 1].strip() for i in range(1, len(sections) - 1, 2)}
    if "System" not in parts or "User" not in parts:
        raise ValueError(f"{path}: needs a '## System' and a '## User' section, found {sorted(parts)}")
    return version, parts
