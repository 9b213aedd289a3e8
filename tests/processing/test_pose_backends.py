"""ViTPose (tiny random transformers models), DWPose (tiny ONNX graphs) and the mmpose adapter's error path."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from macm.processing.pose.dwpose import COCO_WHOLEBODY133_NAMES, DWPoseBackend, decode_yolox
from macm.processing.pose.types import COCO17_NAMES, PoseTrack
from macm.processing.pose.vitpose import VitPoseBackend, nms

HEIGHT, WIDTH = 120, 160


def _frames(num: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [(i, i / 10, rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)) for i in range(num)]


# ---------------------------------------------------------------- ViTPose


@pytest.fixture(scope="session")
def tiny_vitpose_dirs(tmp_path_factory):
    from transformers import (
        RTDetrConfig,
        RTDetrForObjectDetection,
        RTDetrImageProcessorPil,
        RTDetrResNetConfig,
        VitPoseBackboneConfig,
        VitPoseConfig,
        VitPoseForPoseEstimation,
        VitPoseImageProcessorPil,
    )

    torch.manual_seed(0)
    hidden_sizes = [8, 16, 24, 32]
    backbone = RTDetrResNetConfig(
        embedding_size=8,
        hidden_sizes=hidden_sizes,
        depths=[1, 1, 1, 1],
        layer_type="basic",
        out_features=["stage2", "stage3", "stage4"],
        out_indices=[2, 3, 4],
    )
    detector_config = RTDetrConfig(
        backbone_config=backbone,
        encoder_hidden_dim=16,
        encoder_in_channels=hidden_sizes[1:],
        encoder_layers=1,
        encoder_ffn_dim=32,
        encoder_attention_heads=2,
        d_model=16,
        num_queries=12,
        decoder_in_channels=[16, 16, 16],
        decoder_ffn_dim=32,
        decoder_layers=1,
        decoder_attention_heads=2,
        num_denoising=0,
        disable_custom_kernels=True,
        # "person" is deliberately not label 0, to check the backend reads the label map.
        id2label={0: "cat", 1: "person"},
        label2id={"cat": 0, "person": 1},
    )
    detector = RTDetrForObjectDetection(detector_config).eval()
    # Random weights score every query near 0.5 for every class; bias the final class head so that "cat" never
    # wins and scale it so that person scores spread out.
    with torch.no_grad():
        head = detector.model.decoder.class_embed[-1]
        head.weight.mul_(50.0)
        head.bias.copy_(torch.tensor([-10.0, 0.0]))
    detector_dir = tmp_path_factory.mktemp("rtdetr")
    detector.save_pretrained(detector_dir)
    RTDetrImageProcessorPil(size={"height": 64, "width": 64}).save_pretrained(detector_dir)

    pose_config = VitPoseConfig(
        backbone_config=VitPoseBackboneConfig(
            image_size=[64, 48],
            patch_size=[16, 16],
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            out_indices=[1],
        ),
        use_simple_decoder=True,
        scale_factor=4,
        num_labels=17,
    )
    pose_dir = tmp_path_factory.mktemp("vitpose")
    VitPoseForPoseEstimation(pose_config).eval().save_pretrained(pose_dir)
    VitPoseImageProcessorPil(size={"height": 64, "width": 48}).save_pretrained(pose_dir)
    return detector_dir, pose_dir


def _person_scores(detector_dir, image) -> np.ndarray:
    """Person score of every query, straight from the model's logits (sigmoid, as RT-DETR is trained)."""
    from transformers import RTDetrForObjectDetection, RTDetrImageProcessorPil

    processor = RTDetrImageProcessorPil.from_pretrained(detector_dir)
    model = RTDetrForObjectDetection.from_pretrained(detector_dir).eval()
    with torch.no_grad():
        logits = model(**processor(images=image, return_tensors="pt")).logits[0]
    return torch.sigmoid(logits[:, 1]).numpy()


def test_vitpose_is_lazy():
    backend = VitPoseBackend(detector_id="/nonexistent/detector", pose_id="/nonexistent/pose")
    assert backend._detector is None  # nothing is loaded (or downloaded) before the first frame
    with pytest.raises(ValueError, match="detection_threshold"):
        VitPoseBackend(detection_threshold=2.0)


