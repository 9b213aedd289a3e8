"""Optional adapter to OpenMMLab's MMPose (`MMPoseInferencer`), for users who have an mmpose installation.

mmpose is not a dependency: it needs mmcv, which has no wheels for current torch releases (and its source build
fails here), so this module imports it only when the backend is built and says so when it is missing.
"""

from __future__ import annotations

import logging

import numpy as np

from .base import PoseBackend
from .dwpose import COCO_WHOLEBODY133_NAMES
from .types import COCO17_NAMES, PersonPose

__all__ = ["MMPoseBackend"]

logger = logging.getLogger(__name__)

# Keypoint layouts of MMPoseInferencer's pose2d aliases.
_ALIAS_LAYOUTS: dict[str, tuple[str, ...]] = {
    "human": COCO17_NAMES,
    "wholebody": COCO_WHOLEBODY133_NAMES,
}

_MISSING = (
    "mmpose is not installed (OpenMMLab's mmcv has no wheels for current torch). Use the 'vitpose', 'dwpose' or "
    "'blazepose' backend instead, or install mmpose, mmcv and mmdet in an environment with a torch they support."
)


class MMPoseBackend(PoseBackend):
    """Pose estimation through `mmpose.apis.MMPoseInferencer`.

    Args:
        pose2d (`str`, *optional*, defaults to `"human"`): model alias or config name, as for `MMPoseInferencer`.
        keypoint_names (`tuple[str, ...]`, *optional*): layout of the model's keypoints; known for the `"human"`
            (COCO-17) and `"wholebody"` (COCO-WholeBody 133) aliases, required otherwise.
        device (`str`, *optional*): device for the inferencer (`"cpu"`, `"cuda:0"`).
        **inferencer_kwargs: passed to `MMPoseInferencer` (e.g. `pose2d_weights`, `det_model`).
    """

    name = "mmpose"
    has_world_keypoints = False

    def __init__(
        self,
        pose2d: str = "human",
        keypoint_names: tuple[str, ...] | None = None,
        device: str | None = None,
        **inferencer_kwargs,
    ):
        names = keypoint_names if keypoint_names is not None else _ALIAS_LAYOUTS.get(pose2d, ())
        if not names:
            raise ValueError(f"`keypoint_names` is required for pose2d={pose2d!r} (its layout is not known here)")
        try:
            from mmpose.apis import MMPoseInferencer
        except ImportError as error:
            raise ImportError(_MISSING) from error
        self.keypoint_names = tuple(names)
        self._inferencer = MMPoseInferencer(pose2d=pose2d, device=device, **inferencer_kwargs)

    def detect(self, image: np.ndarray) -> list[PersonPose]:
        """People in one RGB frame (see `PoseBackend.detect`); mmpose takes BGR, so the channels are swapped."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"`image` must be an (H, W, 3) uint8 RGB frame, got {image.shape} {image.dtype}")
        result = next(self._inferencer(np.ascontiguousarray(image[..., ::-1]), return_vis=False))
        people = []
        for prediction in result["predictions"][0]:
            xy = np.asarray(prediction["keypoints"], dtype=np.float32)
            scores = np.clip(np.asarray(prediction["keypoint_scores"], dtype=np.float32), 0.0, 1.0)
            if xy.shape != (len(self.keypoint_names), 2):
                raise ValueError(
                    f"mmpose returned keypoints of shape {xy.shape}; `keypoint_names` has {len(self.keypoint_names)}"
                )
            bbox = np.asarray(prediction["bbox"], dtype=np.float32).reshape(-1)[:4]
            score = prediction.get("bbox_score", 1.0)
            people.append(
                PersonPose(
                    keypoints=np.concatenate([xy, scores[:, None]], axis=1),
                    bbox=bbox,
                    score=float(np.asarray(score).reshape(-1)[0]),
                )
            )
        return people
