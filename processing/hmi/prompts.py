"""Versioned annotation prompts: `prompts/<version>.md` files with a front matter, a System and a User section.

```
---
version: annotate_v1
---
## System
...
## User
... {{duration}} ... {{fine_windows}} ...
```

The User section's `{{placeholders}}` are filled per clip (`AnnotationPrompt.render`); the keyframes follow it as
image parts. The version and a hash of the text are stored with every annotation, so a changed prompt is visible in
the data and is a different run setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..prompt_files import VersionedPrompt, parse_prompt_file

__all__ = ["DEFAULT_PROMPT", "PLACEHOLDERS", "PROMPTS_DIR", "AnnotationPrompt", "load_annotation_prompt"]

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
DEFAULT_PROMPT = "annotate_v1"
PLACEHOLDERS = (
    "duration",
    "num_frames",
    "frame_times",
    "source_caption",
    "num_fine",
    "fine_windows",
    "num_contextual",
    "contextual_windows",
    "dimensions",
)


def _windows(windows: list[tuple[float, float]]) -> str:
    return ", ".join(f"{start:.1f}-{end:.1f} s" for start, end in windows) if windows else "(none)"


@dataclass(frozen=True)
class AnnotationPrompt(VersionedPrompt):
    """A versioned annotation prompt: its `user_template` has `{{placeholder}}`s from `PLACEHOLDERS`."""

    def render(
        self,
        duration: float,
        frame_times: list[float],
        fine_windows: list[tuple[float, float]],
        contextual_windows: list[tuple[float, float]],
        dimensions: list[str],
        source_caption: str | None = None,
    ) -> tuple[str, str]:
        """The system message and the user text for one clip."""
        hint = (
            f"The video's original description, which may be inaccurate or about other things: {source_caption.strip()}"
            if source_caption and source_caption.strip()
            else ""
        )
        values = {
            "duration": f"{duration:.1f}",
            "num_frames": str(len(frame_times)),
            "frame_times": ", ".join(f"{t:.1f}" for t in frame_times),
            "source_caption": hint,
            "num_fine": str(len(fine_windows)),
            "fine_windows": _windows(fine_windows),
            "num_contextual": str(len(contextual_windows)),
            "contextual_windows": _windows(contextual_windows),
            "dimensions": ", ".join(f'"{d}"' for d in dimensions),
        }
        user = re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], self.user_template)
        return self.system, user


def load_annotation_prompt(name_or_path: str | Path = DEFAULT_PROMPT) -> AnnotationPrompt:
    """Read a prompt: a version name under `prompts/` (`"annotate_v1"`) or a path to a `.md` file.

    Raises:
        `FileNotFoundError`: no such prompt.
        `ValueError`: the file lacks the front matter `version`, a section, or uses an unknown placeholder.
    """
    path = Path(name_or_path)
    if not path.suffix:
        path = PROMPTS_DIR / f"{name_or_path}.md"
    if not path.is_file():
        available = sorted(p.stem for p in PROMPTS_DIR.glob("*.md"))
        raise FileNotFoundError(
            f"annotation prompt {str(name_or_path)!r} not found (looked for {path}; have {available})"
        )
    version, parts = parse_prompt_file(path, "prompt")
    unknown = sorted(set(re.findall(r"\{\{(\w+)\}\}", parts["User"])) - set(PLACEHOLDERS))
    if unknown:
        raise ValueError(f"{path}: unknown placeholders {unknown}; available: {list(PLACEHOLDERS)}")
    return AnnotationPrompt(version=version, system=parts["System"], user_template=parts["User"])
