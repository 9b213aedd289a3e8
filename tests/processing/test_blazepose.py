"""The `blazepose` backend against MediaPipe's own outputs.

`tests/fixtures/blazepose_reference.json` (or `$MACM_FIXTURES/blazepose_reference.json`) holds what
mediapipe 0.10.21's legacy Pose solution (static_image_mode=True, model_complexity=1) returned for two images of
the scikit-image wheel. The model files come from the mediapipe wheel on PyPI (`pip download`), so these tests skip
only when that download is impossible.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from macm.processing.pose import COCO17_NAMES, model_files
from macm.processing.pose.blazepose import (
    BLAZEPOSE_KEYPOINT_NAMES,
    HEATMAP_KERNEL_SIZE,
    BlazePoseBackend,
    BlazePoseRoi,
    _crop_roi,
    _perspective_transform,
    _refine_with_heatmap,
    _roi_corners,
    _warp_bilinear_fixed_point,
    generate_pose_detection_anchors,
)

skimage_data = pytest.importorskip("skimage.data", reason="the reference images ship in the scikit-image wheel")
pytest.importorskip("ai_edge_litert", reason="the blazepose backend runs on the ai-edge-litert runtime")

FIXTURE_PATH = (
    Path(os.environ.get("MACM_FIXTURES", Path(__file__).parents[1] / "fixtures")) / "blazepose_reference.json"
)

# Acceptance thresholds: mean x/y error (fraction of the image size) on the landmarks MediaPipe saw as visible, share
# of landmarks with the same visible/not-visible decision, mean world-landmark error in metres.
MAX_MEAN_LANDMARK_ERROR = 0.01
MIN_VISIBILITY_AGREEMENT = 0.9
MAX_MEAN_WORLD_ERROR = 0.01


@pytest.fixture(scope="module")
def blazepose_model_paths():
    try:
        return model_files.download_blazepose_models()
    except (RuntimeError, OSError) as error:
        pytest.skip(
            f"BlazePose model files unavailable (PyPI download of {model_files.MEDIAPIPE_REQUIREMENT} failed): {error}"
        )


@pytest.fixture(scope="module")
def blazepose_reference():
    if not FIXTURE_PATH.is_file():
        pytest.skip(f"MediaPipe reference outputs not found at {FIXTURE_PATH}")
    return json.loads(FIXTURE_PATH.read_text())


@pytest.fixture(scope="module")
def blazepose_static(blazepose_model_paths):
    return BlazePoseBackend(blazepose_model_paths, static_image_mode=True, num_threads=2)


def _reference_image(name: str) -> np.ndarray:
    """The fixture's image as RGB uint8; camera.png is grayscale and was given to MediaPipe as gray copied to R, G, B."""
    image = {"astronaut.png": skimage_data.astronaut, "camera.png": skimage_data.camera}[name]()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image)


def _reference_file_sha256(name: str) -> str | None:
    path = Path(skimage_data.__file__).parent / name
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _moving_person_frames(step: int, count: int) -> list[tuple[int, float, np.ndarray]]:
    """`count` frames of a half-size astronaut pasted on a gray 480x320 canvas, `step` pixels further right each
    frame, so the whole person stays in view and only moves."""
    person = skimage_data.astronaut()[::2, ::2]  # (256, 256, 3)
    frames = []
    for k in range(count):
        canvas = np.full((320, 480, 3), 90, dtype=np.uint8)
        left = 40 + step * k
        canvas[32:288, left : left + 256] = person
        frames.append((k, k / 10.0, canvas))
    return frames


# ---------------------------------------------------------------------------------------------- no model needed


def test_anchor_layout_matches_detector_head():
    anchors = generate_pose_detection_anchors()
    assert anchors.shape == (2254, 2)
    # First anchors: the 28x28 stride-8 map, two per cell; last: the 7x7 stride-32 map, six per cell.
    np.testing.assert_allclose(anchors[:2], [[0.5 / 28, 0.5 / 28]] * 2)
    np.testing.assert_allclose(anchors[-6:], [[6.5 / 7, 6.5 / 7]] * 6)


def test_keypoint_layout_contains_coco17():
    assert len(BLAZEPOSE_KEYPOINT_NAMES) == 33
    assert set(COCO17_NAMES) <= set(BLAZEPOSE_KEYPOINT_NAMES)
    assert BLAZEPOSE_KEYPOINT_NAMES[0] == "nose" and BLAZEPOSE_KEYPOINT_NAMES[-1] == "right_foot_index"


