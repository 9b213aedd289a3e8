"""Generate SynthMotion clips and write them as an HMI-format dataset folder.

Clip `i` of seed `s` is drawn from its own random stream (`SeedSequence([s, i])`), so it is the same whatever
the number of clips, the worker count or the order of generation. The folder:

```
DIR/
  README.md                 dataset card (YAML `configs` -> train/test metadata.jsonl)
  train/metadata.jsonl      one row per clip (test/metadata.jsonl likewise; about 10% of clips, by hash of id)
  videos/<id>.mp4           the RGB clip
  frames/<id>/keyframe_XX.png, motion_XX.png
  joints/<id>.npy           (F, 17, 3) ground-truth COCO-17 joints, metres, camera coordinates
```
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from ..motion_frames import MotionFrameSettings, render_motion_frames
from ..pose.types import COCO17_NAMES
from ..render import OverlayVideoWriter
from .actions import ACTIONS, evaluate_script, sample_script
from .captions import caption_vocabulary, describe_script, make_qa
from .humanoid import forward_kinematics, sample_body_shape
from .render_rgb import render_frame, sample_appearance, sample_camera, sample_scene, view_name

__all__ = [
    "SynthClip",
    "SynthConfig",
    "SynthMotion",
    "clip_id",
    "clip_split",
    "generate_clip",
    "generate_motion",
    "write_dataset",
]

logger = logging.getLogger(__name__)

SOURCE = "synthmotion"
SPLITS = ("train", "test")


@dataclass(frozen=True)
class SynthConfig:
    """Settings of one SynthMotion generation run.

    Args:
        seed (`int`, *optional*, defaults to 0): base seed; clip `i` uses `SeedSequence([seed, i])`.
        size (`int`, *optional*, defaults to 96): side of the square frames in pixels (even, >= 32).
        frames (`int`, *optional*, defaults to 16): frames per clip (all of them are keyframes), >= 4.
        fps (`float`, *optional*, defaults to 8.0): frame rate of the written video.
        test_fraction (`float`, *optional*, defaults to 0.1): share of clip ids hashed into the test split.
        motion_frames (`MotionFrameSettings`, *optional*): how the motion frames draw the body (masks of the
            frame size by default).
        azimuth_deg (`float`, *optional*): fix the camera azimuth (tests); random per clip otherwise.
    """

    seed: int = 0
    size: int = 96
    frames: int = 16
    fps: float = 8.0
    test_fraction: float = 0.1
    motion_frames: MotionFrameSettings | None = None
    azimuth_deg: float | None = None

    def __post_init__(self):
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"`seed` must be a non-negative integer, got {self.seed!r}")
        if self.size < 32 or self.size % 2:
            raise ValueError(f"`size` must be an even number of pixels >= 32, got {self.size}")
        if self.frames < 4:
            raise ValueError(f"`frames` must be at least 4, got {self.frames}")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"`fps` must be positive, got {self.fps}")
        if not 0.0 <= self.test_fraction < 1.0:
            raise ValueError(f"`test_fraction` must be in [0, 1), got {self.test_fraction}")
        if self.motion_frames is None:
            object.__setattr__(self, "motion_frames", MotionFrameSettings(size=self.size))


@dataclass
class SynthClip:
    """One generated clip in memory.

    Args:
        metadata (`dict`): the `metadata.jsonl` row (paths relative to the dataset folder).
        rgb (`np.ndarray` of shape `(F, S, S, 3)`, `uint8`): the RGB frames.
        motion (`np.ndarray` of shape `(F, S, S, 3)`, `uint8`): the motion frames (masks by default, see
            `SynthConfig.motion_frames`).
        joints (`np.ndarray` of shape `(F, 17, 3)`, `float32`): COCO-17 joints in camera coordinates (metres).
        keypoints (`np.ndarray` of shape `(F, 17, 2)`): their projections in pixels.
    """

    metadata: dict
    rgb: np.ndarray = field(repr=False)
    motion: np.ndarray = field(repr=False)
    joints: np.ndarray = field(repr=False)
    keypoints: np.ndarray = field(repr=False)


def clip_id(seed: int, index: int) -> str:
    """`synth-<seed>-<index>`, zero-padded."""
    return f"synth-{seed:04d}-{index:07d}"


def clip_split(identifier: str, test_fraction: float = 0.1) -> str:
    """`"test"` for about `test_fraction` of ids (by SHA-1 of the id), else `"train"`."""
    bucket = int(hashlib.sha1(identifier.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if bucket < test_fraction else "train"


@dataclass
class SynthMotion:
    """The motion of one clip before any pixel is drawn: what the joints motion encoder learns from.

    Args:
        script (`MotionScript`): the scheduled actions.
        shape (`BodyShape`): the body's proportions.
        roots (`np.ndarray` of shape `(F, 2)`): the body's position on the floor per frame.
        camera (`Camera`): the clip's camera.
        joints (`np.ndarray` of shape `(F, J, 3)`): all joints in camera coordinates (metres).
        keypoints (`np.ndarray` of shape `(F, 17, 2)`): the COCO-17 joints' projections in pixels.
    """

    script: object
    shape: object
    roots: np.ndarray = field(repr=False)
    camera: object = field(repr=False)
    joints: np.ndarray = field(repr=False)
    keypoints: np.ndarray = field(repr=False)


def _streams(index: int, config: SynthConfig) -> list[np.random.Generator]:
    """Clip `index`'s six random streams: script, body, camera, look, text, noise."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence([config.seed, index]).spawn(6)]


