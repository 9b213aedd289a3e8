"""M-ACM processor: tokenizer + image processor + chat template for keyframes and motion frames.

Keyframes are chosen and motion frames rendered upstream (the project's motion pipeline); this processor turns
them into pixel tensors and expands each `<video>` placeholder to the number of tokens the model's visual pathway
produces for the clip. The motion pathway's prompt is the same prompt with `<motion>` in place of `<video>`: same
length, same positions, which is what lets `generate(msd=True)` stack both pathways on the batch axis. A model
whose motion pathway reads joints (`motion_encoder="joints"`) gets `motion_joints` instead of motion frames:
each clip's keypoints, normalised here for position and size (`normalize_motion_joints`).
"""

import math

import numpy as np
import torch
from PIL import Image
from transformers import BatchFeature, ProcessorMixin

__all__ = ["MacmProcessor", "normalize_motion_joints"]

# COCO-17, the layout the joints encoder reads: hips give the clip's centre.
COCO17_HIPS = (11, 12)
MIN_JOINT_SCORE = 0.3

DEFAULT_CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + ' ' }}"
    "{% if message['content'] is string %}{{ '\n' + message['content'] }}{% else %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{% if message['role'] == 'assistant' %}{% generation %}{{ '\n' + content['text'] }}{% endgeneration %}"
    "{% else %}{{ '\n' + content['text'] }}{% endif %}{% endfor %}{% endif %}"
    "{{ '<|im_end|>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def _is_frame(value) -> bool:
    return isinstance(value, Image.Image) or (isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 3)


def _as_clips(clips, name: str) -> list[list]:
    """Normalise one clip or a batch of clips to a list of clips, each a list of frames."""
    if clips is None:
        return []
    if isinstance(clips, (np.ndarray, torch.Tensor)):
        if clips.ndim == 4:
            return [list(clips)]
        if clips.ndim == 5:
            return [list(clip) for clip in clips]
        raise ValueError(
            f"`{name}` as an array must have 4 (frames, ...) or 5 (clips, frames, ...) dims, got {clips.ndim}"
        )
    if isinstance(clips, (list, tuple)) and clips:
        if all(_is_frame(frame) for frame in clips):
            return [list(clips)]
        batch = []
        for clip in clips:
            batch.extend(_as_clips(clip, name))
        return batch
    raise ValueError(f"`{name}` must be a clip (a list of frames or a (F, H, W, C) array) or a list of clips")


def normalize_motion_joints(keypoints, min_score: float = MIN_JOINT_SCORE, hips=COCO17_HIPS) -> np.ndarray:
    """One clip's keypoints in the person's own frame of reference, as the joints encoder reads them.

    One centre and one scale for the whole clip, so movement through the frame (a step, a jump) survives: the centre
    is the median hip centre over the frames that see both hips (else the median centre of the joints' boxes), the
    scale the median height of the visible joints over the frames. Coordinates become `(xy - centre) / scale`; a
    joint scored below `min_score` (or not finite) becomes `(0, 0)` with score 0.

    Args:
        keypoints (`np.ndarray` of shape `(F, K, 3)`): x, y in pixels and a score per joint (COCO-17 order).
        min_score (`float`, *optional*, defaults to 0.3): joints scored below this are dropped.
        hips (`tuple[int, int]`, *optional*): indices of the left and right hip.

    Returns:
        `np.ndarray` of shape `(F, K, 3)`, `float32`: normalised x, y and the score (0 for dropped joints).
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.ndim != 3 or keypoints.shape[-1] != 3:
        raise ValueError(f"motion joints must have shape (frames, joints, 3), got {keypoints.shape}")
    xy, score = keypoints[..., :2], np.nan_to_num(keypoints[..., 2])
    visible = (score >= min_score) & np.isfinite(xy).all(axis=-1)
    out = np.zeros(keypoints.shape, dtype=np.float32)
    if not visible.any():
        return out
    masked = np.where(visible[..., None], xy, np.nan)
    seen = visible.any(axis=1)
    low, high = np.nanmin(masked[seen], axis=1), np.nanmax(masked[seen], axis=1)  # (F_seen, 2)
    both_hips = visible[:, list(hips)].all(axis=1)
    if both_hips.any():
        centre = np.median(xy[both_hips][:, list(hips)].mean(axis=1), axis=0)
    else:
        centre = np.median((low + high) / 2, axis=0)
    scale = float(np.median(high[:, 1] - low[:, 1]))
    if not scale > 1e-6:
        scale = max(float(np.max(high - low)), 1.0)
    out[..., :2] = np.where(visible[..., None], (xy - centre) / scale, 0.0)
    out[..., 2] = np.where(visible, np.clip(score, 0.0, 1.0), 0.0)
    return out


def _as_joint_clips(joints) -> list[np.ndarray]:
    """One clip's `(F, K, 3)` keypoints or a batch of them (a list, or a `(B, F, K, 3)` array) as a list of clips."""
    if isinstance(joints, (np.ndarray, torch.Tensor)):
        joints = np.asarray(joints)
        if joints.ndim == 3:
            return [joints]
        if joints.ndim == 4:
            return list(joints)
        raise ValueError(f"`motion_joints` as an array must have 3 or 4 dims, got {joints.ndim}")
    if isinstance(joints, (list, tuple)) and joints:
        return [np.asarray(clip) for clip in joints]
    raise ValueError("`motion_joints` must be one clip's (F, K, 3) keypoints or a list of them")