def test_missing_model_files_error_says_how_to_fetch(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"python -m macm\.processing\.pose\.model_files"):
        model_files.find_blazepose_models(tmp_path)


def test_download_is_idempotent(tmp_path, blazepose_model_paths, monkeypatch):
    for path in (blazepose_model_paths.detector, blazepose_model_paths.landmarks):
        (tmp_path / path.name).write_bytes(path.read_bytes())

    def no_download(*args, **kwargs):
        raise AssertionError("the files are cached and verified; nothing should be downloaded")

    monkeypatch.setattr(model_files, "_pip_download_wheel", no_download)
    paths = model_files.download_blazepose_models(tmp_path)
    assert paths.detector == tmp_path / "pose_detection.tflite"
    assert model_files.find_blazepose_models(tmp_path, verify=True) == paths


def _warp_bilinear_fixed_point_reference(image: np.ndarray, matrix: np.ndarray, size: int, border: str) -> np.ndarray:
    """OpenCV 3.4/4.x `warpPerspective(..., INTER_LINEAR)` of a uint8 image, written out in numpy: source coordinates
    rounded to 1/32 pixel, four integer bilinear weights summing to 2**15, taps outside the image 0 or the edge."""
    inter_bits = 5
    tab_size = 1 << inter_bits
    inverse = np.linalg.inv(matrix)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    source_x = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]
    source_y = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]
    weight = inverse[2, 0] * xs + inverse[2, 1] * ys + inverse[2, 2]
    weight = np.where(weight != 0, tab_size / np.where(weight != 0, weight, 1.0), 0.0)
    # saturate_cast<int>(double) rounds half to even, like np.rint.
    fixed_x = np.rint(np.clip(source_x * weight, -(2**31), 2**31 - 1)).astype(np.int64)
    fixed_y = np.rint(np.clip(source_y * weight, -(2**31), 2**31 - 1)).astype(np.int64)
    column = np.clip(fixed_x >> inter_bits, -(2**15), 2**15 - 1)  # stored as short in OpenCV
    row = np.clip(fixed_y >> inter_bits, -(2**15), 2**15 - 1)
    frac_x = fixed_x & (tab_size - 1)
    frac_y = fixed_y & (tab_size - 1)
    scale = (1 << 15) // (tab_size * tab_size)
    weights = (
        (tab_size - frac_y) * (tab_size - frac_x) * scale,
        (tab_size - frac_y) * frac_x * scale,
        frac_y * (tab_size - frac_x) * scale,
        frac_y * frac_x * scale,
    )
    height, width = image.shape[:2]
    pixels = image.astype(np.int64)

    def tap(tap_row: np.ndarray, tap_column: np.ndarray) -> np.ndarray:
        values = pixels[np.clip(tap_row, 0, height - 1), np.clip(tap_column, 0, width - 1)]
        if border == "replicate":
            return values
        inside = (tap_row >= 0) & (tap_row < height) & (tap_column >= 0) & (tap_column < width)
        return np.where(inside[..., None], values, 0)

    total = (
        tap(row, column) * weights[0][..., None]
        + tap(row, column + 1) * weights[1][..., None]
        + tap(row + 1, column) * weights[2][..., None]
        + tap(row + 1, column + 1) * weights[3][..., None]
    )
    return np.clip((total + (1 << 14)) >> 15, 0, 255).astype(np.uint8)


def _roi_matrix(roi: BlazePoseRoi, size: int) -> np.ndarray:
    target = np.array([[0, size], [0, 0], [size, 0], [size, size]], dtype=np.float32)
    return _perspective_transform(_roi_corners(roi), target)


