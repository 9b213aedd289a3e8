"""SynthMotion: a procedurally generated motion-captioning dataset in the HMI format.

An articulated humanoid (random proportions, left/right-symmetric clothing, a face marker) performs scripted actions
from a library with left and right variants; a camera films it from any side with a mild shake. Each clip comes with
grammar-generated fine-grained captions, QA pairs, ground-truth 3D joints and motion frames drawn from those joints
with the project's renderer (sides in distinct colours). `macm synth` writes the folder; see `write_dataset`.
"""

from .actions import ACTIONS, ActionSpec, MotionScript, ScheduledAction, evaluate_script, sample_script
from .captions import action_phrase, caption_vocabulary, describe_script, make_qa, parse_caption, tokenize
from .dataset import SynthClip, SynthConfig, clip_id, clip_split, generate_clip, write_dataset
from .humanoid import JOINT_NAMES, POSE_PARAMS, BodyShape, forward_kinematics, sample_body_shape
from .render_rgb import Camera, render_frame, sample_camera, view_name

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