def test_vitpose_detects_people_with_coco_keypoints(tiny_vitpose_dirs):
    detector_dir, pose_dir = tiny_vitpose_dirs
    image = _frames(1)[0][2]
    scores = np.sort(_person_scores(detector_dir, image))[::-1]
    expected = 4
    threshold = float(scores[expected - 1] + scores[expected]) / 2  # between the 4th and 5th best queries
    backend = VitPoseBackend(
        detector_id=str(detector_dir), pose_id=str(pose_dir), detection_threshold=threshold, nms_threshold=None,
        max_people=50,
    )  # fmt: skip
    people = backend.detect(image)
    assert len(people) == expected
    for person in people:
        assert person.keypoints.shape == (17, 3) and person.keypoints.dtype == np.float32
        x0, y0, x1, y1 = person.bbox
        assert 0 <= x0 < x1 <= WIDTH - 1 and 0 <= y0 < y1 <= HEIGHT - 1
        assert (person.keypoints[:, 0] >= 0).all() and (person.keypoints[:, 0] <= WIDTH).all()
        assert (person.keypoints[:, 1] >= 0).all() and (person.keypoints[:, 1] <= HEIGHT).all()
        assert ((person.keypoints[:, 2] >= 0) & (person.keypoints[:, 2] <= 1)).all()
        assert person.score > threshold
    assert [p.score for p in people] == sorted((p.score for p in people), reverse=True)
    # A threshold above every score finds nobody.
    backend.detection_threshold = float(scores[0] + 1) / 2
    assert backend.detect(image) == []


def test_vitpose_track_layout(tiny_vitpose_dirs):
    detector_dir, pose_dir = tiny_vitpose_dirs
    backend = VitPoseBackend(detector_id=str(detector_dir), pose_id=str(pose_dir), detection_threshold=0.0)
    track = backend.track(_frames(2))
    assert isinstance(track, PoseTrack)
    assert track.backend == "vitpose" and track.keypoint_names == COCO17_NAMES
    assert track.keypoints.shape == (2, 17, 3) and track.image_size == (HEIGHT, WIDTH)
    assert track.world_keypoints is None
    assert (track.person_counts >= 1).all() and track.has_person.all()


def test_nms_drops_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], dtype=np.float64)
    scores = np.array([0.5, 0.9, 0.8])
    assert nms(boxes, scores, 0.5).tolist() == [1, 2]
    assert nms(boxes, scores, 0.95).tolist() == [1, 2, 0]


# ---------------------------------------------------------------- DWPose

DET_SIZE = (64, 64)  # detector input (H, W)
POSE_SIZE = (32, 24)  # pose input (H, W)
SPLIT = 2.0


