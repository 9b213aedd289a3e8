"""DWPose (the paper's filter model) through ONNX Runtime, from ONNX files the user provides.

Two models, as in the DWPose release (`yolox_l.onnx` + `dw-ll_ucoco_384.onnx`) and rtmlib:

- a YOLOX detector: input `(1, 3, H, W)` float, the frame letterboxed into the top-left corner (scale kept, padding
  114, no normalisation); output either the raw head `(1, N, 5 + C)` (box offsets, objectness, class scores over
  strides 8/16/32, decoded here with greedy NMS) or end-to-end detections `(1, N, 5)` (x0, y0, x1, y1, score in
  input pixels, NMS done in the graph);
- an RTMPose/DWPose SimCC pose model: input `(1, 3, h, w)`, the person box enlarged 1.25x, widened to the model's
  aspect ratio and warped in, normalised with ImageNet mean/std in 0-255 units; outputs `simcc_x (1, K, w * r)` and
  `simcc_y (1, K, h * r)`, the keypoint at the argmax of each axis divided by the split ratio `r`.

The 133 COCO-WholeBody keypoints start with the 17 COCO body keypoints, so `PoseTrack.to_coco17` works.
Input sizes are read from the ONNX files. Channel order is RGB by default (what DWPose's own annotator feeds both
models); set `bgr=True` for exports that expect OpenCV's BGR.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from .base import PoseBackend
from .types import COCO17_NAMES, PersonPose
from .vitpose import nms

__all__ = ["COCO_WHOLEBODY133_NAMES", "DWPoseBackend", "decode_simcc", "decode_yolox"]

logger = logging.getLogger(__name__)

COCO_WHOLEBODY133_NAMES: tuple[str, ...] = (
    *COCO17_NAMES,
    "left_big_toe",
    "left_small_toe",
    "left_heel",
    "right_big_toe",
    "right_small_toe",
    "right_heel",
    *(f"face_{i}" for i in range(68)),
    *(f"left_hand_{i}" for i in range(21)),
    *(f"right_hand_{i}" for i in range(21)),
)

_POSE_MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
_POSE_STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)
_YOLOX_STRIDES = (8, 16, 32)


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError(
            "The DWPose backend needs ONNX Runtime, which is not installed: pip install onnxruntime "
            "(or onnxruntime-gpu)"
        ) from error
    return onnxruntime


def decode_yolox(output: np.ndarray, input_size: tuple[int, int], strides: tuple[int, ...] = _YOLOX_STRIDES):
    """Boxes and per-class scores from a raw YOLOX head.

    Args:
        output (`np.ndarray` of shape `(N, 5 + C)`): per anchor `dx, dy, log w, log h, objectness, class scores`
            (after the head's sigmoid), anchors ordered stride by stride, row-major.
        input_size (`tuple[int, int]`): (height, width) of the detector input.
        strides (`tuple[int, ...]`, *optional*, defaults to `(8, 16, 32)`).

    Returns:
        `tuple`: boxes `(N, 4)` x0, y0, x1, y1 in input pixels and scores `(N, C)` (objectness x class).
    """
    height, width = input_size
    grids, steps = [], []
    for stride in strides:
        ys, xs = np.meshgrid(np.arange(height // stride), np.arange(width // stride), indexing="ij")
        grids.append(np.stack([xs, ys], -1).reshape(-1, 2))
        steps.append(np.full((grids[-1].shape[0], 1), stride))
    grid, step = np.concatenate(grids), np.concatenate(steps)
    if grid.shape[0] != output.shape[0]:
        raise ValueError(
            f"YOLOX output has {output.shape[0]} anchors but strides {strides} on a {width}x{height} input give "
            f"{grid.shape[0]}"
        )
    centre = (output[:, :2] + grid) * step
    size = np.exp(output[:, 2:4]) * step
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    return boxes, output[:, 4:5] * output[:, 5:]


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray, split_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints from SimCC classification vectors.

    Args:
        simcc_x (`np.ndarray` of shape `(K, Wx)`), simcc_y (`np.ndarray` of shape `(K, Wy)`): per-bin scores.
        split_ratio (`float`): bins per input pixel.

    Returns:
        `tuple`: locations `(K, 2)` in model-input pixels and scores `(K,)` (mean of the two axis maxima).
    """
    x = simcc_x.argmax(axis=1)
    y = simcc_y.argmax(axis=1)
    scores = 0.5 * (simcc_x.max(axis=1) + simcc_y.max(axis=1))
    return np.stack([x, y], axis=1).astype(np.float32) / split_ratio, scores.astype(np.float32)


class DWPoseBackend(PoseBackend):
    """DWPose whole-body pose estimation (133 keypoints) with ONNX Runtime.

    Args:
        det_onnx (`str` or `Path`): YOLOX person detector (e.g. `yolox_l.onnx`).
        pose_onnx (`str` or `Path`): DWPose/RTMPose SimCC model (e.g. `dw-ll_ucoco_384.onnx`).
        detection_threshold (`float`, *optional*, defaults to 0.3): minimum person score (DWPose's value).
        nms_threshold (`float`, *optional*, defaults to 0.45): IoU for merging raw YOLOX boxes.
        max_people (`int`, *optional*, defaults to 10): most people kept per frame.
        person_class (`int`, *optional*, defaults to 0): person class of the detector (COCO: 0).
        bgr (`bool`, *optional*, defaults to `False`): feed BGR instead of RGB to both models.
        providers (`list[str]`, *optional*): ONNX Runtime execution providers; defaults to CPU.
    """

    name = "dwpose"
    keypoint_names = COCO_WHOLEBODY133_NAMES
    has_world_keypoints = False

    def __init__(
        self,
        det_onnx: str | Path,
        pose_onnx: str | Path,
        detection_threshold: float = 0.3,
        nms_threshold: float = 0.45,
        max_people: int = 10,
        person_class: int = 0,
        bgr: bool = False,
        providers: list[str] | None = None,
    ):
        for field_name, path in (("det_onnx", det_onnx), ("pose_onnx", pose_onnx)):
            if path is None or not Path(path).is_file():
                raise FileNotFoundError(
                    f"`{field_name}`: DWPose ONNX file {str(path)!r} not found. DWPose needs the YOLOX detector "
                    "(yolox_l.onnx) and the pose model (dw-ll_ucoco_384.onnx) from the DWPose release."
                )
        if not 0.0 <= detection_threshold <= 1.0:
            raise ValueError(f"`detection_threshold` must be in [0, 1], got {detection_threshold}")
        if max_people < 1:
            raise ValueError(f"`max_people` must be >= 1, got {max_people}")
        onnxruntime = _import_onnxruntime()
        providers = providers or ["CPUExecutionProvider"]
        self.det_session = onnxruntime.InferenceSession(str(det_onnx), providers=providers)
        self.pose_session = onnxruntime.InferenceSession(str(pose_onnx), providers=providers)
        self.det_input_size = self._input_size(self.det_session, "det_onnx")
        self.pose_input_size = self._input_size(self.pose_session, "pose_onnx")
        num_outputs = len(self.pose_session.get_outputs())
        if num_outputs < 2:
            raise ValueError(f"`pose_onnx` must output simcc_x and simcc_y, it has {num_outputs} output(s)")
        self.detection_threshold = detection_threshold
        self.nms_threshold = nms_threshold
        self.max_people = max_people
        self.person_class = person_class
        self.bgr = bgr

    @staticmethod
    def _input_size(session, field_name: str) -> tuple[int, int]:
        shape = session.get_inputs()[0].shape
        if len(shape) != 4 or not all(isinstance(v, int) for v in shape[2:]):
            raise ValueError(f"`{field_name}` must take a (1, 3, H, W) input with a fixed H and W, got {shape}")
        return int(shape[2]), int(shape[3])

    def detect_people(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Person boxes `(N, 4)` (x0, y0, x1, y1 in frame pixels) and scores `(N,)`, best first."""
        in_h, in_w = self.det_input_size
        height, width = image.shape[:2]
        ratio = min(in_h / height, in_w / width)
        resized = cv2.resize(image, (int(width * ratio), int(height * ratio)), interpolation=cv2.INTER_LINEAR)
        padded = np.full((in_h, in_w, 3), 114, dtype=np.uint8)
        padded[: resized.shape[0], : resized.shape[1]] = resized
        if self.bgr:
            padded = padded[..., ::-1]
        blob = np.ascontiguousarray(padded.transpose(2, 0, 1)[None], dtype=np.float32)
        output = self.det_session.run(None, {self.det_session.get_inputs()[0].name: blob})
        dets = output[0][0]
        if dets.shape[-1] == 5:  # end-to-end export: boxes and scores, NMS done; labels as a second output
            boxes, scores = dets[:, :4].astype(np.float64), dets[:, 4].astype(np.float64)
            if len(output) > 1:
                scores = np.where(output[1][0].reshape(-1) == self.person_class, scores, 0.0)
            keep = np.flatnonzero(scores >= self.detection_threshold)
            keep = keep[np.argsort(-scores[keep], kind="stable")]
        else:
            boxes, class_scores = decode_yolox(dets.astype(np.float64), self.det_input_size)
            scores = class_scores[:, self.person_class]
            candidates = np.flatnonzero(scores >= self.detection_threshold)
            keep = candidates[nms(boxes[candidates], scores[candidates], self.nms_threshold)]
        boxes, scores = boxes[keep[: self.max_people]] / ratio, scores[keep[: self.max_people]]
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width - 1)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height - 1)
        valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        return boxes[valid].astype(np.float32), scores[valid].astype(np.float32)

    def estimate_keypoints(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """133 keypoints `(133, 3)` (x, y in frame pixels, score in [0, 1]) of the person in `box`."""
        in_h, in_w = self.pose_input_size
        centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], dtype=np.float64)
        size = np.array([box[2] - box[0], box[3] - box[1]], dtype=np.float64) * 1.25
        aspect = in_w / in_h  # widen or heighten the box to the model's aspect ratio
        if size[0] > size[1] * aspect:
            size[1] = size[0] / aspect
        else:
            size[0] = size[1] * aspect
        # Affine map from the box (centre +- size / 2) to the model input.
        scale = in_w / size[0]
        matrix = np.array(
            [[scale, 0.0, in_w / 2 - scale * centre[0]], [0.0, scale, in_h / 2 - scale * centre[1]]], dtype=np.float64
        )
        crop = cv2.warpAffine(image, matrix, (in_w, in_h), flags=cv2.INTER_LINEAR)
        if self.bgr:
            crop = crop[..., ::-1]
        blob = ((crop.astype(np.float32) - _POSE_MEAN) / _POSE_STD).transpose(2, 0, 1)[None]
        simcc_x, simcc_y = self.pose_session.run(None, {self.pose_session.get_inputs()[0].name: blob})[:2]
        num_keypoints = simcc_x.shape[1]
        if num_keypoints != len(COCO_WHOLEBODY133_NAMES):
            raise ValueError(
                f"`pose_onnx` predicts {num_keypoints} keypoints; DWPose has {len(COCO_WHOLEBODY133_NAMES)}"
            )
        split_ratio = simcc_x.shape[-1] / in_w
        locations, scores = decode_simcc(simcc_x[0], simcc_y[0], split_ratio)
        xy = (locations - np.array([in_w / 2, in_h / 2])) / scale + centre
        return np.concatenate([xy, np.clip(scores, 0.0, 1.0)[:, None]], axis=1).astype(np.float32)

    def detect(self, image: np.ndarray) -> list[PersonPose]:
        """People in one RGB frame with 133 whole-body keypoints each (see `PoseBackend.detect`)."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"`image` must be an (H, W, 3) uint8 RGB frame, got {image.shape} {image.dtype}")
        boxes, scores = self.detect_people(image)
        return [
            PersonPose(keypoints=self.estimate_keypoints(image, box), bbox=box, score=float(score))
            for box, score in zip(boxes, scores, strict=True)
        ]
