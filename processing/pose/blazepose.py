"""BlazePose (MediaPipe Pose, full model) as a pose backend, without MediaPipe.

The two TFLite models from the `mediapipe==0.10.21` wheel run under `ai-edge-litert`; everything MediaPipe's CPU
graph does around them is re-implemented here with numpy, calculator by calculator:

1. `PoseDetectionCpu`: the frame is letterboxed to 224x224 in [-1, 1] (`ImageToTensorCalculator`), the SSD head is
   decoded against 2254 fixed-size anchors (`SsdAnchorsCalculator`, `TensorsToDetectionsCalculator`), overlapping
   boxes are merged by weighted non-maximum suppression (`NonMaxSuppressionCalculator`) and the letterbox is removed
   (`DetectionLetterboxRemovalCalculator`). Each detection has 4 keypoints: mid-hip, a point encoding full-body size
   and rotation, mid-shoulder, and a point for the upper body.
2. `PoseDetectionToRoi`: a square ROI centred on the mid-hip, rotated so the body is upright, with side
   2 x |hip - scale point| x 1.25 (`AlignmentPointsRectsCalculator`, `RectTransformationCalculator`).
3. `PoseLandmarkByRoiCpu`: the ROI is warped to 256x256 in [0, 1], the landmark model gives 39 landmarks (33 body
   points and 2 auxiliary ones, then 4 unused), a pose-presence flag, a heatmap used to refine x/y
   (`RefineLandmarksFromHeatmapCalculator`) and 39 world landmarks in metres; landmarks are projected back to the
   frame through the ROI (`LandmarkProjectionCalculator`) and world landmarks rotated by it
   (`WorldLandmarkProjectionCalculator`).
4. `PoseLandmarksToRoi` (video mode): the next frame's ROI comes from the two auxiliary landmarks of this frame, the
   same way as from a detection, so the detector only runs again when the pose-presence score drops below
   `min_tracking_confidence`.

Not MediaPipe: who else is in the frame. Every `count_interval` frames the detector scans overlapping tiles of the
full-resolution frame (`people.count_tiles`), sized so people half the main person's height are visible to it.

Not re-implemented: MediaPipe's temporal landmark smoothing (`PoseLandmarkFiltering`, a one-euro filter) and the
segmentation mask.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import sys
from dataclasses import dataclass

import cv2
import numpy as np

from ..skeleton import BLAZEPOSE33_NAMES
from .base import PoseBackend
from .model_files import BlazePoseModelPaths, find_blazepose_models
from .people import DEFAULT_MIN_HEIGHT, count_people, count_tiles, relative_heights
from .types import PersonPose

__all__ = [
    "BLAZEPOSE_KEYPOINT_NAMES",
    "BlazePoseBackend",
    "BlazePoseDetection",
    "BlazePoseLandmarks",
    "BlazePoseRoi",
    "generate_pose_detection_anchors",
]

logger = logging.getLogger(__name__)

# Landmark order of the BlazePose topology (tensors_to_pose_landmarks_and_segmentation.pbtxt), kept with the other
# skeletons; its COCO-17 names are spelled as in `COCO17_NAMES` so `PoseTrack.to_coco17()` maps them by name.
BLAZEPOSE_KEYPOINT_NAMES: tuple[str, ...] = BLAZEPOSE33_NAMES

# pose_detection_cpu.pbtxt: ImageToTensorCalculator, SsdAnchorsCalculator and TensorsToDetectionsCalculator options.
DETECTOR_INPUT_SIZE = 224
DETECTOR_STRIDES = (8, 16, 32, 32, 32)
DETECTOR_ANCHORS_PER_LAYER = 2  # aspect_ratios: [1.0] plus the interpolated-scale anchor of each layer
DETECTOR_NUM_KEYPOINTS = 4
DETECTOR_SCORE_CLIP = 100.0  # score_clipping_thresh
# NonMaxSuppressionCalculator: min_suppression_threshold, overlap_type INTERSECTION_OVER_UNION, algorithm WEIGHTED.
NMS_MIN_SUPPRESSION_IOU = 0.3

# pose_detection_to_roi.pbtxt / pose_landmarks_to_roi.pbtxt: AlignmentPointsRectsCalculator with
# rotation_vector_start_keypoint_index 0, end 1, target angle 90 degrees, then RectTransformationCalculator with
# scale 1.25 and square_long.
ROI_TARGET_ANGLE = math.pi / 2
ROI_SCALE = 1.25

# pose_landmark_by_roi_cpu.pbtxt / tensors_to_pose_landmarks_and_segmentation.pbtxt.
LANDMARK_INPUT_SIZE = 256
NUM_MODEL_LANDMARKS = 39  # 33 body landmarks, 2 auxiliary (ROI for the next frame), 4 unused
NUM_BODY_LANDMARKS = 33
AUXILIARY_LANDMARKS = (33, 34)  # hip centre, full-body scale/rotation point
# RefineLandmarksFromHeatmapCalculator kernel_size. The published pbtxt says 7, but the graph compiled into the
# mediapipe 0.10.21 wheel refines with a 9x9 window: with 9 the fixture outputs are reproduced to ~1e-5 of the image
# size, with 7 several landmarks land ~4 px away.
HEATMAP_KERNEL_SIZE = 9
HEATMAP_MIN_CONFIDENCE = 0.5  # RefineLandmarksFromHeatmapCalculator min_confidence_to_refine (default)
FACE_LANDMARKS = slice(0, 11)  # nose, eyes, ears, mouth
# Measured on scikit-image's astronaut and matplotlib's grace_hopper pasted into the 224 px input at several sizes:
# detections start at a full-body size (2 x |hip - scale point|) of 63-81 px; in composed crowds people were found
# reliably from about 110 px. Over a photographed background the detector's false people scored 0.52-0.71 and the
# real ones 0.78-0.96, so other people count from 0.75.
DETECTOR_MIN_BODY = 110.0
COUNT_MIN_SCORE = 0.75


@dataclass
class BlazePoseDetection:
    """One pose detection, coordinates normalised to the frame.

    box: xmin, ymin, xmax, ymax; keypoints: (4, 2) x, y (mid-hip, full-body scale point, mid-shoulder, upper-body
    scale point).
    """

    box: np.ndarray
    keypoints: np.ndarray
    score: float


@dataclass
class BlazePoseRoi:
    """A rotated rectangle in frame pixels (MediaPipe's `RotatedRect`): centre, size and rotation in radians
    (clockwise on screen, since y points down)."""

    center_x: float
    center_y: float
    width: float
    height: float
    rotation: float


@dataclass
class BlazePoseLandmarks:
    """The landmark model's output for one ROI, in frame coordinates.

    Args:
        landmarks (`np.ndarray` of shape `(39, 5)`): x, y normalised to the frame width/height, z in the same units as
            x (MediaPipe's convention), visibility and presence in [0, 1]; rows 33 and 34 are the auxiliary points.
        world (`np.ndarray` of shape `(33, 3)`): metric 3D landmarks, origin between the hips.
        presence (`float`): pose-presence score of the ROI.
    """

    landmarks: np.ndarray
    world: np.ndarray
    presence: float


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def _normalize_radians(angle: float) -> float:
    """Wrap to [-pi, pi), like MediaPipe's `NormalizeRadians`."""
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def generate_pose_detection_anchors() -> np.ndarray:
    """Anchor centres of the pose detector, as MediaPipe's `SsdAnchorsCalculator` makes them.

    Layers that share a stride share a feature map; with `fixed_anchor_size` every anchor is 1x1 (normalised), so an
    anchor is just a cell centre repeated once per anchor of each layer on that map.

    Returns:
        `np.ndarray` of shape `(2254, 2)`: x, y centres normalised to the 224x224 input.
    """
    centers = []
    layer = 0
    while layer < len(DETECTOR_STRIDES):
        stride = DETECTOR_STRIDES[layer]
        same_stride = sum(1 for s in DETECTOR_STRIDES[layer:] if s == stride)
        size = math.ceil(DETECTOR_INPUT_SIZE / stride)
        ys, xs = np.meshgrid((np.arange(size) + 0.5) / size, (np.arange(size) + 0.5) / size, indexing="ij")
        cells = np.stack([xs.ravel(), ys.ravel()], axis=1)  # row-major: y outer, x inner
        centers.append(np.repeat(cells, DETECTOR_ANCHORS_PER_LAYER * same_stride, axis=0))
        layer += same_stride
    return np.concatenate(centers).astype(np.float64)


def _validate_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"Expected an RGB image as a numpy array of shape (H, W, 3), got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"Expected an RGB image of shape (H, W, 3), got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"Expected a uint8 RGB image, got dtype {image.dtype} (shape {image.shape})")


def _is_usable_roi(roi: BlazePoseRoi | None) -> bool:
    """MediaPipe's `ValidateRoi`: finite values and a positive size."""
    if roi is None:
        return False
    values = (roi.center_x, roi.center_y, roi.width, roi.height, roi.rotation)
    return all(math.isfinite(v) for v in values) and roi.width > 0 and roi.height > 0


def _pad_roi_to_square(roi: BlazePoseRoi) -> tuple[BlazePoseRoi, np.ndarray]:
    """Grow the ROI to the square model input's aspect ratio (`PadRoi` in image_to_tensor_utils.cc).

    Returns the padded ROI and the letterbox padding (left, top, right, bottom) as fractions of it.
    """
    aspect = roi.height / roi.width
    if aspect < 1.0:  # wider than tall: pad top and bottom
        pad = (1.0 - aspect) / 2.0
        padded = BlazePoseRoi(roi.center_x, roi.center_y, roi.width, roi.width, roi.rotation)
        return padded, np.array([0.0, pad, 0.0, pad])
    pad = (1.0 - 1.0 / aspect) / 2.0
    padded = BlazePoseRoi(roi.center_x, roi.center_y, roi.height, roi.height, roi.rotation)
    return padded, np.array([pad, 0.0, pad, 0.0])


def _roi_corners(roi: BlazePoseRoi) -> np.ndarray:
    """Corners of the rotated ROI in float32, in `cv::boxPoints` order (bottom-left, top-left, top-right,
    bottom-right of the upright box)."""
    angle = roi.rotation * 180.0 / math.pi  # MediaPipe builds a cv::RotatedRect in degrees
    b = np.float32(math.cos(angle * math.pi / 180.0)) * np.float32(0.5)
    a = np.float32(math.sin(angle * math.pi / 180.0)) * np.float32(0.5)
    cx, cy, w, h = (np.float32(v) for v in (roi.center_x, roi.center_y, roi.width, roi.height))
    p0 = (cx - a * h - b * w, cy + b * h - a * w)
    p1 = (cx + a * h - b * w, cy - b * h - a * w)
    p2 = (2 * cx - p0[0], 2 * cy - p0[1])
    p3 = (2 * cx - p1[0], 2 * cy - p1[1])
    return np.array([p0, p1, p2, p3], dtype=np.float32)


def _perspective_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """3x3 homography taking the 4 `source` points to the 4 `target` points (`cv::getPerspectiveTransform`)."""
    system = np.zeros((8, 8))
    rhs = np.zeros(8)
    for i, ((x, y), (u, v)) in enumerate(zip(source.astype(np.float64), target.astype(np.float64), strict=True)):
        system[i] = [x, y, 1, 0, 0, 0, -x * u, -y * u]
        system[i + 4] = [0, 0, 0, x, y, 1, -x * v, -y * v]
        rhs[i], rhs[i + 4] = u, v
    return np.append(np.linalg.solve(system, rhs), 1.0).reshape(3, 3)


# OpenCV's classic fixed-point geometry: source coordinates in 1/32 pixel (INTER_BITS), bilinear weights in 1/2**15.
_INTER_BITS = 5
_INTER_TAB_SIZE = 1 << _INTER_BITS
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_BORDER_MODES = {"zero": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE}


def _fixed_point_maps(matrix: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The two maps that OpenCV 3.4/4.x `warpPerspective` builds and hands to `remap` for `INTER_LINEAR`.

    Each output pixel's source position is computed in double, scaled to 1/32 pixel and rounded half to even
    (`saturate_cast<int>`), then split into an integer pixel (`short`) and a 5-bit fraction per axis.

    Args:
        matrix (`np.ndarray` of shape `(3, 3)`): source -> output homography.
        size (`int`): output side.

    Returns:
        `(size, size, 2)` `int16` source column, row (`CV_16SC2`) and `(size, size)` `uint16` interpolation-table
        index `fraction_y * 32 + fraction_x` (`CV_16UC1`).
    """
    inverse = np.linalg.inv(matrix)  # warpPerspective maps each output pixel back to the source
    grid = np.arange(size, dtype=np.float64)

    def plane(row: int) -> np.ndarray:
        # inverse[row, 0] * x + inverse[row, 1] * y + inverse[row, 2], summed in that order, on a [y, x] grid.
        values = np.add.outer(inverse[row, 1] * grid, inverse[row, 0] * grid)
        values += inverse[row, 2]
        return values

    weight = plane(2)
    nonzero = weight != 0
    weight = np.divide(_INTER_TAB_SIZE, weight, out=np.zeros_like(weight), where=nonzero)
    source_xy = np.empty((size, size, 2), dtype=np.int16)
    fractions = []
    for axis in (0, 1):
        values = plane(axis)
        values *= weight
        np.clip(values, _INT32_MIN, _INT32_MAX, out=values)
        fixed = np.rint(values, out=values).astype(np.int32)  # saturate_cast<int>(double) rounds half to even
        np.clip(fixed >> _INTER_BITS, -(2**15), 2**15 - 1, out=source_xy[..., axis], casting="unsafe")
        fractions.append(fixed & (_INTER_TAB_SIZE - 1))
    table_index = (fractions[1] << _INTER_BITS | fractions[0]).astype(np.uint16)
    return source_xy, table_index


def _remap_fixed_point(image: np.ndarray, maps: tuple[np.ndarray, np.ndarray], border: str) -> np.ndarray:
    """`cv::remap` with fixed-point maps from [`_fixed_point_maps`]: the four taps around each source pixel weighted
    by integers summing to 2**15, rounded; taps outside the image are 0 (`"zero"`) or the nearest edge pixel
    (`"replicate"`)."""
    source_xy, table_index = maps
    height, width, channels = image.shape
    if image.strides[1:] != (channels, 1) or image.strides[0] < width * channels:
        # OpenCV reads a view as rows of packed pixels; anything else (reversed channels, column steps) is copied.
        image = np.ascontiguousarray(image)
    return cv2.remap(image, source_xy, table_index, cv2.INTER_LINEAR, borderMode=_BORDER_MODES[border], borderValue=0)


def _warp_bilinear_fixed_point(image: np.ndarray, matrix: np.ndarray, size: int, border: str) -> np.ndarray:
    """`cv::warpPerspective(..., INTER_LINEAR)` on a uint8 image, as OpenCV 3.4/4.x computes it.

    MediaPipe's wheels use OpenCV's classic fixed-point path: source coordinates are rounded to 1/32 pixel and the
    four bilinear weights are integers summing to 2**15. OpenCV 5's `warpPerspective` interpolates in floating point
    and changes 4-9% of the pixels by 1-3 levels; BlazePose is sensitive enough to that for visibility scores to move
    by up to 0.06 and landmarks by ~1% of the image against MediaPipe's outputs, while this reproduction matches them
    to ~1e-4. The maps are built here exactly as the old `warpPerspective` built them; `remap` with fixed-point maps
    still interpolates with the old integer tables (checked bit for bit against a numpy reference in the tests).

    Args:
        image (`np.ndarray` of shape `(H, W, 3)`, `uint8`): source frame.
        matrix (`np.ndarray` of shape `(3, 3)`): source -> output homography.
        size (`int`): output side.
        border (`str`): `"zero"` (`BORDER_CONSTANT` 0) or `"replicate"` (`BORDER_REPLICATE`).
    """
    return _remap_fixed_point(image, _fixed_point_maps(matrix, size), border)


def _roi_warp_maps(roi: BlazePoseRoi, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-point maps taking a rotated ROI of the frame to a `size` x `size` patch.

    Same mapping as MediaPipe's OpenCV `ImageToTensorConverter`: the ROI's corners (as `cv::boxPoints` gives them) go
    to the corners (0, 0) and (size, size) of the output.
    """
    target = np.array([[0, size], [0, 0], [size, 0], [size, size]], dtype=np.float32)
    return _fixed_point_maps(_perspective_transform(_roi_corners(roi), target), size)


def _crop_roi(image: np.ndarray, roi: BlazePoseRoi, size: int, border: str) -> np.ndarray:
    """Warp a rotated ROI of the frame to a `size` x `size` uint8 patch, resampled bilinearly ([`_roi_warp_maps`])."""
    return _remap_fixed_point(image, _roi_warp_maps(roi, size), border)


@functools.lru_cache(maxsize=8)
def _detector_warp(height: int, width: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Letterbox maps of the detector input for a frame size, and the letterbox padding; the same for every frame."""
    roi, padding = _pad_roi_to_square(BlazePoseRoi(width / 2, height / 2, float(width), float(height), 0.0))
    maps = _roi_warp_maps(roi, DETECTOR_INPUT_SIZE)
    for array in (*maps, padding):
        array.setflags(write=False)
    return maps, padding


def _to_model_input(patch: np.ndarray, low: float, high: float) -> np.ndarray:
    """uint8 patch -> (1, H, W, 3) float32 in [low, high] (`GetValueRangeTransformation` + `convertTo`)."""
    scale = (high - low) / 255.0
    return (patch.astype(np.float32) * np.float32(scale) + np.float32(low))[None]


def _decode_detections(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, min_score: float):
    """Decode the SSD head (`TensorsToDetectionsCalculator`, reverse_output_order, fixed 1x1 anchors).

    Returns boxes `(N, 4)` xmin, ymin, xmax, ymax; keypoints `(N, 4, 2)`; scores `(N,)`, all normalised to the
    letterboxed 224x224 input.
    """
    scores = _sigmoid(np.clip(raw_scores.reshape(-1).astype(np.float64), -DETECTOR_SCORE_CLIP, DETECTOR_SCORE_CLIP))
    keep = scores >= min_score
    raw = raw_boxes.reshape(-1, 4 + 2 * DETECTOR_NUM_KEYPOINTS)[keep].astype(np.float64) / DETECTOR_INPUT_SIZE
    anchor = anchors[keep]
    center = raw[:, 0:2] + anchor
    half_size = raw[:, 2:4] / 2
    boxes = np.concatenate([center - half_size, center + half_size], axis=1)
    keypoints = raw[:, 4:].reshape(-1, DETECTOR_NUM_KEYPOINTS, 2) + anchor[:, None, :]
    valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return boxes[valid], keypoints[valid], scores[keep][valid]


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    width = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    height = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    intersection = width * height
    union = (box[2] - box[0]) * (box[3] - box[1]) + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = union - intersection
    return np.where(union > 0, intersection / np.where(union > 0, union, 1), 0.0)


def _weighted_non_max_suppression(
    boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, iou_threshold: float = NMS_MIN_SUPPRESSION_IOU
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """MediaPipe's WEIGHTED non-maximum suppression.

    Take the best remaining detection, gather every remaining one overlapping it by IoU > `iou_threshold` (itself
    included), and replace it by the score-weighted mean of their boxes and keypoints while keeping its own score.
    """
    order = np.argsort(-scores, kind="stable")
    merged = []
    while order.size:
        best = order[0]
        overlapping = _iou(boxes[best], boxes[order]) > iou_threshold
        cluster = order[overlapping]
        weights = scores[cluster][:, None]
        box = (boxes[cluster] * weights).sum(0) / weights.sum()
        points = (keypoints[cluster] * weights[:, :, None]).sum(0) / weights.sum()
        merged.append((box, points, float(scores[best])))
        order = order[~overlapping]
    return merged


def _remove_letterbox(points: np.ndarray, padding: np.ndarray) -> np.ndarray:
    """Map x, y normalised to the letterboxed input back to the un-padded frame (`*LetterboxRemovalCalculator`)."""
    left, top, right, bottom = padding
    return (points - np.array([left, top])) / np.array([1.0 - left - right, 1.0 - top - bottom])


def _alignment_roi(center: np.ndarray, scale_point: np.ndarray) -> BlazePoseRoi:
    """ROI from two alignment points in pixels (`AlignmentPointsRectsCalculator` + `RectTransformationCalculator`).

    The box is centred on `center`, its side is twice the distance to `scale_point` times 1.25, and it is rotated so
    the vector center -> scale_point points up (target angle 90 degrees).
    """
    delta = scale_point - center
    side = 2.0 * float(np.hypot(delta[0], delta[1])) * ROI_SCALE
    rotation = _normalize_radians(ROI_TARGET_ANGLE - math.atan2(-delta[1], delta[0]))
    return BlazePoseRoi(float(center[0]), float(center[1]), side, side, rotation)


def _body_size(center: np.ndarray, scale_point: np.ndarray) -> float:
    """Full-body size in pixels from the two alignment points: the ROI side before the 1.25 margin."""
    return 2.0 * float(np.hypot(*(np.asarray(scale_point) - np.asarray(center))))


def _refine_with_heatmap(landmarks: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """Replace x, y by the sigmoid-weighted centroid of each landmark's heatmap around it
    (`RefineLandmarksFromHeatmapCalculator`), where the heatmap is confident (max >= 0.5).

    Args:
        landmarks (`np.ndarray` of shape `(39, 5)`): normalised to the 256x256 input.
        heatmap (`np.ndarray` of shape `(64, 64, 39)`): raw logits.
    """
    refined = landmarks.copy()
    height, width, _ = heatmap.shape
    offset = (HEATMAP_KERNEL_SIZE - 1) // 2
    # C++ float->int conversion truncates towards zero.
    cols = np.trunc(landmarks[:, 0] * width)
    rows = np.trunc(landmarks[:, 1] * height)
    # MediaPipe compares the column (not the row) against the height here; same thing for the square heatmap. A row
    # further than `offset` past the bottom leaves an empty window, which is not confident: the point is kept.
    index = np.flatnonzero((cols >= 0) & (cols < width) & (rows >= 0) & (cols < height))
    if index.size == 0:
        return refined
    steps = np.arange(-offset, offset + 1)
    window_rows = rows[index].astype(np.int64)[:, None] + steps  # (n, kernel)
    window_cols = cols[index].astype(np.int64)[:, None] + steps
    inside = ((window_rows >= 0) & (window_rows < height))[:, :, None] & ((window_cols >= 0) & (window_cols < width))[
        :, None, :
    ]
    logits = heatmap[
        np.clip(window_rows, 0, height - 1)[:, :, None],
        np.clip(window_cols, 0, width - 1)[:, None, :],
        index[:, None, None],
    ]
    confidence = np.where(inside, _sigmoid(logits), 0.0)  # (n, kernel, kernel)
    total = confidence.sum(axis=(1, 2))
    refine = (confidence.max(axis=(1, 2)) >= HEATMAP_MIN_CONFIDENCE) & (total > 0)
    if not refine.any():
        return refined
    confidence, total = confidence[refine], total[refine]
    refined[index[refine], 0] = (confidence * window_cols[refine][:, None, :]).sum(axis=(1, 2)) / width / total
    refined[index[refine], 1] = (confidence * window_rows[refine][:, :, None]).sum(axis=(1, 2)) / height / total
    return refined


def _project_to_frame(local: np.ndarray, roi: BlazePoseRoi) -> np.ndarray:
    """x, y normalised to the ROI -> frame pixels (`LandmarkProjectionCalculator`)."""
    cos, sin = math.cos(roi.rotation), math.sin(roi.rotation)
    x = local[..., 0] - 0.5
    y = local[..., 1] - 0.5
    frame_x = (cos * x - sin * y) * roi.width + roi.center_x
    frame_y = (sin * x + cos * y) * roi.height + roi.center_y
    return np.stack([frame_x, frame_y], axis=-1)


def _rotate_world(world: np.ndarray, rotation: float) -> np.ndarray:
    """Rotate world landmarks about z by the ROI rotation (`WorldLandmarkProjectionCalculator`)."""
    cos, sin = math.cos(rotation), math.sin(rotation)
    rotated = world.copy()
    rotated[:, 0] = cos * world[:, 0] - sin * world[:, 1]
    rotated[:, 1] = sin * world[:, 0] + cos * world[:, 1]
    return rotated


@contextlib.contextmanager
def _native_stderr_silenced():
    """Send the process's stderr (file descriptor 2) to /dev/null: LiteRT's C++ code writes "INFO: Created TensorFlow
    Lite XNNPACK delegate for CPU." there for every interpreter, past Python's logging."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _TfliteModel:
    """A LiteRT interpreter for one single-input model; outputs are returned in the model's output order."""

    def __init__(self, path: os.PathLike, num_threads: int):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError(
                "The blazepose backend needs the LiteRT runtime: `pip install ai-edge-litert`"
            ) from error
        with _native_stderr_silenced():
            self.interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
            self.interpreter.allocate_tensors()
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        self.input_shape = tuple(self.interpreter.get_input_details()[0]["shape"])
        self.output_indices = [detail["index"] for detail in self.interpreter.get_output_details()]

    def __call__(self, tensor: np.ndarray) -> list[np.ndarray]:
        if tensor.shape != self.input_shape:
            raise ValueError(f"Model input must have shape {self.input_shape}, got {tensor.shape}")
        self.interpreter.set_tensor(self.input_index, tensor)
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(index) for index in self.output_indices]  # copies


class BlazePoseBackend(PoseBackend):
    """Single-person BlazePose (full landmark model) on CPU through LiteRT, matching MediaPipe's legacy Pose solution.

    `detect` returns at most one person (the pose detector's best detection, refined by the landmark model) with the
    33 BlazePose keypoints: x, y in frame pixels and the landmark visibility as score, plus metric world keypoints.
    The other people it saw are reported through `person_heights` (relative to the main person, see
    `macm.processing.pose.people`) and `last_person_count` (those at least `min_person_height` of the main person's
    height, the main person included). `last_landmarks` keeps the last frame's landmarks as MediaPipe reports them:
    `(33, 5)` x, y normalised to the frame, z, visibility, presence.

    Video mode follows MediaPipe's graph: the landmark model's auxiliary points give the next frame's ROI and the
    detector runs only when the pose is lost, with one difference: MediaPipe then reports nothing for that frame and
    runs the detector on the next one; here the detector runs again on the same frame. Apart from that, the
    detector scans tiles for other people every `count_interval` frames; in between the last scan's people are kept.

    Args:
        model_paths ([`BlazePoseModelPaths`], *optional*):
            The two `.tflite` files; defaults to the cache filled by `python -m macm.processing.pose.model_files`.
        static_image_mode (`bool`, *optional*, defaults to `False`):
            Run the detector on every frame. When `False` (video), the ROI of the next frame comes from this frame's
            landmarks and the detector only runs again when the pose is lost.
        min_detection_confidence (`float`, *optional*, defaults to 0.5):
            Detector score threshold (`TensorsToDetectionsCalculator.min_score_thresh`).
        min_tracking_confidence (`float`, *optional*, defaults to 0.5):
            Pose-presence threshold of the landmark model below which the pose counts as lost.
        count_interval (`int`, *optional*, defaults to 10):
            In video mode, scan for other people on the first frame and then every `count_interval` frames (1 s at
            the default 10 candidate frames per second); 0 never scans (the main person alone is counted). Static
            mode scans every image.
        min_person_height (`float`, *optional*, defaults to 0.5):
            Smallest height, relative to the main person's, of another person who counts in `last_person_count`; the
            tiles are sized to see such people.
        max_count_tiles (`int`, *optional*, defaults to 8):
            Most detector runs of one scan (a 1280x720 frame with a 400 px tall subject takes 6).
        num_threads (`int`, *optional*):
            LiteRT CPU threads (XNNPACK); defaults to half the CPUs (1 to 4), the rest decode the video meanwhile.

    Example:

    ```python
    >>> import numpy as np
    >>> from skimage.data import astronaut
    >>> from macm.processing.pose.blazepose import BlazePoseBackend
    >>> backend = BlazePoseBackend(static_image_mode=True)
    >>> people = backend.detect(astronaut())
    >>> people[0].keypoints.shape, people[0].world_keypoints.shape
    ((33, 3), (33, 3))
    ```
    """

    name = "blazepose"
    keypoint_names = BLAZEPOSE_KEYPOINT_NAMES
    has_world_keypoints = True

    def __init__(
        self,
        model_paths: BlazePoseModelPaths | None = None,
        static_image_mode: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        count_interval: int = 10,
        min_person_height: float = DEFAULT_MIN_HEIGHT,
        max_count_tiles: int = 8,
        num_threads: int | None = None,
    ):
        for field_name, value in (
            ("min_detection_confidence", min_detection_confidence),
            ("min_tracking_confidence", min_tracking_confidence),
            ("min_person_height", min_person_height),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"`{field_name}` must be in [0, 1], got {value}")
        for field_name, value, low in (("count_interval", count_interval, 0), ("max_count_tiles", max_count_tiles, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"`{field_name}` must be an integer >= {low}, got {value!r}")
        model_paths = model_paths if model_paths is not None else find_blazepose_models()
        num_threads = num_threads if num_threads is not None else max(1, min(4, (os.cpu_count() or 2) // 2))
        self.detector = _TfliteModel(model_paths.detector, num_threads)
        self.landmark_model = _TfliteModel(model_paths.landmarks, num_threads)
        self.anchors = generate_pose_detection_anchors()
        if self.anchors.shape[0] != self.detector.interpreter.get_output_details()[0]["shape"][1]:
            raise ValueError(
                f"Anchor count {self.anchors.shape[0]} does not match the detector's "
                f"{self.detector.interpreter.get_output_details()[0]['shape'][1]} boxes"
            )
        self.static_image_mode = static_image_mode
        self.min_detection_confidence = min_detection_confidence
        self.min_tracking_confidence = min_tracking_confidence
        self.count_interval = count_interval
        self.min_person_height = min_person_height
        self.max_count_tiles = max_count_tiles
        self.last_person_count = 0
        self.last_landmarks: np.ndarray | None = None
        self._tracked_roi: BlazePoseRoi | None = None
        self._last_heights = np.zeros(0)
        self._other_sizes = np.zeros(0)  # body sizes in pixels of the other people of the last scan
        self._frames_since_scan: int | None = None

    # ------------------------------------------------------------------ stages

    def detect_poses(self, image: np.ndarray) -> list[BlazePoseDetection]:
        """Run the pose detector on the whole frame (`PoseDetectionCpu`); detections best first."""
        height, width = image.shape[:2]
        maps, padding = _detector_warp(height, width)
        patch = _remap_fixed_point(image, maps, "zero")
        outputs = self.detector(_to_model_input(patch, -1.0, 1.0))
        raw_boxes = next(o for o in outputs if o.shape[-1] == 4 + 2 * DETECTOR_NUM_KEYPOINTS)
        raw_scores = next(o for o in outputs if o.shape[-1] == 1)
        boxes, keypoints, scores = _decode_detections(
            raw_boxes, raw_scores, self.anchors, self.min_detection_confidence
        )
        detections = []
        for box, points, score in _weighted_non_max_suppression(boxes, keypoints, scores):
            corners = _remove_letterbox(box.reshape(2, 2), padding).reshape(4)
            detections.append(BlazePoseDetection(corners, _remove_letterbox(points, padding), score))
        return detections

    @staticmethod
    def roi_from_detection(detection: BlazePoseDetection, image_size: tuple[int, int]) -> BlazePoseRoi:
        """`PoseDetectionToRoi`: full-body ROI from the mid-hip and scale keypoints."""
        height, width = image_size
        frame_scale = np.array([width, height], dtype=np.float64)
        return _alignment_roi(detection.keypoints[0] * frame_scale, detection.keypoints[1] * frame_scale)

    @staticmethod
    def roi_from_landmarks(landmarks: np.ndarray, image_size: tuple[int, int]) -> BlazePoseRoi:
        """`PoseLandmarksToRoi`: next frame's ROI from the two auxiliary landmarks."""
        height, width = image_size
        frame_scale = np.array([width, height], dtype=np.float64)
        hip, scale_point = (landmarks[index, :2] * frame_scale for index in AUXILIARY_LANDMARKS)
        return _alignment_roi(hip, scale_point)

    def estimate_landmarks(self, image: np.ndarray, roi: BlazePoseRoi) -> BlazePoseLandmarks:
        """`PoseLandmarkByRoiCpu`: landmarks of the person in `roi`, in frame coordinates."""
        height, width = image.shape[:2]
        padded_roi, padding = _pad_roi_to_square(roi)
        patch = _crop_roi(image, padded_roi, LANDMARK_INPUT_SIZE, "replicate")
        outputs = self.landmark_model(_to_model_input(patch, 0.0, 1.0))
        by_size = {o.size: o for o in outputs}
        raw_landmarks = by_size[NUM_MODEL_LANDMARKS * 5].reshape(NUM_MODEL_LANDMARKS, 5).astype(np.float64)
        presence = float(by_size[1].reshape(()))
        heatmap = next(o for o in outputs if o.ndim == 4 and o.shape[-1] == NUM_MODEL_LANDMARKS)[0]
        raw_world = by_size[NUM_MODEL_LANDMARKS * 3].reshape(NUM_MODEL_LANDMARKS, 3).astype(np.float64)

        # TensorsToLandmarksCalculator: x, y, z in input pixels -> normalised (z scaled like x); sigmoid activations.
        local = raw_landmarks.copy()
        local[:, :3] /= LANDMARK_INPUT_SIZE
        local[:, 3:] = _sigmoid(raw_landmarks[:, 3:])
        local = _refine_with_heatmap(local, heatmap)
        local[:, :2] = _remove_letterbox(local[:, :2], padding)
        local[:, 2] /= 1.0 - padding[0] - padding[2]

        landmarks = local.copy()
        landmarks[:, :2] = _project_to_frame(local[:, :2], padded_roi) / np.array([width, height])
        landmarks[:, 2] = local[:, 2] * padded_roi.width / width
        world = _rotate_world(raw_world[:NUM_BODY_LANDMARKS], padded_roi.rotation)
        return BlazePoseLandmarks(landmarks=landmarks, world=world, presence=presence)

    # ------------------------------------------------------------------ PoseBackend

    def detect_people(
        self,
        image: np.ndarray,
        subject: BlazePoseLandmarks | None,
        whole_frame: list[BlazePoseDetection] | None = None,
    ) -> np.ndarray:
        """Body sizes in pixels of the people other than `subject`, from the detector run over `people.count_tiles`.

        Detections from overlapping tiles are merged by non-maximum suppression on their face boxes; one whose face
        box lies on the subject's head is the subject. `whole_frame` reuses this frame's whole-frame detections.
        """
        height, width = image.shape[:2]
        scale = np.array([width, height], dtype=np.float64)
        subject_size = None
        if subject is not None:
            subject_size = _body_size(*(subject.landmarks[index, :2] * scale for index in AUXILIARY_LANDMARKS))
        boxes, points, scores = [], [], []
        for x0, y0, side in count_tiles(width, height, subject_size, self.min_person_height, DETECTOR_INPUT_SIZE,
                                        DETECTOR_MIN_BODY, self.max_count_tiles):  # fmt: skip
            tile = image[y0 : y0 + side, x0 : x0 + side]
            if tile.shape[:2] == image.shape[:2] and whole_frame is not None:
                detections = whole_frame
            else:
                detections = self.detect_poses(tile)
            size = np.array([tile.shape[1], tile.shape[0]], dtype=np.float64)
            for detection in detections:
                boxes.append((detection.box.reshape(2, 2) * size + [x0, y0]).reshape(4))
                points.append(detection.keypoints * size + [x0, y0])
                scores.append(detection.score)
        if not boxes:
            return np.zeros(0)
        merged = _weighted_non_max_suppression(np.array(boxes), np.array(points), np.array(scores))
        head = hip = None
        if subject is not None:
            face = subject.landmarks[FACE_LANDMARKS, :2] * scale
            low, high = face.min(axis=0), face.max(axis=0)
            margin = np.maximum(high - low, 0.05 * subject_size)
            head = (low - margin, high + margin)
            hip = subject.landmarks[AUXILIARY_LANDMARKS[0], :2] * scale
        sizes = []
        for box, keypoints, score in merged:
            if score < max(COUNT_MIN_SCORE, self.min_detection_confidence):
                continue
            if head is not None:
                # The subject, seen again (maybe in part) in a tile: its face on the subject's head, or its hip centre
                # on the subject's (the head test alone misses figures whose face landmarks are poor).
                center = box.reshape(2, 2).mean(axis=0)
                on_head = (head[0] <= center).all() and (center <= head[1]).all()
                if on_head or np.hypot(*(keypoints[0] - hip)) < 0.25 * subject_size:
                    continue
            sizes.append(_body_size(keypoints[0], keypoints[1]))
        return np.asarray(sizes)

    def reset(self) -> None:
        """Forget the tracked ROI and the last scan's people, so the next frame starts from the detector."""
        self._tracked_roi = None
        self.last_person_count = 0
        self.last_landmarks = None
        self._last_heights = np.zeros(0)
        self._other_sizes = np.zeros(0)
        self._frames_since_scan = None

    def detect(self, image: np.ndarray) -> list[PersonPose]:
        """The main person in one frame.

        Args:
            image (`np.ndarray` of shape `(H, W, 3)`, `uint8`): the frame, RGB.

        Returns:
            `list[PersonPose]`: empty, or one person with `(33, 3)` keypoints (x, y pixels, visibility), the
            landmarks' bounding box, the pose-presence score and `(33, 3)` world keypoints in metres.
        """
        _validate_image(image)
        image_size = (int(image.shape[0]), int(image.shape[1]))
        result = None
        if not self.static_image_mode and _is_usable_roi(self._tracked_roi):
            result = self.estimate_landmarks(image, self._tracked_roi)
            if result.presence < self.min_tracking_confidence:
                logger.debug("Tracking lost (pose presence %.3f); falling back to the detector", result.presence)
                result = None
        detections = None
        if result is None:
            detections = self.detect_poses(image)
            roi = self.roi_from_detection(detections[0], image_size) if detections else None
            result = self.estimate_landmarks(image, roi) if _is_usable_roi(roi) else None
            if result is not None and result.presence < self.min_tracking_confidence:
                result = None
        self._count_people(image, result, detections)

        self.last_landmarks = None if result is None else result.landmarks[:NUM_BODY_LANDMARKS].copy()
        self._tracked_roi = None
        if result is None:
            return []
        if not self.static_image_mode:
            self._tracked_roi = self.roi_from_landmarks(result.landmarks, image_size)
        return [self._to_person(result, image_size)]

    def _count_people(
        self, image: np.ndarray, result: BlazePoseLandmarks | None, detections: list[BlazePoseDetection] | None
    ) -> None:
        """Scan for other people when due, and set `last_person_count` and the heights `person_heights` reports."""
        scan_due = self.static_image_mode or (
            self.count_interval > 0
            and (self._frames_since_scan is None or self._frames_since_scan + 1 >= self.count_interval)
        )
        if scan_due:
            self._other_sizes = self.detect_people(image, result, detections)
            self._frames_since_scan = 0
        elif self._frames_since_scan is not None:
            self._frames_since_scan += 1
        subject_size = None
        if result is not None:
            scale = np.array([image.shape[1], image.shape[0]], dtype=np.float64)
            subject_size = _body_size(*(result.landmarks[index, :2] * scale for index in AUXILIARY_LANDMARKS))
        elif not scan_due:  # nobody followed: the detector ran on this frame, its people are the frame's
            self._other_sizes = np.asarray(
                [_body_size(*d.keypoints[:2] * image.shape[1::-1]) for d in detections or []]
            )
        self._last_heights = relative_heights(subject_size, self._other_sizes)
        self.last_person_count = int(count_people(self._last_heights[None], self.min_person_height)[0])

    def person_heights(self, people: list[PersonPose], main: PersonPose | None) -> np.ndarray:
        """[`PoseBackend.person_heights`] of the last frame, from the detector's people rather than `people`."""
        return self._last_heights

    @staticmethod
    def _to_person(result: BlazePoseLandmarks, image_size: tuple[int, int]) -> PersonPose:
        height, width = image_size
        body = result.landmarks[:NUM_BODY_LANDMARKS]
        keypoints = np.stack([body[:, 0] * width, body[:, 1] * height, body[:, 3]], axis=1).astype(np.float32)
        x0, y0 = np.clip(keypoints[:, :2].min(0), 0, [width, height])
        x1, y1 = np.clip(keypoints[:, :2].max(0), 0, [width, height])
        return PersonPose(
            keypoints=keypoints,
            bbox=np.array([x0, y0, x1, y1], dtype=np.float32),
            score=result.presence,
            world_keypoints=result.world.astype(np.float32),
        )
