"""Pose-driven keyframe sampling on synthetic keypoint sequences."""

import numpy as np
import pytest

from macm.processing.keyframes import (
    normalize_keypoints,
    pairwise_pose_distances,
    sample_keyframes,
    select_keyframes,
    uniform_indices,
)
from macm.processing.pose import COCO17_NAMES, PoseTrack

# A standing figure in COCO-17 order, unit torso, y down.
STANDING = np.array(
    [
        [0, -1.4], [-0.1, -1.5], [0.1, -1.5], [-0.2, -1.45], [0.2, -1.45],
        [-0.4, -1.0], [0.4, -1.0], [-0.45, -0.5], [0.45, -0.5], [-0.5, 0.0], [0.5, 0.0],
        [-0.25, 0.0], [0.25, 0.0], [-0.25, 0.9], [0.25, 0.9], [-0.25, 1.8], [0.25, 1.8],
    ]
)  # fmt: skip


def _pose(arms_up=False, arms_out=False, kick=False):
    pose = STANDING.copy()
    if arms_up:
        pose[[7, 8], 1], pose[[9, 10], 1] = -1.6, -2.2
    if arms_out:
        pose[7:11] = [[-0.9, -1.0], [0.9, -1.0], [-1.4, -1.0], [1.4, -1.0]]
    if kick:
        pose[14] = [1.0, 0.2]
        pose[16] = [1.8, 0.3]
    return pose


def _sequence(poses, rng, noise=0.01, offset=(300.0, 200.0), scale=100.0, score=0.9):
    """(F, 17, 3) pixel keypoints from unit poses."""
    xy = np.stack(poses) * scale + offset + rng.normal(0, noise * scale, (len(poses), 17, 2))
    return np.concatenate([xy, np.full((len(poses), 17, 1), score)], axis=-1)


def test_uniform_indices():
    np.testing.assert_array_equal(uniform_indices(10, 5), [1, 3, 5, 7, 9])
    np.testing.assert_array_equal(uniform_indices(3, 5), [0, 1, 2])
    assert len(np.unique(uniform_indices(17, 16))) == 16
    assert len(uniform_indices(0, 4)) == 0


def test_normalisation_removes_translation_and_scale():
    rng = np.random.default_rng(0)
    a = _sequence([_pose(arms_up=True)], rng, noise=0)
    b = _sequence([_pose(arms_up=True)], rng, noise=0, offset=(50.0, 900.0), scale=37.0)
    for names in (COCO17_NAMES, None):  # torso-based and bounding-box-based
        coords_a, visible_a = normalize_keypoints(a, names)
        coords_b, _ = normalize_keypoints(b, names)
        np.testing.assert_allclose(coords_a, coords_b, atol=1e-9)
        assert visible_a.all()
    coords, _ = normalize_keypoints(a, COCO17_NAMES)
    np.testing.assert_allclose(coords[0, [11, 12]].mean(axis=0), 0, atol=1e-9)  # hip centre at the origin


def test_distances_ignore_low_confidence_joints():
    rng = np.random.default_rng(0)
    keypoints = _sequence([_pose(), _pose()], rng, noise=0)
    keypoints[1, 9, :2] += 5000  # a wild wrist ...
    keypoints[1, 9, 2] = 0.1  # ... that the detector was unsure of
    coords, visible = normalize_keypoints(keypoints, COCO17_NAMES)
    assert not visible[1, 9]
    np.testing.assert_allclose(pairwise_pose_distances(coords, visible), 0, atol=1e-9)
    # distances are means over joints visible in both frames
    keypoints[1, 9, 2] = 0.9
    coords, visible = normalize_keypoints(keypoints, COCO17_NAMES)
    distance = pairwise_pose_distances(coords, visible)[0, 1]
    assert distance == pytest.approx(np.linalg.norm(coords[1, 9] - coords[0, 9]) / 17)


def test_picks_the_frames_of_extreme_pose():
    rng = np.random.default_rng(1)
    poses = [_pose() for _ in range(60)]
    poses[10], poses[30], poses[50] = _pose(arms_up=True), _pose(arms_out=True), _pose(kick=True)
    keypoints = _sequence(poses, rng)
    # the figure drifts across the frame and grows: translation and scale must not matter
    keypoints[..., 0] += np.linspace(0, 400, 60)[:, None]
    keypoints[..., :2] *= np.linspace(1.0, 1.5, 60)[:, None, None]
    picked = select_keyframes(keypoints, 3, COCO17_NAMES)
    assert picked[0] == 10  # the pose most unlike the rest of its segment
    # then, per segment, the pose farthest from the previous keyframe: standing is farther from arms-up than
    # arms-out is; the kick is the farthest from standing
    np.testing.assert_array_equal(picked, [10, picked[1], 50])
    assert 20 <= picked[1] < 40 and picked[1] != 30
    first = select_keyframes(keypoints, 1, COCO17_NAMES)
    assert first[0] in (10, 30, 50)


def test_low_confidence_outlier_is_not_a_keyframe():
    rng = np.random.default_rng(2)
    poses = [_pose() for _ in range(40)]
    poses[5] = _pose(arms_up=True)
    keypoints = _sequence(poses, rng)
    keypoints[20, 15:17, :2] = [[5000, -4000], [-3000, 7000]]
    keypoints[20, 15:17, 2] = 0.05
    np.testing.assert_array_equal(select_keyframes(keypoints, 1, COCO17_NAMES), [5])