def test_fast_warp_equals_fixed_point_reference():
    """`cv2.remap` with the fixed-point maps gives the classic OpenCV warp bit for bit: random frames and ROIs (rotated,
    partly or wholly outside the frame, tiny and huge), both borders, plus whole-pixel and saturated cases."""
    rng = np.random.default_rng(0)
    cases = []
    for _ in range(60):
        height, width = (int(v) for v in rng.integers(1, 700, size=2))
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        side = float(rng.uniform(2.0, 2.5 * max(height, width)))
        aspect = float(rng.choice([1.0, rng.uniform(0.3, 3.0)]))
        roi = BlazePoseRoi(
            float(rng.uniform(-0.5, 1.5) * width),
            float(rng.uniform(-0.5, 1.5) * height),
            side,
            side * aspect,
            float(rng.uniform(-4.0, 4.0)),
        )
        cases.append((image, roi, int(rng.choice([224, 256, 31]))))
    white = np.full((90, 160, 3), 255, dtype=np.uint8)
    cases += [
        (white, BlazePoseRoi(80.0, 45.0, 160.0, 160.0, 0.0), 224),  # the detector letterbox
        (white, BlazePoseRoi(64.0, 45.0, 64.0, 64.0, 0.0), 256),  # 4x upsampling, all fractions on the 1/32 grid
        (white, BlazePoseRoi(80.0, 45.0, 90.0, 90.0, math.pi / 2), 256),
        (cases[0][0], BlazePoseRoi(1e5, -1e5, 10.0, 10.0, 0.3), 256),  # nowhere near the frame
    ]
    for image, roi, size in cases:
        matrix = _roi_matrix(roi, size)
        for border in ("zero", "replicate"):
            expected = _warp_bilinear_fixed_point_reference(image, matrix, size, border)
            np.testing.assert_array_equal(_warp_bilinear_fixed_point(image, matrix, size, border), expected)
            np.testing.assert_array_equal(_crop_roi(image, roi, size, border), expected)


def test_warp_reads_any_numpy_layout():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (120, 200, 3), dtype=np.uint8)
    roi = BlazePoseRoi(90.0, 70.0, 150.0, 150.0, 0.4)
    expected = _crop_roi(image, roi, 256, "replicate")
    views = [
        np.ascontiguousarray(image[:, :, ::-1])[:, :, ::-1],
        np.ascontiguousarray(image[::-1])[::-1],
        np.ascontiguousarray(image[:, ::-1])[:, ::-1],
        np.asfortranarray(image),
        np.pad(image, ((0, 0), (3, 5), (0, 0)))[:, 3:-5],
        np.pad(image, ((0, 0), (0, 0), (0, 1)))[:, :, :3],
    ]
    for view in views:
        np.testing.assert_array_equal(_crop_roi(view, roi, 256, "replicate"), expected)


