"""Body recovery: loading SMPL-format files, fitting to keypoints, and the z-buffered mesh renderer."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch

from macm.processing.body import (
    BODY_PARTS,
    SMPL_JOINT_NAMES,
    SmplFitConfig,
    fit_smpl,
    fit_smpl_to_track,
    keypoints_to_smpl_targets,
    load_smpl_model,
    make_synthetic_smpl_npz,
    rasterize_triangles,
    render_mesh,
)
from macm.processing.body.mesh_render import MESH_PART_COLORS
from macm.processing.pose.types import COCO17_NAMES, PoseTrack

HEIGHT, WIDTH = 480, 640


@pytest.fixture(scope="session")
def smpl_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smpl")
    make_synthetic_smpl_npz(folder / "SMPL_NEUTRAL.npz", num_vertices=320)
    return folder


@pytest.fixture(scope="session")
def smpl_model(smpl_dir):
    return load_smpl_model(smpl_dir)


def _known_motion(model, num_frames: int, seed: int = 0):
    """A short motion: poses interpolated between two random poses that respect the knee/elbow limits."""
    generator = torch.Generator().manual_seed(seed)
    start, end = (0.3 * torch.randn(69, generator=generator) for _ in range(2))
    for index, sign in ((17 * 3 + 1, 1.0), (18 * 3 + 1, -1.0), (9, -1.0), (12, -1.0)):
        start[index], end[index] = -sign * start[index].abs(), -sign * end[index].abs()
    weight = torch.linspace(0, 1, num_frames)[:, None]
    body_pose = (1 - weight) * start + weight * end
    betas = 0.8 * torch.randn(1, model.num_betas, generator=generator)
    # Upright and facing the camera (180 degrees about x), turned a little, 3 m away.
    global_orient = torch.tensor([[math.pi, 0.0, 0.0]]) + 0.2 * torch.randn(num_frames, 3, generator=generator)
    transl = torch.tensor([[0.1, 0.2, 3.0]]).repeat(num_frames, 1)
    with torch.no_grad():
        joints = model.forward_joints(betas.expand(num_frames, -1), body_pose, global_orient, transl).numpy()
    return joints


def _project(joints: np.ndarray) -> np.ndarray:
    focal = math.hypot(HEIGHT, WIDTH)
    uv = focal * joints[..., :2] / joints[..., 2:] + np.array([WIDTH / 2, HEIGHT / 2])
    return np.concatenate([uv, np.ones(joints.shape[:-1] + (1,))], axis=-1)


def _centred(joints: np.ndarray) -> np.ndarray:
    return joints - joints.mean(axis=-2, keepdims=True)


# ---------------------------------------------------------------- model files


def test_synthetic_model_has_smpl_layout(smpl_dir, smpl_model):
    with np.load(smpl_dir / "SMPL_NEUTRAL.npz", allow_pickle=False) as data:
        assert data["v_template"].shape == (320, 3)
        assert data["shapedirs"].shape == (320, 3, 10)
        assert data["posedirs"].shape == (320, 3, 207)
        assert data["J_regressor"].shape == (24, 320)
        assert data["weights"].shape == (320, 24)
        assert data["kintree_table"].shape == (2, 24)
        np.testing.assert_allclose(data["weights"].sum(1), 1.0)
    assert smpl_model.num_vertices == 320
    # smplx's own forward runs on the loaded model (its extra joints need valid vertex ids).
    output = smpl_model.smpl(betas=torch.zeros(1, 10), body_pose=torch.zeros(1, 69))
    assert output.vertices.shape == (1, 320, 3)
    # Joints without the mesh agree with smplx's linear blend skinning.
    body_pose = 0.3 * torch.randn(2, 69)
    args = (torch.randn(2, 10), body_pose, torch.randn(2, 3), torch.randn(2, 3))
    _, joints = smpl_model(*args)
    torch.testing.assert_close(smpl_model.forward_joints(*args), joints, rtol=1e-5, atol=1e-5)


def test_part_ids_cover_both_sides(smpl_model):
    parts = {BODY_PARTS[i] for i in np.unique(smpl_model.part_ids)}
    for side in ("left", "right"):
        for part in ("upper_arm", "forearm", "hand", "thigh", "shin", "foot"):
            assert (part, side) in parts
    # In the rest pose (body faces +z, its left is +x) left-arm vertices are on +x, right-arm ones on -x.
    template = smpl_model.smpl.v_template.numpy()
    left = smpl_model.part_ids == BODY_PARTS.index(("forearm", "left"))
    right = smpl_model.part_ids == BODY_PARTS.index(("forearm", "right"))
    assert template[left, 0].min() > 0 and template[right, 0].max() < 0


def test_synthetic_model_is_smpl_sized(tmp_path):
    path = make_synthetic_smpl_npz(tmp_path / "big.npz")
    with np.load(path) as data:
        assert data["v_template"].shape == (6890, 3)
        assert 13_000 < data["f"].shape[0] <= 13_776
        assert data["f"].max() < 6890


def test_missing_directory_names_path_and_files(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="SMPL_NEUTRAL.npz") as info:
        load_smpl_model(missing)
    assert str(missing) in str(info.value)


def test_missing_file_names_expected_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"SMPL_FEMALE\.npz.*SMPL_FEMALE\.pkl"):
        load_smpl_model(tmp_path, gender="female")
    with pytest.raises(ValueError, match="gender"):
        load_smpl_model(tmp_path, gender="other")


def test_pickle_refused_unless_allowed(tmp_path, smpl_dir, smpl_model):
    with np.load(smpl_dir / "SMPL_NEUTRAL.npz") as data:
        arrays = {key: data[key] for key in data.files}
    with open(tmp_path / "SMPL_NEUTRAL.pkl", "wb") as handle:
        pickle.dump(arrays, handle)
    with pytest.raises(ValueError, match="pickle.*allow_pickle=True"):
        load_smpl_model(tmp_path)
    trusted = load_smpl_model(tmp_path, allow_pickle=True)
    args = (torch.zeros(1, 10), 0.2 * torch.ones(1, 69), torch.zeros(1, 3), torch.zeros(1, 3))
    torch.testing.assert_close(trusted(*args)[0], smpl_model(*args)[0], rtol=0, atol=0)


def test_npz_missing_arrays(tmp_path):
    np.savez(tmp_path / "SMPL_NEUTRAL.npz", v_template=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="lacks the arrays.*shapedirs"):
        load_smpl_model(tmp_path)


# ---------------------------------------------------------------- fitting


def test_fit_recovers_known_pose_from_3d_joints(smpl_model):
    joints = _known_motion(smpl_model, num_frames=4)
    hip_centred = joints - joints[:, :1]
    fit = fit_smpl(smpl_model, SMPL_JOINT_NAMES, keypoints_3d=hip_centred, timestamps=np.arange(4) * 0.2)
    error = np.linalg.norm(_centred(fit.joints) - _centred(joints), axis=-1).mean()
    assert error < 0.01, f"mean joint error {error * 100:.2f} cm"
    assert np.nanmax(fit.joint_error_3d) < 0.01
    assert fit.vertices.shape == (4, smpl_model.num_vertices, 3)
    assert fit.vertices_2d is None and fit.betas.shape == (10,)


def test_fit_with_2d_and_3d_places_the_body_in_the_image(smpl_model):
    joints = _known_motion(smpl_model, num_frames=3, seed=1)
    fit = fit_smpl(
        smpl_model,
        SMPL_JOINT_NAMES,
        keypoints_2d=_project(joints),
        keypoints_3d=joints - joints[:, :1],
        image_size=(HEIGHT, WIDTH),
    )
    # With the camera known, the body is recovered in the camera frame, not just up to translation.
    error = np.linalg.norm(fit.joints - joints, axis=-1).mean()
    assert error < 0.02, f"mean joint error {error * 100:.2f} cm"
    assert np.nanmax(fit.reprojection_error_2d) < 2.0
    assert fit.vertices_2d.shape == (3, smpl_model.num_vertices, 2)
    assert fit.depth.shape == (3, smpl_model.num_vertices) and (fit.depth > 0).all()
    mesh = fit.mesh(0)
    assert set(mesh) == {"vertices_2d", "depth", "faces", "part_ids"}
    image = render_mesh(np.zeros((HEIGHT, WIDTH, 3), np.uint8), **mesh)
    assert (image.sum(-1) > 0).mean() > 0.01


def test_fit_from_2d_only_reprojects(smpl_model):
    joints = _known_motion(smpl_model, num_frames=2, seed=2)
    fit = fit_smpl(smpl_model, SMPL_JOINT_NAMES, keypoints_2d=_project(joints), image_size=(HEIGHT, WIDTH))
    assert np.nanmax(fit.reprojection_error_2d) < 8.0
    assert (fit.transl[:, 2] > 0).all()


def test_coco_keypoints_map_to_smpl_joints():
    keypoints = np.random.default_rng(0).normal(size=(2, 17, 3))
    scores = np.ones((2, 17))
    scores[1, COCO17_NAMES.index("left_hip")] = 0.0
    targets, weights = keypoints_to_smpl_targets(keypoints, COCO17_NAMES, scores)
    left, right = COCO17_NAMES.index("left_hip"), COCO17_NAMES.index("right_hip")
    np.testing.assert_allclose(targets[0, 0], (keypoints[0, left] + keypoints[0, right]) / 2)
    np.testing.assert_allclose(
        targets[0, SMPL_JOINT_NAMES.index("left_knee")], keypoints[0, COCO17_NAMES.index("left_knee")]
    )
    assert weights[0, SMPL_JOINT_NAMES.index("spine1")] == 0  # no landmark for the spine
    assert weights[1, 0] == 0 and weights[1, SMPL_JOINT_NAMES.index("left_hip")] == 0  # missing hip
    assert weights[1, SMPL_JOINT_NAMES.index("right_hip")] == 1


def test_blazepose_layout_reaches_hands_feet_and_head():
    from macm.processing.skeleton import BLAZEPOSE33_NAMES

    keypoints = np.random.default_rng(1).normal(size=(1, 33, 3))
    targets, weights = keypoints_to_smpl_targets(keypoints, BLAZEPOSE33_NAMES)
    unreached = {SMPL_JOINT_NAMES[j] for j in np.flatnonzero(weights[0] == 0)}
    assert unreached == {"spine1", "spine2", "spine3", "left_collar", "right_collar"}
    index = BLAZEPOSE33_NAMES.index
    np.testing.assert_allclose(targets[0, SMPL_JOINT_NAMES.index("left_foot")], keypoints[0, index("left_foot_index")])
    np.testing.assert_allclose(
        targets[0, SMPL_JOINT_NAMES.index("right_hand")],
        (keypoints[0, index("right_index")] + keypoints[0, index("right_pinky")]) / 2,
    )


def test_fit_to_coco_track(smpl_model):
    joints = _known_motion(smpl_model, num_frames=3, seed=3)
    # COCO keypoints at the SMPL joints that have a COCO counterpart (face points: near the head joint).
    smpl_index = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}
    coco = np.stack([joints[:, smpl_index.get(name, smpl_index["head"])] for name in COCO17_NAMES], axis=1)
    track = PoseTrack(
        frame_indices=np.arange(3),
        timestamps=np.arange(3) / 10,
        keypoints=_project(coco).astype(np.float32),
        keypoint_names=COCO17_NAMES,
        image_size=(HEIGHT, WIDTH),
        person_counts=np.ones(3, dtype=np.int64),
        bboxes=np.zeros((3, 4), np.float32),
        world_keypoints=(coco - coco[:, 11:13].mean(1, keepdims=True)).astype(np.float32),
        backend="test",
    )
    fit = fit_smpl_to_track(smpl_model, track, [0, 2], config=SmplFitConfig(joint_iters=60))
    assert fit.num_frames == 2
    # Neck and head are approximated (shoulder and ear centres), so check the limb joints, which COCO has exactly.
    limbs = [
        n for n in SMPL_JOINT_NAMES if n.split("_", 1)[-1] in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")
    ]
    rows = [SMPL_JOINT_NAMES.index(n) for n in limbs]
    error = np.linalg.norm(
        _project(fit.joints[:, rows])[..., :2] - _project(joints[[0, 2]][:, rows])[..., :2], axis=-1
    )
    assert error.mean() < 3.0, f"mean limb reprojection error {error.mean():.2f} px"
    with pytest.raises(ValueError, match="keyframe_positions"):
        fit_smpl_to_track(smpl_model, track, [5])


def test_fit_validates_inputs(smpl_model):
    with pytest.raises(ValueError, match="neither"):
        fit_smpl(smpl_model, SMPL_JOINT_NAMES)
    with pytest.raises(ValueError, match="image_size"):
        fit_smpl(smpl_model, SMPL_JOINT_NAMES, keypoints_2d=np.zeros((1, 24, 3)))
    with pytest.raises(ValueError, match="joint_iters"):
        SmplFitConfig(joint_iters=-1)


# ---------------------------------------------------------------- rendering


def _square(x0, y0, x1, y1, depth):
    vertices = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
    return vertices, np.full(4, depth), np.array([[0, 1, 2], [0, 2, 3]])


def test_rasterizer_covers_pixel_centres_exactly():
    vertices, depth, faces = _square(2, 3, 7, 5, 1.0)
    face_index, zbuffer = rasterize_triangles(vertices, depth, faces, 10, 10)
    covered = face_index >= 0
    expected = np.zeros((10, 10), bool)
    expected[3:6, 2:8] = True
    np.testing.assert_array_equal(covered, expected)
    np.testing.assert_allclose(zbuffer[covered], 1.0)
    assert np.isinf(zbuffer[~covered]).all()


@pytest.mark.parametrize("near_first", [True, False])
def test_nearer_triangle_wins(near_first):
    near_v, near_d, near_f = _square(10, 10, 40, 40, 2.0)
    far_v, far_d, far_f = _square(25, 25, 60, 60, 5.0)
    meshes = [(near_v, near_d, near_f, 2), (far_v, far_d, far_f, 5)]  # near: left upper arm, far: right upper arm
    if not near_first:
        meshes = meshes[::-1]
    vertices = np.concatenate([m[0] for m in meshes])
    depth = np.concatenate([m[1] for m in meshes])
    faces = np.concatenate([meshes[0][2], meshes[1][2] + 4])
    part_ids = np.concatenate([np.full(4, m[3]) for m in meshes])
    image = np.zeros((80, 80, 3), np.uint8)
    out = render_mesh(image, vertices, depth, faces, part_ids, alpha=1.0)
    # The overlap (25..40) shows the near square's colour; the far square shows where it is alone.
    near_colour, far_colour = MESH_PART_COLORS[2], MESH_PART_COLORS[5]
    np.testing.assert_allclose(out[30, 30], near_colour, atol=1)  # flat, facing the camera: full light
    np.testing.assert_allclose(out[50, 50], far_colour, atol=1)
    assert (out[70, 70] == 0).all()


def test_left_and_right_parts_have_different_colours():
    for part in ("upper_arm", "forearm", "hand", "thigh", "shin", "foot"):
        left = MESH_PART_COLORS[BODY_PARTS.index((part, "left"))]
        right = MESH_PART_COLORS[BODY_PARTS.index((part, "right"))]
        assert np.abs(left - right).sum() > 100, part
    vertices, depth, faces = _square(5, 5, 20, 20, 1.0)
    left_v = vertices
    right_v = vertices + np.array([30.0, 0.0])
    out = render_mesh(
        np.zeros((30, 60, 3), np.uint8),
        np.concatenate([left_v, right_v]),
        np.concatenate([depth, depth]),
        np.concatenate([faces, faces + 4]),
        np.array([BODY_PARTS.index(("thigh", "left"))] * 4 + [BODY_PARTS.index(("thigh", "right"))] * 4),
        alpha=1.0,
    )
    assert np.abs(out[10, 10].astype(int) - out[10, 40].astype(int)).sum() > 100


def test_alpha_blends_over_the_frame():
    vertices, depth, faces = _square(0, 0, 9, 9, 1.0)
    frame = np.full((10, 10, 3), 100, np.uint8)
    out = render_mesh(frame, vertices, depth, faces, np.zeros(4, np.int64), alpha=0.25)
    np.testing.assert_allclose(out[5, 5], np.rint(0.75 * 100 + 0.25 * MESH_PART_COLORS[0]), atol=1)
    with pytest.raises(ValueError, match="alpha"):
        render_mesh(frame, vertices, depth, faces, np.zeros(4, np.int64), alpha=1.5)
    with pytest.raises(ValueError, match="part_ids"):
        render_mesh(frame, vertices, depth, faces, np.full(4, 99), alpha=0.5)


def test_triangles_behind_camera_or_off_screen_are_skipped():
    vertices, depth, faces = _square(-50, -50, -10, -10, 1.0)
    face_index, _ = rasterize_triangles(vertices, depth, faces, 20, 20)
    assert (face_index < 0).all()
    vertices, _, faces = _square(0, 0, 10, 10, 1.0)
    face_index, _ = rasterize_triangles(vertices, np.array([1.0, 1.0, -1.0, 1.0]), faces, 20, 20)
    assert (face_index < 0).all()