def test_distinct_sorted_and_exact_count():
    rng = np.random.default_rng(3)
    keypoints = np.concatenate([rng.uniform(0, 500, (100, 17, 2)), rng.uniform(0, 1, (100, 17, 1))], axis=-1)
    picked = select_keyframes(keypoints, 16, COCO17_NAMES)
    assert len(picked) == 16 and len(np.unique(picked)) == 16
    assert np.all(np.diff(picked) > 0) and picked.min() >= 0 and picked.max() < 100


def test_static_pose_spreads_keyframes_over_time():
    keypoints = _sequence([_pose()] * 50, np.random.default_rng(0), noise=0)
    picked = select_keyframes(keypoints, 5, COCO17_NAMES)
    assert len(np.unique(picked)) == 5
    assert np.diff(picked).min() >= 8


@pytest.mark.parametrize("num_frames", [0, 1, 5, 16])
def test_short_tracks_return_every_frame(num_frames):
    keypoints = _sequence([_pose()] * num_frames, np.random.default_rng(0)) if num_frames else np.zeros((0, 17, 3))
    np.testing.assert_array_equal(select_keyframes(keypoints, 16), np.arange(num_frames))


def test_no_person_anywhere_is_uniform():
    keypoints = np.zeros((40, 17, 3))
    keypoints[..., :2] = np.nan
    np.testing.assert_array_equal(select_keyframes(keypoints, 8), uniform_indices(40, 8))


def test_person_frames_are_preferred_within_their_segment():
    rng = np.random.default_rng(4)
    keypoints = np.zeros((40, 17, 3))
    keypoints[..., :2] = np.nan
    keypoints[[3, 4, 30]] = _sequence([_pose(), _pose(arms_up=True), _pose()], rng)
    picked = select_keyframes(keypoints, 8, COCO17_NAMES)
    # segments of 5 frames: the first holds frames 3 and 4 and gives one of them, the seventh gives 30; the
    # segments where nobody is found give their middle frame
    np.testing.assert_array_equal(picked, [picked[0], 7, 12, 17, 22, 27, 30, 37])
    assert picked[0] in (3, 4)


def test_segments_without_a_person_give_their_middle_and_the_rest_have_one():
    rng = np.random.default_rng(5)
    poses = [_pose(arms_up=i % 7 == 0) for i in range(30)]
    keypoints = _sequence(poses, rng)
    keypoints[10:20, :, 2] = 0  # person lost
    picked = select_keyframes(keypoints, 6, COCO17_NAMES)
    assert picked[2] == 12 and picked[3] == 17
    assert not set(picked[[0, 1, 4, 5]].tolist()) & set(range(10, 20))


def test_one_keyframe_per_segment_still_half_and_moving_half():
    """Farthest-pose sampling over the whole clip would put every keyframe in the moving half."""
    rng = np.random.default_rng(7)
    still = [_pose()] * 40
    moving = [_pose(arms_up=i % 2 == 0, kick=i % 3 == 0) for i in range(40)]
    picked = select_keyframes(_sequence(still + moving, rng), 8, COCO17_NAMES)
    assert len(picked) == 8 and np.all(np.diff(picked) > 0)
    assert (picked < 40).sum() == 4 and (picked >= 40).sum() == 4
    for k, index in enumerate(picked):  # each keyframe inside its own segment
        assert 10 * k <= index < 10 * (k + 1)


def test_later_keyframes_are_the_farthest_from_the_previous_one():
    rng = np.random.default_rng(8)
    poses = [_pose(arms_out=i % 4 == 0, kick=i % 3 == 0, arms_up=i % 5 == 0) for i in range(30)]
    keypoints = _sequence(poses, rng, noise=0.002)
    picked = select_keyframes(keypoints, 3, COCO17_NAMES)
    coords, visible = normalize_keypoints(keypoints, COCO17_NAMES)
    distances = pairwise_pose_distances(coords, visible)
    assert picked[0] == np.argmax(distances[:10, :10].mean(axis=1))
    for k in (1, 2):
        segment = np.arange(10 * k, 10 * (k + 1))
        assert picked[k] == segment[np.argmax(distances[picked[k - 1], segment])]


def test_sample_keyframes_on_a_pose_track():
    rng = np.random.default_rng(6)
    poses = [_pose() for _ in range(20)]
    poses[12] = _pose(kick=True)
    keypoints = _sequence(poses, rng).astype(np.float32)
    track = PoseTrack(
        frame_indices=np.arange(0, 60, 3),
        timestamps=np.arange(20) / 10,
        keypoints=keypoints,
        keypoint_names=COCO17_NAMES,
        image_size=(480, 640),
        person_counts=np.ones(20, dtype=np.int64),
        bboxes=np.zeros((20, 4), dtype=np.float32),
    )
    picked = sample_keyframes(track, 1)
    np.testing.assert_array_equal(picked, [12])
    assert track.frame_indices[picked][0] == 36
    with pytest.raises(ValueError, match="num_keyframes"):
        sample_keyframes(track, 0)
