"""Counting people relative to the main person: tiles, relative heights, and BlazePose on composed crowds."""

from __future__ import annotations

import numpy as np
import pytest
from crowd_clips import Figure, make_crowd_clip

from macm.processing.hmi.filters import FilterConfig, apply_filters
from macm.processing.pose import model_files
from macm.processing.pose.people import count_people, count_tiles, relative_heights

pytest.importorskip("ai_edge_litert", reason="the blazepose backend runs on the ai-edge-litert runtime")

# Others at 50-100% of the subject's photograph, and figures below 25% of it.
# The subject photograph shows the upper body only (11 COCO keypoints at most), so the keypoint filter is relaxed.
FILTERS = FilterConfig(min_movement=0.0, min_keypoints=9)
CROWD = [Figure("grace_hopper", 0.8, 0.55), Figure("mirrored_grace_hopper", 0.6, 0.8), Figure("mirrored_astronaut", 0.7, 0.93, 0.6)]  # fmt: skip
HALF_SIZE_CROWD = [Figure("grace_hopper", 0.5, 0.55, 0.4), Figure("mirrored_grace_hopper", 0.55, 0.75, 0.45), Figure("mirrored_astronaut", 0.5, 0.9, 0.4)]  # fmt: skip
SPECTATORS = [Figure("grace_hopper", 0.15, 0.6, 0.3), Figure("mirrored_grace_hopper", 0.2, 0.8, 0.35), Figure("mirrored_astronaut", 0.2, 0.92, 0.3)]  # fmt: skip


def test_relative_heights_and_counts():
    heights = relative_heights(200.0, np.array([50.0, 150.0, np.nan]))
    np.testing.assert_allclose(heights, [1.0, 0.75, 0.25])
    np.testing.assert_allclose(relative_heights(None, np.array([50.0, 100.0])), [1.0, 0.5])
    assert relative_heights(None, np.zeros(0)).shape == (0,)
    table = np.array([[1.0, 0.75, 0.25], [1.0, np.nan, np.nan], [np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(count_people(table, 0.5), [2, 1, 0])
    np.testing.assert_array_equal(count_people(table, 0.2), [3, 1, 0])
    np.testing.assert_array_equal(count_people(table, 1.5), [0, 0, 0])
    with pytest.raises(ValueError, match="min_height"):
        count_people(table, -0.1)


@pytest.mark.parametrize("person_size", [150.0, 400.0, 700.0, None])
def test_count_tiles_cover_the_frame(person_size):
    width, height = 1280, 720
    tiles = count_tiles(width, height, person_size, max_tiles=8)
    assert 1 <= len(tiles) <= 8
    covered = np.zeros((height, width), dtype=bool)
    for x0, y0, side in tiles:
        covered[y0 : y0 + side, x0 : x0 + side] = True
    assert covered.all()
    if person_size is None:
        assert tiles == [(0, 0, width)]
    if person_size == 400.0:  # half of 400 px is 200 px, which is 110 px in a 224 px tile of 407 px
        assert len(tiles) > 1 and all(side < 720 for _, _, side in tiles)


@pytest.fixture(scope="module")
def blazepose_paths():
    try:
        return model_files.find_blazepose_models()
    except FileNotFoundError as error:
        pytest.skip(f"BlazePose model files not cached: {error}")


@pytest.fixture(scope="module")
def crowd_summaries(tmp_path_factory, blazepose_paths):
    from macm.processing.pipeline import extract_motion

    folder = tmp_path_factory.mktemp("crowds")
    results = {}
    for name, others in (("crowd", CROWD), ("half", HALF_SIZE_CROWD), ("spectators", SPECTATORS), ("alone", [])):
        clip = make_crowd_clip(folder / f"{name}.mp4", others, num_frames=20, fps=10)
        results[name] = extract_motion(
            clip, backend="blazepose", backend_kwargs={"num_threads": 1}, num_keyframes=4, stride=1, cache=False,
            progress=False,
        )  # fmt: skip
    return results


@pytest.mark.parametrize("name", ["crowd", "half"])
def test_crowds_are_not_single_person(crowd_summaries, name):
    result = crowd_summaries[name]
    assert result.track.has_person.all()
    assert result.summary["single_person_fraction"] < 0.5, result.summary["person_counts"]
    verdict = apply_filters(result.track, FILTERS)
    assert not verdict.passed and [r["filter"] for r in verdict.reasons] == ["single_person"]


@pytest.mark.parametrize("name", ["spectators", "alone"])
def test_small_spectators_do_not_count(crowd_summaries, name):
    result = crowd_summaries[name]
    assert result.summary["single_person_fraction"] == 1.0, result.summary["person_counts"]
    assert apply_filters(result.track, FILTERS).passed


def test_the_height_threshold_is_a_filter_setting(crowd_summaries):
    track = crowd_summaries["crowd"].track
    strict = apply_filters(track, FILTERS)
    lenient = apply_filters(track, FilterConfig(min_movement=0.0, min_keypoints=9, other_person_min_height=5.0))
    assert strict.stats["single_person_fraction"] < 0.5 and lenient.passed


def test_build_hmi_rejects_the_crowd_and_keeps_the_subject_among_spectators(tmp_path, blazepose_paths):
    from macm.processing.hmi.build import BuildConfig, build_hmi

    folder = tmp_path / "videos"
    folder.mkdir()
    make_crowd_clip(folder / "crowd.mp4", CROWD, num_frames=25, fps=10)
    make_crowd_clip(folder / "spectators.mp4", SPECTATORS, num_frames=25, fps=10)
    report = build_hmi(
        folder, tmp_path / "hmi", BuildConfig(filters=FILTERS, num_keyframes=4), cache=False, progress=False
    )
    assert report["counts"]["clips_accepted"] == 1 and report["rejected_by_filter"] == {"single_person": 1}
