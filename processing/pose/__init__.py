"""Pose backends behind one interface, and the `PoseTrack` they produce.

Backends are looked up by name with `get_pose_backend`; each lives in its own module, imported only
when asked for, so a missing optional dependency (ONNX Runtime, a transformers model) only matters to
the backend that needs it.
"""

from __future__ import annotations

import importlib
import inspect

from .base import PoseBackend
from .types import COCO17_NAMES, PersonPose, PoseTrack

__all__ = [
    "COCO17_NAMES",
    "POSE_BACKENDS",
    "PersonPose",
    "PoseBackend",
    "PoseBackendUnavailableError",
    "PoseTrack",
    "get_pose_backend",
]

# name -> (module, class), imported lazily.
POSE_BACKENDS: dict[str, tuple[str, str]] = {
    "blazepose": ("macm.processing.pose.blazepose", "BlazePoseBackend"),
    "vitpose": ("macm.processing.pose.vitpose", "VitPoseBackend"),
    "dwpose": ("macm.processing.pose.dwpose", "DWPoseBackend"),
    "mmpose": ("macm.processing.pose.mmpose_adapter", "MMPoseBackend"),
}


class PoseBackendUnavailableError(ImportError):
    """A pose backend cannot be built here (its module, a dependency or its model files are missing)."""


def get_pose_backend(name: str, **kwargs) -> PoseBackend:
    """Build a pose backend by name.

    Args:
        name (`str`): one of `POSE_BACKENDS` (`"blazepose"`, `"vitpose"`, `"dwpose"`).
        **kwargs: passed to the backend's constructor.

    Raises:
        `ValueError`: `name` is not a known backend.
        `PoseBackendUnavailableError`: the backend's module or one of its dependencies cannot be imported,
            or its model files cannot be found.
    """
    if name not in POSE_BACKENDS:
        raise ValueError(f"Unknown pose backend {name!r}; choose one of {sorted(POSE_BACKENDS)}")
    module_name, class_name = POSE_BACKENDS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        missing = getattr(error, "name", None) or str(error)
        if missing == module_name:
            raise PoseBackendUnavailableError(f"pose backend {name!r} is not part of this installation") from error
        raise PoseBackendUnavailableError(
            f"pose backend {name!r} needs {missing!r}, which is not installed"
        ) from error
    backend_class = getattr(module, class_name, None)
    if backend_class is None:
        raise PoseBackendUnavailableError(f"pose backend {name!r}: {module_name} has no {class_name}")
    try:
        inspect.signature(backend_class).bind(**kwargs)
    except TypeError:
        needed = [
            parameter.name
            for parameter in inspect.signature(backend_class).parameters.values()
            if parameter.default is inspect.Parameter.empty
            and parameter.name not in kwargs
            and parameter.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        ]
        raise PoseBackendUnavailableError(
            f"pose backend {name!r} needs {', '.join(needed)}, which were not given"
        ) from None
    try:
        return backend_class(**kwargs)
    except (ImportError, FileNotFoundError) as error:
        raise PoseBackendUnavailableError(f"pose backend {name!r} is unavailable: {error}") from error
