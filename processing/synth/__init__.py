"""SynthMotion: a procedurally generated motion-captioning dataset in the HMI format.

An articulated humanoid (random proportions, left/right-symmetric clothing, a face marker) performs scripted actions
from a library with left and right variants; a camera films it from any side with a mild shake. Each clip comes with
grammar-generated fine-grained captions, QA pairs, ground-truth 3D joints and motion frames drawn from those joints
with the project's renderer (sides in distinct colours). `macm synth` writes the folder; see `write_dataset`.
"""

from __future__ import annotations

from ..lazy import lazy_exports

__all__ = [
    "ACTIONS",
    "JOINT_NAMES",
    "POSE_PARAMS",
    "ActionSpec",
    "BodyShape",
    "Camera",
    "MotionScript",
    "ScheduledAction",
    "SynthClip",
    "SynthConfig",
    "action_phrase",
    "caption_vocabulary",
    "clip_id",
    "clip_split",
    "describe_script",
    "evaluate_script",
    "forward_kinematics",
    "generate_clip",
    "make_qa",
    "parse_caption",
    "render_frame",
    "sample_body_shape",
    "sample_camera",
    "sample_script",
    "tokenize",
    "view_name",
    "write_dataset",
]

# name -> submodule; imported on first use, so `macm synth --help` does not load the renderer
_EXPORTS = {
    "ACTIONS": "actions",
    "ActionSpec": "actions",
    "MotionScript": "actions",
    "ScheduledAction": "actions",
    "evaluate_script": "actions",
    "sample_script": "actions",
    "action_phrase": "captions",
    "caption_vocabulary": "captions",
    "describe_script": "captions",
    "make_qa": "captions",
    "parse_caption": "captions",
    "tokenize": "captions",
    "SynthClip": "dataset",
    "SynthConfig": "dataset",
    "clip_id": "dataset",
    "clip_split": "dataset",
    "generate_clip": "dataset",
    "write_dataset": "dataset",
    "JOINT_NAMES": "humanoid",
    "POSE_PARAMS": "humanoid",
    "BodyShape": "humanoid",
    "forward_kinematics": "humanoid",
    "sample_body_shape": "humanoid",
    "Camera": "render_rgb",
    "render_frame": "render_rgb",
    "sample_camera": "render_rgb",
    "view_name": "render_rgb",
}

__getattr__ = lazy_exports(__name__, _EXPORTS)