class MacmProcessor(ProcessorMixin):
    r"""
    Processor for M-ACM: wraps an image processor (SigLIP/CLIP, PIL backend: no torchvision needed) and a tokenizer.

    Args:
        image_processor ([`BaseImageProcessor`]): turns frames into `pixel_values`.
        tokenizer ([`PreTrainedTokenizerBase`]): must know the `<video>` and `<motion>` tokens.
        chat_template (`str`, *optional*): Jinja template; `{"type": "video"}` content renders as `<video>`.
        num_image_tokens (`int`, *optional*, defaults to 729):
            Patch tokens one frame yields before pooling: `(image_size // patch_size) ** 2` of the vision tower.
        video_token (`str`, *optional*, defaults to `"<video>"`): the visual pathway's placeholder.
        motion_token (`str`, *optional*, defaults to `"<motion>"`): the motion pathway's placeholder.
    """

    def __init__(
        self,
        image_processor=None,
        tokenizer=None,
        chat_template=None,
        num_image_tokens: int = 729,
        video_token: str = "<video>",
        motion_token: str = "<motion>",
        **kwargs,
    ):
        self.num_image_tokens = num_image_tokens
        self.video_token = video_token
        self.motion_token = motion_token
        self.video_token_id = tokenizer.convert_tokens_to_ids(video_token)
        self.motion_token_id = tokenizer.convert_tokens_to_ids(motion_token)
        for name, token, token_id in (
            ("video_token", video_token, self.video_token_id),
            ("motion_token", motion_token, self.motion_token_id),
        ):
            if token_id is None or token_id == tokenizer.unk_token_id:
                raise ValueError(f"MacmProcessor.{name}={token!r} is not in the tokenizer's vocabulary")
        super().__init__(image_processor, tokenizer, chat_template=chat_template or DEFAULT_CHAT_TEMPLATE)

    def num_video_tokens(self, num_frames: int) -> int:
        """Placeholder tokens for one clip: 2x2-pooled patches per frame, plus one newline token."""
        pooled_per_side = math.ceil(int(math.sqrt(self.num_image_tokens)) / 2)
        return num_frames * pooled_per_side * pooled_per_side + 1

    def _pixel_values(self, clips: list[list], name: str, **images_kwargs) -> torch.Tensor:
        frame_counts = {len(clip) for clip in clips}
        if len(frame_counts) != 1 or 0 in frame_counts:
            raise ValueError(
                f"Every clip in `{name}` must have the same, non-zero number of frames; got {sorted(frame_counts)}"
            )
        frames = [frame for clip in clips for frame in clip]
        pixel_values = self.image_processor(images=frames, return_tensors="pt", **images_kwargs)["pixel_values"]
        return pixel_values.reshape(len(clips), len(clips[0]), *pixel_values.shape[1:])  # (B, F, C, H, W)

    def _expand(self, texts: list[str], token: str, clips: list[list], name: str) -> list[str]:
        placeholders = sum(text.count(token) for text in texts)
        if placeholders != len(clips):
            raise ValueError(
                f"The prompts have {placeholders} {token} placeholders but {len(clips)} clips were given in `{name}`"
            )
        clip_iter = iter(clips)
        expanded = []
        for text in texts:
            pieces = text.split(token)
            out = pieces[0]
            for piece in pieces[1:]:
                out += token * self.num_video_tokens(len(next(clip_iter))) + piece
            expanded.append(out)
        return expanded

    def __call__(
        self,
        text: str | list[str] | None = None,
        videos=None,
        motion_frames=None,
        motion_joints=None,
        return_tensors: str | None = "pt",
        padding: bool | str = True,
        padding_side: str = "left",
        **kwargs,
    ) -> BatchFeature:
        r"""
        Args:
            text (`str` or `list[str]`): prompts with one `<video>` placeholder per clip.
            videos: keyframes: one clip (a list of PIL images / `(H, W, 3)` arrays, or an `(F, H, W, 3)` array) or
                a list of clips, in placeholder order.
            motion_frames: the motion frames of the same clips, same structure and frame counts. Prompts may also
                hold explicit `<motion>` placeholders, which take these clips in order.
            motion_joints: for a model with `motion_encoder="joints"`, each clip's keypoints in pixels, one
                `(F, K, 3)` array (x, y, score; COCO-17) per clip, frame for frame with its keyframes; normalised with
                `normalize_motion_joints`. Given alone (without `motion_frames`) they take the `<motion>` placeholders
                or pair with `videos` as motion frames do.
            padding_side (`str`, *optional*, defaults to `"left"`): left padding, as batched generation needs.

        Returns:
            [`BatchFeature`] with `input_ids`, `attention_mask`, and `pixel_values_videos` /
            `pixel_values_motion` of shape `(num_clips, F, C, H, W)` and `motion_joints` of shape `(num_clips, F, K, 3)`
            when given.
        """
        if text is None:
            raise ValueError("MacmProcessor needs `text` (a prompt with a <video> placeholder per clip)")
        texts = [text] if isinstance(text, str) else list(text)
        video_clips = _as_clips(videos, "videos")
        motion_clips = _as_clips(motion_frames, "motion_frames")
        images_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in ("do_resize", "size", "do_normalize")}

        data = {}
        if video_clips:
            texts = self._expand(texts, self.video_token, video_clips, "videos")
            data["pixel_values_videos"] = self._pixel_values(video_clips, "videos", **images_kwargs)
        if motion_clips:
            explicit = sum(t.count(self.motion_token) for t in texts)
            if explicit:
                texts = self._expand(texts, self.motion_token, motion_clips, "motion_frames")
            elif [len(c) for c in motion_clips] != [len(c) for c in video_clips]:
                raise ValueError(
                    "`motion_frames` must pair with `videos` clip for clip with equal frame counts: got "
                    f"{[len(c) for c in motion_clips]} motion frames for {[len(c) for c in video_clips]} keyframes"
                )
            data["pixel_values_motion"] = self._pixel_values(motion_clips, "motion_frames", **images_kwargs)
        if motion_joints is not None:
            joint_clips = [normalize_motion_joints(clip) for clip in _as_joint_clips(motion_joints)]
            counts = [len(clip) for clip in joint_clips]
            paired = [len(c) for c in motion_clips] if motion_clips else [len(c) for c in video_clips]
            if not motion_clips and any(t.count(self.motion_token) for t in texts):
                texts = self._expand(texts, self.motion_token, joint_clips, "motion_joints")
            elif counts != paired:
                raise ValueError(
                    f"`motion_joints` must pair with the clips' frames one for one: got joints for {counts} frames, "
                    f"clips of {paired} frames"
                )
            if len({clip.shape for clip in joint_clips}) != 1:
                raise ValueError(f"Every clip in `motion_joints` must have the same shape, got {counts} frames")
            data["motion_joints"] = torch.from_numpy(np.stack(joint_clips))

        text_inputs = self.tokenizer(
            texts, padding=padding, padding_side=padding_side, return_tensors=return_tensors, **kwargs
        )
        data.update(text_inputs)
        return BatchFeature(data=data, tensor_type=return_tensors)

    def batch_decode(self, *args, **kwargs):
        return self.tokenizer.batch_decode(*args, **kwargs)

    def decode(self, *args, **kwargs):
        return self.tokenizer.decode(*args, **kwargs)

    @property
    def model_input_names(self):
        return ["input_ids", "attention_mask", "pixel_values_videos", "pixel_values_motion", "motion_joints"]