def test_heatmap_refinement():
    heatmap = np.full((64, 64, 39), -40.0, dtype=np.float32)
    heatmap[20, 30, 0] = heatmap[20, 32, 0] = 10.0  # landmark 0: two confident peaks, centroid at column 31
    heatmap[5, 5, 1] = 10.0  # landmark 1: peak outside its window
    landmarks = np.full((39, 5), 0.5)
    landmarks[0, :2] = (30.5 / 64, 21.5 / 64)
    landmarks[2, :2] = (0.5, 2.0)  # far below the heatmap: empty window, kept
    landmarks[3, :2] = (-0.3, 0.5)  # left of the heatmap: kept
    heatmap[63, 31:34, 4] = 10.0  # landmark 4 just past the bottom edge: its window is clipped to the last rows
    landmarks[4, :2] = (32.5 / 64, (63 + HEATMAP_KERNEL_SIZE // 2) / 64 + 0.001)
    refined = _refine_with_heatmap(landmarks, heatmap)
    np.testing.assert_allclose(refined[0, :2], (31 / 64, 20 / 64), atol=1e-6)
    np.testing.assert_array_equal(refined[1:4], landmarks[1:4])
    np.testing.assert_allclose(refined[4, :2], (32 / 64, 63 / 64), atol=1e-6)
    np.testing.assert_array_equal(refined[:, 2:], landmarks[:, 2:])


# ---------------------------------------------------------------------------------------------- MediaPipe parity


@pytest.mark.parametrize("name", ["astronaut.png", "camera.png"])
def test_matches_mediapipe_reference(blazepose_static, blazepose_reference, name):
    entry = blazepose_reference["images"][name]
    image = _reference_image(name)
    assert list(image.shape) == entry["shape"]
    recorded_sha = _reference_file_sha256(name)
    if recorded_sha is not None:
        assert recorded_sha == entry["sha256"], f"scikit-image's {name} is not the image the fixture was made from"

    people = blazepose_static.detect(image)
    assert len(people) == 1
    person = people[0]
    assert person.keypoints.shape == (33, 3) and person.world_keypoints.shape == (33, 3)

    expected = np.asarray(entry["result"]["landmarks"], dtype=np.float64)  # (33, 4) x, y normalised, z, visibility
    height, width = image.shape[:2]
    predicted_xy = person.keypoints[:, :2] / np.array([width, height])
    visible = expected[:, 3] > 0.5
    mean_error = float(np.linalg.norm(predicted_xy - expected[:, :2], axis=1)[visible].mean())
    agreement = float(((person.keypoints[:, 2] > 0.5) == visible).mean())
    assert mean_error <= MAX_MEAN_LANDMARK_ERROR, f"{name}: mean landmark error {mean_error:.5f}"
    assert agreement >= MIN_VISIBILITY_AGREEMENT, f"{name}: visibility agreement {agreement:.3f}"

    if "world_landmarks" in entry["result"]:
        expected_world = np.asarray(entry["result"]["world_landmarks"], dtype=np.float64)[:, :3]
        world_error = float(np.linalg.norm(person.world_keypoints - expected_world, axis=1)[visible].mean())
        assert world_error <= MAX_MEAN_WORLD_ERROR, f"{name}: mean world-landmark error {world_error:.4f} m"

    # The bbox encloses the landmarks, clipped to the frame.
    x0, y0, x1, y1 = person.bbox
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    assert blazepose_static.last_person_count >= 1


@pytest.mark.parametrize(
    "bad_image",
    [
        np.zeros((64, 64), dtype=np.uint8),
        np.zeros((64, 64, 4), dtype=np.uint8),
        np.zeros((64, 64, 3), dtype=np.float32),
        np.zeros((0, 64, 3), dtype=np.uint8),
    ],
    ids=["gray", "rgba", "float", "empty"],
)
def test_bad_images_are_rejected(blazepose_static, bad_image):
    with pytest.raises(ValueError, match=r"shape \("):
        blazepose_static.detect(bad_image)


def test_empty_frame_has_no_person(blazepose_static):
    assert blazepose_static.detect(np.zeros((120, 200, 3), dtype=np.uint8)) == []
    assert blazepose_static.last_person_count == 0


# ---------------------------------------------------------------------------------------------- video tracking


def test_track_follows_the_person(blazepose_model_paths, monkeypatch):
    backend = BlazePoseBackend(blazepose_model_paths, count_interval=0, num_threads=2)
    detector_calls = []
    original = backend.detect_poses
    monkeypatch.setattr(backend, "detect_poses", lambda image: detector_calls.append(1) or original(image))

    step, count = 8, 5
    frames = _moving_person_frames(step=step, count=count)
    track = backend.track(frames)

    assert track.backend == "blazepose" and track.keypoint_names == BLAZEPOSE_KEYPOINT_NAMES
    assert track.has_person.all()
    assert track.world_keypoints.shape == (count, 33, 3)
    assert track.to_coco17().keypoints.shape == (count, 17, 3)
    # The detector ran on the first frame only; later ROIs came from the previous frame's landmarks.
    assert len(detector_calls) == 1
    # Head and shoulders move with the person.
    steady = [
        BLAZEPOSE_KEYPOINT_NAMES.index(n) for n in ("nose", "left_eye", "right_eye", "left_shoulder", "right_shoulder")
    ]
    x, y = track.keypoints[:, steady, 0].mean(axis=1), track.keypoints[:, steady, 1].mean(axis=1)
    np.testing.assert_allclose(np.diff(x), step, atol=2.0)
    np.testing.assert_allclose(x[-1] - x[0], step * (count - 1), atol=3.0)
    np.testing.assert_allclose(y - y[0], 0, atol=3.0)

    # reset() forgets the tracked ROI: the next frame goes through the detector again.
    backend.reset()
    backend.detect(frames[0][2])
    assert len(detector_calls) == 2


def test_track_counts_people_with_the_detector(blazepose_model_paths):
    backend = BlazePoseBackend(blazepose_model_paths, num_threads=2)
    frames = _moving_person_frames(step=4, count=2)
    frames.append((2, 0.2, np.zeros_like(frames[0][2])))
    track = backend.track(frames)
    np.testing.assert_array_equal(track.person_counts, [1, 1, 0])
    np.testing.assert_array_equal(track.has_person, [True, True, False])
