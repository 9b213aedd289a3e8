"""Each curation filter at its paper threshold, on pose tracks made in the test."""

from __future__ import annotations

import numpy as np
import pytest

from macm.processing.hmi.filters import FilterConfig, apply_filters, movement_score
from macm.processing.pose import COCO17_NAMES, PoseTrack

SIZE = (100, 100)  # (height, width)


def make_track(
    num_frames: int = 20,
    visible: int = 17,
    face_visible: int = 5,
    box: float = 40.0,
    sway: float = 5.0,
    counts=None,
    present=None,
) -> PoseTrack:
    """A person whose keypoints span a `box`-pixel square swaying sideways by `sway` pixels; the first `visible`
    COCO keypoints are scored 0.9 and the rest 0.2, except the 5 face points, of which `face_visible` are 0.9."""
    base = np.stack([np.linspace(20 + box, 20, 17), np.linspace(20, 20 + box, 17)], axis=1)  # a box-sized square
    keypoints = np.zeros((num_frames, 17, 3), np.float32)
    for f in range(num_frames):
        keypoints[f, :, :2] = base + [sway * np.sin(f / 2.0), 0.0]
    scores = np.full(17, 0.2)
    scores[:visible] = 0.9
    scores[:5] = 0.2
    scores[:face_visible] = 0.9
    keypoints[..., 2] = scores
    present = np.ones(num_frames, bool) if present is None else np.asarray(present, bool)
    keypoints[~present] = [np.nan, np.nan, 0.0]
    boxes = np.stack([keypoints[:, :, 0].min(1), keypoints[:, :, 1].min(1), keypoints[:, :, 0].max(1), keypoints[:, :, 1].max(1)], 1)  # fmt: skip
    counts = np.ones(num_frames, int) if counts is None else np.asarray(counts)
    return PoseTrack(
        frame_indices=np.arange(num_frames),
        timestamps=np.arange(num_frames) / 10.0,
        keypoints=keypoints,
        keypoint_names=COCO17_NAMES,
        image_size=SIZE,
        person_counts=np.where(present, counts, 0),
        bboxes=boxes.astype(np.float32),
    )


def failed(track: PoseTrack, config: FilterConfig | None = None) -> list[str]:
    return [reason["filter"] for reason in apply_filters(track, config).reasons]


def test_a_clean_clip_passes_with_its_statistics():
    result = apply_filters(make_track())
    assert result.passed and result.reasons == []
    assert result.stats["single_person_fraction"] == 1.0
    assert result.stats["keypoint_fraction"] == 1.0 and result.stats["face_fraction"] == 1.0
    assert result.stats["bbox_fraction"] == pytest.approx(0.16, abs=0.01)
    assert result.stats["movement"] > 0.015


def test_no_person_is_the_only_reason_for_an_empty_clip():
    result = apply_filters(make_track(present=[False] * 20))
    assert [r["filter"] for r in result.reasons] == ["no_person"]
    assert "no person found in any of 20 frames" in result.reasons[0]["message"]


def test_single_person_needs_more_than_ninety_percent():
    two_people_in_two = [2, 2] + [1] * 18  # 90%: not more than 90%
    assert failed(make_track(counts=two_people_in_two)) == ["single_person"]
    assert failed(make_track(counts=[2] + [1] * 19)) == []  # 95%
    # a frame where the detector missed the person the tracker follows still shows one person
    assert failed(make_track(counts=[0, 0] + [1] * 18)) == []
    # frames without the person do not count as single-person frames
    assert failed(make_track(present=[False, False, False] + [True] * 17)) == ["single_person", "keypoints", "face"]


def test_keypoint_and_face_visibility_thresholds():
    assert failed(make_track(visible=12)) == []  # 12 keypoints above 0.5 (5 face + 7 body)
    assert failed(make_track(visible=11)) == ["keypoints"]
    assert failed(make_track(visible=17, face_visible=2)) == []
    assert failed(make_track(visible=17, face_visible=1)) == ["face"]
    message = apply_filters(make_track(visible=11)).reasons[0]["message"]
    assert ">= 12 keypoints scored above 0.5 in 0% of frames" in message


def test_bbox_must_cover_more_than_a_fiftieth_of_the_frame():
    assert failed(make_track(box=15.0)) == []  # 225 / 10000 > 1/50
    assert failed(make_track(box=13.0)) == ["bbox_small"]  # 169 / 10000 < 1/50
    loose = FilterConfig(min_bbox_fraction=0.01)
    assert failed(make_track(box=13.0), loose) == []


def test_movement_criterion_rejects_a_still_person():
    still = make_track(sway=0.0)
    assert movement_score(still) == 0.0
    assert failed(still) == ["static"]
    # every joint sways the same way: its distance from its mean position, in box heights
    expected = np.std(5.0 * np.sin(np.arange(20) / 2.0)) / 40.0
    assert movement_score(make_track(sway=5.0)) == pytest.approx(expected, rel=1e-4)


def test_thresholds_are_validated():
    with pytest.raises(ValueError, match="`single_person_fraction` must be in"):
        FilterConfig(single_person_fraction=1.5)
    with pytest.raises(ValueError, match="`min_keypoints` must be in"):
        FilterConfig(min_keypoints=18)
