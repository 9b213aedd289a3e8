"""ViTPose (the paper's pose model) through transformers: an RT-DETR person detector, then top-down ViTPose.

Both models come from the Hub and are loaded on first use (`from_pretrained`), so building the backend is cheap and
works offline until the first frame. The image processors are the PIL/numpy ones (`RTDetrImageProcessorPil`,
`VitPoseImageProcessorPil`): the default "fast" processors need torchvision, which is not a dependency here.
"""

from __future__ import annotations

import logging

import numpy as np

from .base import PoseBackend
from .types import COCO17_NAMES, PersonPose

__all__ = ["DEFAULT_DETECTOR_ID", "DEFAULT_VITPOSE_ID", "VitPoseBackend", "nms"]

logger = logging.getLogger(__name__)

DEFAULT_DETECTOR_ID = "PekingU/rtdetr_r50vd_coco_o365"
DEFAULT_VITPOSE_ID = "usyd-community/vitpose-base-simple"


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression.

    Args:
        boxes (`np.ndarray` of shape `(N, 4)`): x0, y0, x1, y1.
        scores (`np.ndarray` of shape `(N,)`).
        iou_threshold (`float`): a box overlapping a kept, higher-scoring box by more than this is dropped.

    Returns:
        `np.ndarray` of kept indices, highest score first.
    """
    order = np.argsort(-scores, kind="stable")
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    keep = []
    while len(order):
        best, rest = order[0], order[1:]
        keep.append(best)
        x0 = np.maximum(boxes[best, 0], boxes[rest, 0])
        y0 = np.maximum(boxes[best, 1], boxes[rest, 1])
        x1 = np.minimum(boxes[best, 2], boxes[rest, 2])
        y1 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


class VitPoseBackend(PoseBackend):
    """Top-down ViTPose: RT-DETR finds people, ViTPose estimates 17 COCO keypoints in each box.

    Args:
        detector_id (`str`, *optional*, defaults to `"PekingU/rtdetr_r50vd_coco_o365"`): Hub id or local folder of an
            `RTDetrForObjectDetection` checkpoint with its image processor.
        pose_id (`str`, *optional*, defaults to `"usyd-community/vitpose-base-simple"`): Hub id or local folder of a
            `VitPoseForPoseEstimation` checkpoint with its image processor.
        device (`str`, *optional*, defaults to `"cpu"`): torch device of both models.
        detection_threshold (`float`, *optional*, defaults to 0.5): minimum person score.
        nms_threshold (`float`, *optional*, defaults to 0.7): IoU above which duplicate person boxes are merged;
            `None` keeps every box above the threshold (RT-DETR is trained not to duplicate).
        max_people (`int`, *optional*, defaults to 10): most people kept per frame, highest scores first.
        revision (`str`, *optional*): Hub revision for both checkpoints.
    """

    name = "vitpose"
    keypoint_names = COCO17_NAMES
    has_world_keypoints = False

    def __init__(
        self,
        detector_id: str = DEFAULT_DETECTOR_ID,
        pose_id: str = DEFAULT_VITPOSE_ID,
        device: str = "cpu",
        detection_threshold: float = 0.5,
        nms_threshold: float | None = 0.7,
        max_people: int = 10,
        revision: str | None = None,
    ):
        if not 0.0 <= detection_threshold <= 1.0:
            raise ValueError(f"`detection_threshold` must be in [0, 1], got {detection_threshold}")
        if nms_threshold is not None and not 0.0 < nms_threshold <= 1.0:
            raise ValueError(f"`nms_threshold` must be in (0, 1] or None, got {nms_threshold}")
        if max_people < 1:
            raise ValueError(f"`max_people` must be >= 1, got {max_people}")
        self.detector_id = detector_id
        self.pose_id = pose_id
        self.device = device
        self.detection_threshold = detection_threshold
        self.nms_threshold = nms_threshold
        self.max_people = max_people
        self.revision = revision
        self._detector = self._detector_processor = self._pose_model = self._pose_processor = None
        self._person_label = 0

    def _load(self) -> None:
        if self._detector is not None:
            return
        from transformers import (
            RTDetrForObjectDetection,
            RTDetrImageProcessorPil,
            VitPoseForPoseEstimation,
            VitPoseImageProcessorPil,
        )

        from . import PoseBackendUnavailableError

        logger.info("Loading RT-DETR %s and ViTPose %s", self.detector_id, self.pose_id)
        try:
            self._detector_processor = RTDetrImageProcessorPil.from_pretrained(
                self.detector_id, revision=self.revision
            )
            self._detector = RTDetrForObjectDetection.from_pretrained(self.detector_id, revision=self.revision)
            self._pose_processor = VitPoseImageProcessorPil.from_pretrained(self.pose_id, revision=self.revision)
            self._pose_model = VitPoseForPoseEstimation.from_pretrained(self.pose_id, revision=self.revision)
        except OSError as error:  # not downloadable (offline, a wrong id) and not in the cache
            raise PoseBackendUnavailableError(f"pose backend 'vitpose' cannot load its models: {error}") from None
        self._detector.to(self.device).eval()
        self._pose_model.to(self.device).eval()
        if self._pose_model.config.num_labels != len(COCO17_NAMES):
            raise ValueError(
                f"ViTPose checkpoint {self.pose_id!r} predicts {self._pose_model.config.num_labels} keypoints; "
                f"this backend needs the {len(COCO17_NAMES)} COCO keypoints"
            )
        label2id = {name.lower(): index for name, index in (self._detector.config.label2id or {}).items()}
        self._person_label = int(label2id.get("person", 0))

    def detect_people(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Person boxes in one frame.

        Args:
            image (`np.ndarray` of shape `(H, W, 3)`, `uint8`): RGB frame.

        Returns:
            `tuple`: boxes `(N, 4)` x0, y0, x1, y1 in pixels (clipped to the image) and scores `(N,)`, best first.
        """
        import torch

        self._load()
        height, width = image.shape[:2]
        inputs = self._detector_processor(images=image, return_tensors="pt").to(self.device)
        with torch.no_grad():
            outputs = self._detector(**inputs)
        result = self._detector_processor.post_process_object_detection(
            outputs, threshold=self.detection_threshold, target_sizes=[(height, width)]
        )[0]
        person = (result["labels"] == self._person_label).cpu().numpy()
        boxes = result["boxes"].float().cpu().numpy()[person]
        scores = result["scores"].float().cpu().numpy()[person]
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width - 1)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height - 1)
        valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        boxes, scores = boxes[valid], scores[valid]
        order = nms(boxes, scores, self.nms_threshold) if self.nms_threshold is not None else np.argsort(-scores)
        order = order[: self.max_people]
        return boxes[order], scores[order]

    def detect(self, image: np.ndarray) -> list[PersonPose]:
        """People in one RGB frame with 17 COCO keypoints each (see `PoseBackend.detect`)."""
        import torch

        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"`image` must be an (H, W, 3) uint8 RGB frame, got {image.shape} {image.dtype}")
        boxes, scores = self.detect_people(image)
        if len(boxes) == 0:
            return []
        coco_boxes = boxes.copy()
        coco_boxes[:, 2:] -= coco_boxes[:, :2]  # ViTPose takes COCO boxes: x, y, width, height
        inputs = self._pose_processor(image, boxes=[coco_boxes], return_tensors="pt").to(self.device)
        kwargs = {}
        num_experts = getattr(self._pose_model.config.backbone_config, "num_experts", 1)
        if num_experts > 1:  # ViTPose++ mixes experts per dataset; index 0 is COCO
            kwargs["dataset_index"] = torch.zeros(len(boxes), dtype=torch.long, device=self.device)
        with torch.no_grad():
            outputs = self._pose_model(**inputs, **kwargs)
        results = self._pose_processor.post_process_pose_estimation(outputs, boxes=[coco_boxes])[0]
        people = []
        for box, score, result in zip(boxes, scores, results, strict=True):
            xy = result["keypoints"].float().cpu().numpy()  # (17, 2)
            confidence = np.clip(result["scores"].float().cpu().numpy(), 0.0, 1.0)  # heatmap peaks
            keypoints = np.concatenate([xy, confidence[:, None]], axis=1).astype(np.float32)
            people.append(PersonPose(keypoints=keypoints, bbox=box.astype(np.float32), score=float(score)))
        return people