def generate_motion(index: int, config: SynthConfig) -> SynthMotion:
    """Clip `index`'s script, body, camera and joints (the same as `generate_clip`'s, without rendering: about a
    hundred times faster)."""
    if index < 0:
        raise ValueError(f"`index` must be non-negative, got {index}")
    script_rng, body_rng, camera_rng = _streams(index, config)[:3]
    script = sample_script(script_rng, config.frames)
    poses, roots = evaluate_script(script)
    shape = sample_body_shape(body_rng)
    world = forward_kinematics(shape, poses, roots)  # (F, J, 3)
    camera = sample_camera(camera_rng, world, config.size, azimuth_deg=config.azimuth_deg)
    joints_cam = camera.to_camera(world)  # (F, J, 3)
    keypoints = camera.project(joints_cam[:, : len(COCO17_NAMES)])  # (F, 17, 2)
    return SynthMotion(script, shape, roots, camera, joints_cam, keypoints)


def generate_clip(index: int, config: SynthConfig) -> SynthClip:
    """Generate clip `index` of a run: script, body, camera, captions, QA, RGB and motion frames.

    The pose estimator is not involved: motion frames are drawn from the ground-truth joints.
    """
    motion = generate_motion(index, config)
    look_rng, text_rng, noise_rng = _streams(index, config)[3:]
    identifier = clip_id(config.seed, index)
    script, shape, roots, camera = motion.script, motion.shape, motion.roots, motion.camera
    joints_cam, keypoints = motion.joints, motion.keypoints
    look, scene = sample_appearance(look_rng), sample_scene(look_rng)
    whole, fine = describe_script(script, text_rng)
    qa = make_qa(script, text_rng)

    scored = np.concatenate([keypoints, np.ones((*keypoints.shape[:2], 1))], axis=-1)
    rgb = np.stack(
        [render_frame(joints_cam[f], shape, look, scene, camera, f, roots[f], noise_rng) for f in range(config.frames)]
    )
    world = joints_cam[:, : len(COCO17_NAMES)]
    motion_frames = render_motion_frames(list(rgb), scored, COCO17_NAMES, config.motion_frames, world)

    frame_dir = f"frames/{identifier}"
    fx, fy, cx, cy = camera.intrinsics
    metadata = {
        "id": identifier,
        "file_name": f"videos/{identifier}.mp4",
        "video": f"videos/{identifier}.mp4",
        "caption": whole,
        "captions": {"fine": fine, "whole": whole},
        "qa": qa,
        "keyframe_files": [f"{frame_dir}/keyframe_{f:02d}.png" for f in range(config.frames)],
        "motion_files": [f"{frame_dir}/motion_{f:02d}.png" for f in range(config.frames)],
        "keyframe_indices": list(range(config.frames)),
        "joints_file": f"joints/{identifier}.npy",
        "actions": [action.to_dict() for action in script.actions],
        "view": view_name(camera.azimuth_deg),
        "azimuth_deg": round(float(camera.azimuth_deg), 3),
        "intrinsics": [round(float(v), 4) for v in (fx, fy, cx, cy)],
        "fps": float(config.fps),
        "source": SOURCE,
        "seed": int(config.seed),
    }
    return SynthClip(
        metadata=metadata,
        rgb=rgb,
        motion=np.stack(motion_frames),
        joints=joints_cam[:, : len(COCO17_NAMES)].astype(np.float32),
        keypoints=keypoints,
    )


def _write_png(path: Path, rgb: np.ndarray) -> None:
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"Could not write {path}")


