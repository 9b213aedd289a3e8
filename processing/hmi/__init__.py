"""HMI data: curation of source videos into captioned human-motion clips, and loading of HMI-format data.

- `build_hmi` (`macm build-hmi`): scene detection, 2-10 s clips, the paper's motion-quality filters, pose-driven
  keyframes and annotation through an OpenAI-compatible endpoint, into a Hub dataset folder; resumable and shardable.
- `merge_outputs` (`macm merge-hmi`): join the folders of shard runs.
- `load_hmi`: an HMI-format folder or Hub dataset, or an HMI-Bench folder, as a `datasets.Dataset`, optionally with
  decoded keyframes and motion frames.

Submodules are imported on first use, so `import macm.processing.hmi` stays light.
"""

from __future__ import annotations

from ..lazy import lazy_exports

__all__ = ["BuildConfig", "build_hmi", "finalize_output", "load_hmi", "merge_outputs"]

_EXPORTS = {
    "BuildConfig": "build",
    "build_hmi": "build",
    "finalize_output": "build",
    "load_hmi": "loading",
    "merge_outputs": "merge",
}

__getattr__ = lazy_exports(__name__, _EXPORTS)
