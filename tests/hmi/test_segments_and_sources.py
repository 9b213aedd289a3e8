"""Source listing and sharding, scene detection, segmentation into 2-10 s clips, and clip cutting."""

from __future__ import annotations

import json

import av
import pytest
from hmi_helpers import FPS, humanoid, write_video

from macm.processing.hmi.scenes import SegmentConfig, cut_clip, detect_scenes, split_scenes
from macm.processing.hmi.sources import Shard, list_sources, parse_shard
from macm.processing.video import VideoDecodeError, probe_video


def test_split_scenes_drops_short_shots_and_splits_long_ones():
    segments = split_scenes([(0.0, 1.9), (1.9, 4.0), (4.0, 25.0)], SegmentConfig())
    spans = [(s.start, s.end, s.reason) for s in segments]
    assert spans == [(0.0, 1.9, "too_short"), (1.9, 4.0, None), (4.0, 11.0, None), (11.0, 18.0, None), (18.0, 25.0, None)]  # fmt: skip
    kept = [s for s in segments if s.reason is None]
    assert all(2.0 <= s.duration <= 10.0 for s in kept)


def test_scene_detection_finds_the_cut(source_videos):
    scenes, fps = detect_scenes(source_videos / "two_shots.mp4", SegmentConfig())
    assert fps == FPS
    assert scenes == [(0.0, 2.5), (2.5, 5.0)]
    single, _ = detect_scenes(source_videos / "dancer.mp4", SegmentConfig())
    assert single == [(0.0, 3.0)]
    with pytest.raises(VideoDecodeError):
        detect_scenes(source_videos / "broken.mp4", SegmentConfig())


def test_cut_clip_keeps_exactly_the_span(source_videos, tmp_path):
    out = tmp_path / "second_shot.mp4"
    assert cut_clip(source_videos / "two_shots.mp4", 2.5, 5.0, out) == 20
    info = probe_video(out)
    assert (info.num_frames, info.fps, info.width) == (20, FPS, 128)
    with pytest.raises(VideoDecodeError, match="no frame between 9.00 s and 10.00 s"):
        cut_clip(source_videos / "two_shots.mp4", 9.0, 10.0, tmp_path / "nothing.mp4")
    assert not (tmp_path / "nothing.mp4").exists()


def test_cut_clip_seeks_into_a_long_source(tmp_path):
    source = write_video(tmp_path / "long.mp4", humanoid(9, 48, size=64))  # 6 s
    assert cut_clip(source, 4.0, 5.5, tmp_path / "tail.mp4") == 12
    with av.open(str(tmp_path / "tail.mp4")) as container:
        assert container.streams.video[0].frames == 12


def test_sources_from_a_folder_and_from_list_files(source_videos, tmp_path):
    from_folder = list_sources(source_videos)
    assert [s.id for s in from_folder] == ["broken.mp4", "dancer.mp4", "empty.mp4", "short.mp4", "still.mp4", "two_shots.mp4"]  # fmt: skip
    assert {s.dataset for s in from_folder} == {source_videos.name}

    listing = tmp_path / "movid.jsonl"
    entries = [
        {"video": str(source_videos / "dancer.mp4"), "caption": "A dancer spins.", "id": "movid/0001"},
        {"path": str(source_videos / "still.mp4"), "source": "ego-exo4d"},
    ]
    listing.write_text("\n".join(json.dumps(e) for e in entries) + "\n")
    sources = {s.id: s for s in list_sources(listing)}
    assert (sources["movid/0001"].caption, sources["movid/0001"].dataset) == ("A dancer spins.", "movid")
    assert sources[str(source_videos / "still.mp4")].dataset == "ego-exo4d"

    text = tmp_path / "videos.txt"
    text.write_text(f"# two clips\n{source_videos / 'dancer.mp4'}\n\nsub/clip.mp4\n")
    assert [s.path for s in list_sources(text)] == [str(source_videos / "dancer.mp4"), str(tmp_path / "sub/clip.mp4")]


def test_bad_listings_fail_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder or list file"):
        list_sources(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no videos found"):
        list_sources(tmp_path / "empty")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"video": "a.mp4"}\n{"caption": "no path"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl: line 2 has no 'video' path"):
        list_sources(bad)
    twice = tmp_path / "twice.txt"
    twice.write_text("a.mp4\n./a.mp4\n")
    with pytest.raises(ValueError, match="two entries have the id 'a.mp4'"):
        list_sources(twice)


def test_shards_partition_the_sources():
    ids = [f"videos/{i:04d}.mp4" for i in range(200)]
    shards = [Shard(i, 3) for i in range(3)]
    owners = [[shard.holds(i) for shard in shards] for i in ids]
    assert all(sum(row) == 1 for row in owners)
    assert all(30 < sum(row[k] for row in owners) < 100 for k in range(3))
    assert parse_shard("2/3") == Shard(2, 3)
    for text in ("3/3", "a/b", "1"):
        with pytest.raises(ValueError, match="shard must"):
            parse_shard(text)