def _write_clip(clip: SynthClip, root: Path, fps: float) -> None:
    row = clip.metadata
    (root / "frames" / row["id"]).mkdir(parents=True, exist_ok=True)
    for name, image in zip(row["keyframe_files"], clip.rgb, strict=True):
        _write_png(root / name, image)
    for name, image in zip(row["motion_files"], clip.motion, strict=True):
        _write_png(root / name, image)
    np.save(root / row["joints_file"], clip.joints)
    with OverlayVideoWriter(root / row["video"], fps=fps, reproducible=True) as writer:
        for image in clip.rgb:
            writer.write(image)


def _generate_and_write(job: tuple[int, SynthConfig, str]) -> dict:
    index, config, root = job
    clip = generate_clip(index, config)
    _write_clip(clip, Path(root), config.fps)
    return clip.metadata


def _worker_init() -> None:
    cv2.setNumThreads(1)


def write_dataset(
    out_dir: str | os.PathLike,
    num_clips: int,
    config: SynthConfig | None = None,
    workers: int = 1,
    progress: bool = True,
) -> dict[str, list[dict]]:
    """Generate `num_clips` clips and write the HMI-format folder (card included).

    Args:
        out_dir (`str` or `os.PathLike`): the dataset folder (created; existing clip files are overwritten).
        num_clips (`int`): number of clips, >= 1.
        config (`SynthConfig`, *optional*): generation settings; defaults to `SynthConfig()`.
        workers (`int`, *optional*, defaults to 1): processes to generate with (the output does not depend on it).
        progress (`bool`, *optional*, defaults to `True`): show a tqdm bar.

    Returns:
        `dict[str, list[dict]]`: the metadata rows per split (splits without clips are left out, and not written).
    """
    config = config or SynthConfig()
    if num_clips < 1:
        raise ValueError(f"`num_clips` must be at least 1, got {num_clips}")
    if workers < 1:
        raise ValueError(f"`workers` must be at least 1, got {workers}")
    root = Path(out_dir)
    for sub in ("videos", "frames", "joints"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    jobs = [(index, config, str(root)) for index in range(num_clips)]
    bar = tqdm(total=num_clips, desc="SynthMotion", unit="clip", disable=not progress)
    rows: list[dict] = []
    if workers == 1:
        _worker_init()
        for job in jobs:
            rows.append(_generate_and_write(job))
            bar.update()
    else:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        with context.Pool(workers, initializer=_worker_init) as pool:
            for row in pool.imap(_generate_and_write, jobs, chunksize=max(1, min(8, num_clips // (4 * workers)))):
                rows.append(row)
                bar.update()
    bar.close()

    by_split: dict[str, list[dict]] = {}
    for row in rows:
        by_split.setdefault(clip_split(row["id"], config.test_fraction), []).append(row)
    for split in SPLITS:
        path = root / split / "metadata.jsonl"
        if split not in by_split:
            logger.warning("No clip fell into the %r split (%d clips); it is not written", split, num_clips)
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            for row in by_split[split]:
                handle.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
    (root / "README.md").write_text(dataset_card(by_split, num_clips, config), encoding="utf-8")
    logger.info("Wrote %d SynthMotion clips to %s (%s)", num_clips, root, {k: len(v) for k, v in by_split.items()})
    return {split: by_split[split] for split in SPLITS if split in by_split}


def _table(counter: Counter, header: tuple[str, str]) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "| --- | ---: |"]
    lines += [f"| {key} | {count} |" for key, count in sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))]
    return "\n".join(lines)


def dataset_card(by_split: dict[str, list[dict]], num_clips: int, config: SynthConfig) -> str:
    """The README.md of a generated folder: YAML front matter (`configs` of the written splits) and the card."""
    splits = [split for split in SPLITS if split in by_split]
    data_files = "\n".join(f"  - split: {split}\n    path: {split}/metadata.jsonl" for split in splits)
    rows = [row for split in splits for row in by_split[split]]
    actions = Counter(
        f"{a['name']} ({a['side']})" if a["side"] != "center" else a["name"] for r in rows for a in r["actions"]
    )
    views = Counter(row["view"] for row in rows)
    steps = Counter(len({(a["start"], a["end"]) for a in row["actions"]}) for row in rows)
    qa_types = Counter(qa["type"] for row in rows for qa in row["qa"])
    command = (
        f"macm synth --out DIR --num {num_clips} --seed {config.seed} --size {config.size} "
        f"--frames {config.frames} --fps {config.fps:g} --motion-style {config.motion_frames.style}"
    )
    split_counts = ", ".join(f"{split}: {len(by_split[split])}" for split in splits)
    return f"""---
license: apache-2.0
task_categories:
- video-text-to-text
- visual-question-answering
language:
- en
tags:
- synthetic
- human-motion
- motion-captioning
- m-acm
- hmi-format
pretty_name: SynthMotion
size_categories:
- n<1K
configs:
- config_name: default
  data_files:
{data_files}
---

# SynthMotion

Procedurally generated clips of an articulated 3D humanoid performing scripted actions, with fine-grained captions,
QA pairs and ground-truth 3D joints, in the HMI format that M-ACM's trainer and data loader read.
It exists to test and pre-train the **motion pathway**: the humanoid wears left/right-symmetric clothing and is filmed
from every side (back views included), so the RGB pixels alone leave left and right ambiguous, while the motion frames
(motion masks: the body alone in a person-centred crop, its left side in warm and its right side in cool colours)
resolve it.

**No pose estimator is in the loop**: the motion frames are drawn from the ground-truth joints with
`macm.processing.render.render_motion_frame`, not from BlazePose/ViTPose detections.

## Generation procedure

1. **Script**: 1-3 steps of actions from a library of {len(ACTIONS)} (raise, wave, punch, kick, step, squat,
   jump, bend, lean, twist, turn, clap, nod, head shake and turn ...), most with left and right variants; a step may
   pair two actions on disjoint body parts ("while"). Steps share the clip's frames in proportion to their nominal
   durations, with short rests. Each action is a keyframed joint-angle curve (smoothstep interpolation) with random
   amplitude and repetitions; a repeated movement (nod, head shake, wave, clap) puts each of its poses on a frame of
   its own and keeps only the repetitions its frames can show.
2. **Body**: random proportions (height 1.55-1.95 m, segment lengths and build varied), forward kinematics to 3D
   joints, feet put on the floor.
3. **Camera**: random azimuth in [0, 360) degrees (front, side and back views), distance 3-5 m, height 0.8-1.9 m,
   framing that keeps the whole motion in view, and a mild hand-held shake.
4. **RGB**: z-buffered, shaded capsules and ellipsoids; symmetric clothing colours; a dark visor on the face and a hair
   cap on the back of the head show which way the person faces; ray-cast floor with checker tiles and a contact
   shadow; a wall with random blocks; sensor noise.
5. **Text**: captions from a closed grammar that names the action, the body part, the side (from the person's own
   perspective) and the order ("then", "and finally", "while"); QA pairs (open-ended and true/false) about action,
   side and order, dimension `details_of_movements`. The grammar's full word list has {len(caption_vocabulary())}
   entries (`macm.processing.synth.caption_vocabulary()`).

## Layout

- `train/metadata.jsonl`, `test/metadata.jsonl`: one row per clip (`id`, `file_name`/`video`, `caption`,
  `captions.fine`/`captions.whole`, `qa`, `keyframe_files`, `motion_files`, `keyframe_indices`, `joints_file`,
  `actions` (`name`, `side`, `start`, `end` as frame indices, `end` exclusive), `view`, `azimuth_deg`, `intrinsics`
  (`fx, fy, cx, cy`), `fps`, `source`, `seed`). About {config.test_fraction:.0%} of the ids hash into `test`.
- `videos/<id>.mp4`: {config.frames} frames of {config.size}x{config.size} at {config.fps:g} fps; every frame is a keyframe.
- `frames/<id>/keyframe_XX.png`, `frames/<id>/motion_XX.png`: the RGB keyframes and the motion frames.
- `joints/<id>.npy`: `(F, 17, 3)` float32 COCO-17 joints in metres, camera coordinates (x right, y down, z forward);
  `intrinsics` project them to the frames' pixels.

## Statistics

{num_clips} clips ({split_counts}); {sum(qa_types.values())} QA pairs ({", ".join(f"{k}: {v}" for k, v in sorted(qa_types.items()))}).

{_table(steps, ("steps per clip", "clips"))}

{_table(views, ("view", "clips"))}

{_table(actions, ("action (side)", "occurrences"))}

## Regenerate

Generation is deterministic per seed, byte for byte (metadata, frames, joints, and the videos: H.264 written with one
encoder thread and no lookahead), and clip `i` does not depend on the number of clips:

```bash
{command}
```

```python
from datasets import load_dataset

dataset = load_dataset("DIR")  # json rows; paths in the rows are relative to DIR
```
"""