def _constant_onnx(path, input_name, input_shape, outputs: dict[str, np.ndarray]):
    """An ONNX graph whose outputs are fixed arrays plus 0 * mean(input) (so the input is really consumed)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("ReduceMean", [input_name], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
    ]
    initializers = [numpy_helper.from_array(np.zeros((), np.float32), "zero")]
    graph_outputs = []
    for name, value in outputs.items():
        initializers.append(numpy_helper.from_array(value.astype(np.float32), f"{name}_value"))
        nodes.append(helper.make_node("Add", [f"{name}_value", "nothing"], [name]))
        graph_outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(value.shape)))
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(input_shape))],
        graph_outputs,
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _yolox_head(people: list[tuple[float, float, float, float, float]]) -> np.ndarray:
    """Raw YOLOX output `(1, N, 6)` (one class) with a person at each `(cx, cy, w, h, score)` (input pixels)."""
    anchors = sum((DET_SIZE[0] // s) * (DET_SIZE[1] // s) for s in (8, 16, 32))
    head = np.zeros((anchors, 6))
    head[:, 4] = 0.01  # objectness
    head[:, 5] = 1.0
    for cx, cy, w, h, score in people:
        index = int(cy // 8) * (DET_SIZE[1] // 8) + int(cx // 8)  # stride-8 anchor holding the centre
        head[index, :4] = [cx / 8 - cx // 8, cy / 8 - cy // 8, np.log(w / 8), np.log(h / 8)]
        head[index, 4] = score
        # a weaker duplicate on the neighbouring anchor, which NMS must remove
        head[index + 1, :4] = [cx / 8 - cx // 8 - 1 + 0.1, cy / 8 - cy // 8, np.log(w / 8), np.log(h / 8)]
        head[index + 1, 4] = score * 0.9
    return head[None]


def _simcc(peaks_x: np.ndarray, peaks_y: np.ndarray, value: float = 0.9) -> dict[str, np.ndarray]:
    simcc_x = np.zeros((1, 133, int(POSE_SIZE[1] * SPLIT)))
    simcc_y = np.zeros((1, 133, int(POSE_SIZE[0] * SPLIT)))
    simcc_x[0, np.arange(133), peaks_x] = value
    simcc_y[0, np.arange(133), peaks_y] = value
    return {"simcc_x": simcc_x, "simcc_y": simcc_y}


@pytest.fixture(scope="session")
def dwpose_files(tmp_path_factory):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    folder = tmp_path_factory.mktemp("dwpose")
    # Two people in the 64x64 input: the frame (120x160) is scaled by 0.4 into it.
    det = _constant_onnx(
        folder / "det.onnx", "images", (1, 3, *DET_SIZE),
        {"output": _yolox_head([(20.0, 28.0, 12.0, 30.0, 0.9), (44.0, 20.0, 10.0, 24.0, 0.6)])},
    )  # fmt: skip
    # Keypoint k peaks at the crop centre for k = 0, at the crop's top-left bin for k = 1, elsewhere in between.
    peaks_x = np.full(133, int(POSE_SIZE[1] * SPLIT) // 2)
    peaks_y = np.full(133, int(POSE_SIZE[0] * SPLIT) // 2)
    peaks_x[1], peaks_y[1] = 0, 0
    pose = _constant_onnx(folder / "pose.onnx", "input", (1, 3, *POSE_SIZE), _simcc(peaks_x, peaks_y))
    return det, pose


def test_dwpose_end_to_end(dwpose_files):
    det, pose = dwpose_files
    backend = DWPoseBackend(det, pose)
    assert backend.det_input_size == DET_SIZE and backend.pose_input_size == POSE_SIZE
    image = _frames(1)[0][2]
    people = backend.detect(image)
    assert len(people) == 2  # the duplicates were suppressed
    ratio = min(DET_SIZE[0] / HEIGHT, DET_SIZE[1] / WIDTH)
    np.testing.assert_allclose(people[0].bbox, np.array([14, 13, 26, 43]) / ratio, atol=1e-3)
    np.testing.assert_allclose(people[1].bbox, np.array([39, 8, 49, 32]) / ratio, atol=1e-3)
    assert people[0].score == pytest.approx(0.9) and people[1].score == pytest.approx(0.6)
    for person in people:
        assert person.keypoints.shape == (133, 3)
        x0, y0, x1, y1 = person.bbox
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        np.testing.assert_allclose(person.keypoints[0, :2], centre, atol=1e-3)
        # The crop is the box enlarged 1.25x and widened to the model's 3:4 aspect: bin 0 is its top-left corner.
        height = max((y1 - y0) * 1.25, (x1 - x0) * 1.25 * POSE_SIZE[0] / POSE_SIZE[1])
        width = height * POSE_SIZE[1] / POSE_SIZE[0]
        np.testing.assert_allclose(person.keypoints[1, :2], centre - [width / 2, height / 2], atol=1e-3)
        np.testing.assert_allclose(person.keypoints[:, 2], 0.9, atol=1e-6)
    track = backend.track(_frames(3))
    assert track.keypoint_names == COCO_WHOLEBODY133_NAMES and track.keypoints.shape == (3, 133, 3)
    assert track.to_coco17().keypoints.shape == (3, 17, 3)
    assert (track.person_counts == 2).all()


def test_dwpose_end_to_end_detector_output(tmp_path, dwpose_files):
    _, pose = dwpose_files
    dets = np.array([[[4.0, 8.0, 30.0, 44.0, 0.8], [0.0, 0.0, 5.0, 5.0, 0.1]]])
    det = _constant_onnx(tmp_path / "det_nms.onnx", "images", (1, 3, *DET_SIZE), {"dets": dets})
    people = DWPoseBackend(det, pose).detect(_frames(1)[0][2])
    assert len(people) == 1
    np.testing.assert_allclose(people[0].bbox, np.array([4, 8, 30, 44]) / 0.4, atol=1e-3)


def test_decode_yolox_checks_anchor_count():
    with pytest.raises(ValueError, match="anchors"):
        decode_yolox(np.zeros((10, 6)), DET_SIZE)


def test_dwpose_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"`det_onnx`.*yolox_l\.onnx"):
        DWPoseBackend(tmp_path / "missing_det.onnx", tmp_path / "missing_pose.onnx")


def test_dwpose_without_onnxruntime(tmp_path, monkeypatch):
    for name in ("det.onnx", "pose.onnx"):
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(ImportError, match="ONNX Runtime.*pip install onnxruntime"):
        DWPoseBackend(tmp_path / "det.onnx", tmp_path / "pose.onnx")


# ---------------------------------------------------------------- mmpose


def test_mmpose_missing_has_clear_error(monkeypatch):
    from macm.processing.pose.mmpose_adapter import MMPoseBackend

    monkeypatch.setitem(sys.modules, "mmpose", None)
    monkeypatch.setitem(sys.modules, "mmpose.apis", None)
    with pytest.raises(
        ImportError, match=r"mmpose is not installed \(OpenMMLab's mmcv has no wheels for current torch\)"
    ):
        MMPoseBackend()
    with pytest.raises(ValueError, match="keypoint_names"):
        MMPoseBackend(pose2d="some_config.py")
