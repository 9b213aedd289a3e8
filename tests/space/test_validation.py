"""The Space's pure validation function and its limits: no files, no model, no Gradio."""

from __future__ import annotations

import pytest

from space.validation import Limits, MsdSettings, Request, parse_alpha, validate_request

LIMITS = Limits(max_file_mb=10, max_seconds=20, max_side=1280, max_keyframes=16, max_new_tokens=128)


def good(**changes) -> Request:
    fields = {
        "video_path": "/tmp/clip.mp4",
        "file_bytes": 1_000_000,
        "duration": 4.0,
        "num_frames": 100,
        "width": 640,
        "height": 360,
        "prompt": "Describe the motion.",
        "backend": "blazepose",
        "backends": ("blazepose", "dwpose"),
        "num_keyframes": 8,
        "max_new_tokens": 64,
    }
    return Request(**{**fields, **changes})


def messages(issues, level):
    return [(issue.field, issue.message) for issue in issues if issue.level == level]


def test_a_good_request_has_no_issues():
    assert validate_request(good(), LIMITS) == []


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"video_path": None}, "video", "Upload a video"),
        ({"file_bytes": 11 * 1024 * 1024}, "video", "11.0 MB; this Space accepts up to 10 MB"),
        ({"duration": 20.5}, "video", "20.5 s long; this Space accepts up to 20 s"),
        ({"width": 1920, "height": 1080}, "video", "1920x1080"),
        ({"num_frames": 1}, "video", "only 1 frame; describing a motion needs at least 4 frames"),
        ({"num_frames": 3}, "video", "only 3 frames"),
        ({"decode_error": "not a readable video (Invalid data)", "duration": None}, "video", "could not be read"),
        ({"backend": "openpose"}, "backend", "Unknown pose backend 'openpose'"),
        ({"num_keyframes": 0}, "keyframes", "between 1 and 16, got 0"),
        ({"num_keyframes": 17}, "keyframes", "between 1 and 16, got 17"),
        ({"max_new_tokens": 129}, "max_new_tokens", "between 1 and 128, got 129"),
        ({"prompt": "x" * 501}, "prompt", "501 characters"),
        ({"msd": MsdSettings(alpha="1, 2, 3")}, "msd_alpha", "six finite numbers"),
        ({"msd": MsdSettings(alpha="a, b, c, d, e, f")}, "msd_alpha", "six numbers"),
        ({"msd": MsdSettings(beta=-0.1)}, "msd_beta", ">= 0"),
        ({"msd": MsdSettings(theta=0.0)}, "msd_theta", "> 0"),
        ({"msd": MsdSettings(theta=float("nan"))}, "msd_theta", "> 0"),
        ({"msd": MsdSettings(synergy="other")}, "msd_synergy", "reconstructed-v1"),
    ],
)
def test_each_rule_names_the_field_and_the_numbers(changes, field, words):
    errors = messages(validate_request(good(**changes), LIMITS), "error")
    assert len(errors) == 1, errors
    assert errors[0][0] == field
    assert words in errors[0][1]


def test_msd_parameters_are_not_checked_when_msd_is_off():
    request = good(msd=MsdSettings(enabled=False, alpha="nonsense", beta=-1, theta=0, synergy="?"))
    assert validate_request(request, LIMITS) == []


def test_warnings_do_not_stop_a_request_and_come_after_errors():
    issues = validate_request(good(prompt="  ", duration=0.3, num_keyframes=99), LIMITS)
    assert [issue.level for issue in issues] == ["error", "warning", "warning"]
    assert {issue.field for issue in issues if issue.level == "warning"} == {"video", "prompt"}


def test_a_decode_error_skips_the_duration_and_size_rules():
    issues = validate_request(good(decode_error="file is empty (0 bytes)", duration=None, width=None), LIMITS)
    assert messages(issues, "error") == [("video", "This file could not be read as a video: file is empty (0 bytes)")]


def test_unusual_extension_warns():
    assert messages(validate_request(good(video_path="/tmp/clip.txt"), LIMITS), "warning")[0][0] == "video"


def test_parse_alpha():
    assert parse_alpha("0.5, 0.2, 0.4, 0.8, 0.3, 2") == (0.5, 0.2, 0.4, 0.8, 0.3, 2.0)
    assert parse_alpha("1 2 3 4 5 6") == (1, 2, 3, 4, 5, 6)
    for bad in ("", "1,2,3,4,5", "1,2,3,4,5,inf", "1,2,3,4,5,x"):
        with pytest.raises(ValueError, match="MSD alpha"):
            parse_alpha(bad)


def test_limits_from_environment():
    limits = Limits.from_env(
        {"MACM_SPACE_MAX_SECONDS": "12.5", "MACM_SPACE_MAX_KEYFRAMES": "4", "MACM_SPACE_MIN_FRAMES": "2", "OTHER": "x"}
    )
    assert limits.max_seconds == 12.5 and limits.max_keyframes == 4 and limits.min_frames == 2
    assert limits.max_file_mb == Limits().max_file_mb
    assert Limits.from_env({}) == Limits()
    with pytest.raises(ValueError, match="MACM_SPACE_MAX_FILE_MB='big'"):
        Limits.from_env({"MACM_SPACE_MAX_FILE_MB": "big"})
    with pytest.raises(ValueError, match="positive"):
        Limits.from_env({"MACM_SPACE_QUEUE_SIZE": "0"})
