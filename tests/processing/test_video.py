"""Streaming decoding: candidate stride, timestamps, rotation, fetching frames, and clean errors."""

from fractions import Fraction

import numpy as np
import pytest

from macm.processing.video import VideoDecodeError, default_stride, iter_frames, prefetch, probe_video, read_frames


@pytest.mark.parametrize(("fps", "stride"), [(30, 3), (29.97, 3), (25, 3), (60, 6), (10, 1), (5, 1), (0, 1), (24, 3)])
def test_default_stride_keeps_candidates_at_or_below_10_fps(fps, stride):
    assert default_stride(fps) == stride
    if fps:
        assert fps / default_stride(fps) <= 10.0 + 1e-6


def test_probe_video(clip_person):
    info = probe_video(clip_person)
    assert (info.width, info.height, info.rotation) == (160, 120, 0)
    assert info.fps == pytest.approx(30)
    assert info.num_frames == 60
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert info.codec == "h264"


def test_iter_frames_default_stride_and_timestamps(clip_person, clip_pose_fn):
    frames = list(iter_frames(clip_person))
    indices = [index for index, _, _ in frames]
    assert indices == list(range(0, 60, 3))
    np.testing.assert_allclose([t for _, t, _ in frames], np.arange(0, 60, 3) / 30, atol=1e-6)
    index, _, image = frames[5]
    assert image.shape == (120, 160, 3) and image.dtype == np.uint8
    # the frame really is frame `index`: its figure is drawn where clip_pose puts it
    x, y = clip_pose_fn(index, 160, 120)[[11, 12]].mean(axis=0).round().astype(int)
    assert image[y - 1 : y + 2, x - 1 : x + 2].mean() > 200


def test_iter_frames_explicit_stride_and_max_frames(clip_person):
    assert [i for i, _, _ in iter_frames(clip_person, stride=7, max_frames=4)] == [0, 7, 14, 21]
    with pytest.raises(ValueError, match="stride"):
        list(iter_frames(clip_person, stride=0))


def test_variable_frame_rate_timestamps(tmp_path, clip_factory):
    pts = [0, 40, 100, 180, 200, 450, 460, 1000]  # milliseconds, irregular
    path = clip_factory(tmp_path / "vfr.mp4", num_frames=len(pts), pts=pts, time_base=Fraction(1, 1000))
    times = [t for _, t, _ in iter_frames(path, stride=1)]
    np.testing.assert_allclose(times, np.array(pts) / 1000, atol=1e-3)


def test_rotation_metadata_is_applied(tmp_path, clip_factory):
    path = clip_factory(tmp_path / "rotated.mp4", num_frames=3, size=(96, 48), person=False, rotation=90)
    info = probe_video(path)
    assert (info.rotation, info.width, info.height) == (90, 48, 96)
    _, _, image = next(iter_frames(path, stride=1))
    assert image.shape == (96, 48, 3)
    # The frame code sits in the top-left corner of the encoded frame; rotated 90 degrees counter-clockwise
    # for display it runs up the left edge from the bottom.
    assert image[-8:, :8].mean() < 60  # bit 0 of frame 0 is black
    assert image[:8, 10:].mean() == pytest.approx(40, abs=8)  # plain background


def test_read_frames_matches_streaming(clip_person):
    streamed = {index: image for index, _, image in iter_frames(clip_person, stride=1)}
    fetched = read_frames(clip_person, [41, 3, 3, 17])
    for index, image in zip([41, 3, 3, 17], fetched, strict=True):
        np.testing.assert_array_equal(image, streamed[index])
    with pytest.raises(VideoDecodeError, match="past the last"):
        read_frames(clip_person, [60])


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("clip_zero_byte", "empty"),
        ("clip_text", "not a readable video"),
        ("clip_truncated", "not a readable video"),
        ("clip_audio_only", "no video stream"),
        ("clip_no_video_frames", "zero frames"),
    ],
)
def test_bad_files_raise_one_line_errors(request, fixture, reason):
    path = request.getfixturevalue(fixture)
    for call in (lambda: probe_video(path), lambda: list(iter_frames(path))):
        with pytest.raises(VideoDecodeError, match=reason) as error:
            call()
        message = str(error.value)
        assert "\n" not in message and message.startswith(str(path))
        assert isinstance(error.value, ValueError)


def test_truncated_faststart_clip_decodes_its_intact_prefix(tmp_path, clip_factory):
    path = clip_factory(tmp_path / "faststart.mp4", num_frames=60, faststart=True)
    data = path.read_bytes()
    half = tmp_path / "half.mp4"
    half.write_bytes(data[: len(data) // 2])
    indices = [index for index, _, _ in iter_frames(half, stride=1)]
    assert 0 < len(indices) < 60 and indices == list(range(len(indices)))
    head = tmp_path / "head.mp4"
    head.write_bytes(data[:2000])  # the index survives, no frame does
    with pytest.raises(VideoDecodeError):
        list(iter_frames(head))


def test_missing_file(tmp_path):
    with pytest.raises(VideoDecodeError, match="no such file"):
        probe_video(tmp_path / "nope.mp4")


def test_prefetch_keeps_order_and_propagates_errors(clip_person):
    assert [i for i, _, _ in prefetch(iter_frames(clip_person), depth=2)] == list(range(0, 60, 3))

    def failing():
        yield 1
        raise VideoDecodeError("clip.mp4: broken")

    stream = prefetch(failing())
    assert next(stream) == 1
    with pytest.raises(VideoDecodeError, match="broken"):
        next(stream)
    early = prefetch(iter_frames(clip_person, stride=1), depth=1)
    assert next(early)[0] == 0
    early.close()  # stops the producer thread without decoding the rest
