"""M-ACM: a LLaVA-OneVision-style video-LLM with a motion pathway and Motion Synergetic Decoding.

Two pathways read the same clip through one frozen vision tower: the visual pathway (keyframes -> visual
projector -> `<video>` tokens) and the motion pathway (the keyframes with the recovered body drawn over them ->
motion projector -> `<motion>` tokens). One language model reads either. The visual pathway is numerically the
same as transformers' `LlavaOnevisionForConditionalGeneration` video path, so LLaVA-OneVision checkpoints convert
without retraining (`convert_llava_onevision.py`).
"""

import math
from dataclasses import dataclass

import torch
from torch import nn
from transformers import AutoModel, GenerationMixin, LogitsProcessorList, PreTrainedModel
from transformers.activations import ACT2FN
from transformers.cache_utils import Cache
from transformers.generation.configuration_utils import ALL_STATIC_CACHE_IMPLEMENTATIONS
from transformers.modeling_outputs import BaseModelOutputWithPast, ModelOutput
from transformers.utils.generic import can_return_tuple

from .configuration_macm import LOSS_PATHWAYS, MacmConfig
from .msd import (
    MSD_GENERATION_FIELDS,
    MotionSynergeticLogitsProcessor,
    MsdStep,
    UnbatchedMotionSynergeticLogitsProcessor,
)

__all__ = [
    "MacmCausalLMOutputWithPast",
    "MacmForConditionalGeneration",
    "MacmModel",
    "MacmModelOutputWithPast",
    "MacmMsdDiagnostics",
    "MacmPreTrainedModel",
]

PATHWAYS = (*LOSS_PATHWAYS, None)


@dataclass
class MacmModelOutputWithPast(BaseModelOutputWithPast):
    r"""
    video_hidden_states (`torch.FloatTensor` of shape `(num_videos * num_video_tokens, hidden_size)`, *optional*):
        Projected visual-pathway features scattered into the `<video>` positions.
    motion_hidden_states (`torch.FloatTensor` of shape `(num_videos * num_video_tokens, hidden_size)`, *optional*):
        Projected motion-pathway features scattered into the `<motion>` positions.
    """

    video_hidden_states: torch.FloatTensor | None = None
    motion_hidden_states: torch.FloatTensor | None = None


@dataclass
class MacmCausalLMOutputWithPast(ModelOutput):
    r"""
    loss (`torch.FloatTensor` of shape `()`, *optional*, returned when `labels` is provided):
        Caption loss: the visual and motion losses' weighted mean for `pathways="both"`, else the one pathway's.
    logits (`torch.FloatTensor` of shape `(rows, sequence_length, vocab_size)`):
        Next-token logits. With `pathways="both"`, `rows = 2 * batch_size`: rows `[0, B)` are the visual pathway and
        rows `[B, 2B)` the motion pathway of the same samples.
    past_key_values (`Cache`, *optional*): the language model's KV cache (same rows as `logits`).
    hidden_states (`tuple(torch.FloatTensor)`, *optional*): the language model's hidden states.
    attentions (`tuple(torch.FloatTensor)`, *optional*): the language model's attention weights.
    video_hidden_states (`torch.FloatTensor`, *optional*): projected visual-pathway features.
    motion_hidden_states (`torch.FloatTensor`, *optional*): projected motion-pathway features.
    visual_loss (`torch.FloatTensor` of shape `()`, *optional*): loss of the visual pathway rows.
    motion_loss (`torch.FloatTensor` of shape `()`, *optional*): loss of the motion pathway rows.
    """

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    past_key_values: Cache | None = None
    hidden_states: tuple[torch.FloatTensor] | None = None
    attentions: tuple[torch.FloatTensor] | None = None
    video_hidden_states: torch.FloatTensor | None = None
    motion_hidden_states: torch.FloatTensor | None = None
    visual_loss: torch.FloatTensor | None = None
    motion_loss: torch.FloatTensor | None = None


@dataclass
class MacmMsdDiagnostics:
    r"""
    What MSD did for each generated token (returned as `output.msd` by `generate(..., output_msd=True,
    return_dict_in_generate=True)`). Every field has shape `(num_sequences, num_generated_tokens)`. Under beam
    search the rows are the beams as they stood at each step (not back-traced along the final beams).

    step_synergy (`torch.FloatTensor`): the step synergy `S_T`.
    visual_top (`torch.LongTensor`): the visual pathway's top token.
    motion_top (`torch.LongTensor`): the motion pathway's top token.
    msd_top (`torch.LongTensor`): the top token of the MSD scores.
    changed (`torch.BoolTensor`): MSD's top token differs from the visual pathway's.
    """

    step_synergy: torch.FloatTensor
    visual_top: torch.LongTensor
    motion_top: torch.LongTensor
    msd_top: torch.LongTensor
    changed: torch.BoolTensor

    @classmethod
    def from_steps(cls, steps: list[MsdStep], num_tokens: int) -> "MacmMsdDiagnostics":
        steps = steps[:num_tokens]  # generation may run a step past the stop and undo it
        fields = ("step_synergy", "visual_top", "motion_top", "msd_top", "changed")
        return cls(**{name: torch.stack([getattr(step, name) for step in steps], dim=1) for name in fields})


class MacmPreTrainedModel(PreTrainedModel):
    config: MacmConfig
    config_class = MacmConfig
    base_model_prefix = "model"
    input_modalities = ("video", "text")
    supports_gradient_checkpointing = True
    _skip_keys_device_placement = ["past_key_values"]
    _supports_flash_attn = True
    _supports_sdpa = True
    _supports_flex_attn = True
    _supports_attention_backend = True

    @torch.no_grad()
    def _init_weights(self, module):
        super()._init_weights(module)
        if isinstance(module, MacmModel):
            module.image_newline.normal_(mean=0.0, std=1 / math.sqrt(self.config.text_config.hidden_size))
        elif isinstance(module, MacmJointMotionEncoder):
            module.slot_embedding.normal_(mean=0.0, std=0.02)
        elif isinstance(module, nn.MultiheadAttention):  # its fused input projection is no nn.Linear
            nn.init.xavier_uniform_(module.in_proj_weight)
            if module.in_proj_bias is not None:
                module.in_proj_bias.zero_()


class MacmMultiModalProjector(nn.Module):
    """Two-layer MLP from vision (or motion-encoder) features to the language model's width (one per pathway)."""

    def __init__(self, config: MacmConfig, in_features: int | None = None):
        super().__init__()
        if in_features is None:
            num_layers = 1 if isinstance(config.vision_feature_layer, int) else len(config.vision_feature_layer)
            in_features = config.vision_config.hidden_size * num_layers
        self.linear_1 = nn.Linear(in_features, config.text_config.hidden_size, bias=config.multimodal_projector_bias)
        self.act = ACT2FN[config.projector_hidden_act]
        self.linear_2 = nn.Linear(
            config.text_config.hidden_size, config.text_config.hidden_size, bias=config.multimodal_projector_bias
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.act(self.linear_1(features)))


def tokens_per_frame(config: MacmConfig) -> int:
    """Placeholder tokens one frame takes: the vision tower's patches, 2x2-pooled."""
    patches_per_side = config.vision_config.image_size // config.vision_config.patch_size
    return math.ceil(patches_per_side / 2) ** 2


def num_video_tokens(config: MacmConfig, num_frames: int) -> int:
    """Placeholder tokens one clip of `num_frames` frames takes (pooled patches per frame, plus a newline)."""
    return num_frames * tokens_per_frame(config) + 1


class MacmJointMotionEncoder(nn.Module):
    r"""
    The motion pathway's encoder over the recovered joint sequence (`config.motion_encoder="joints"`).

    Per frame, each joint's normalised position (from `MacmProcessor`), its score, its position relative to the
    frame's visible joints and its motion since the previous frame form one vector; temporal convolutions read
    short movements and a small transformer relates the whole clip; each frame then fills as many token slots as a
    frame of the visual pathway does (its vector plus a learned per-slot embedding), so the `<motion>` block keeps
    the `<video>` block's length and positions and MSD pairs the two pathways as before. Joints carry the person's
    own left and right, which RGB pixels of a symmetric body seen from behind do not.
    """

    FEATURES_PER_JOINT = 7  # x, y, score, x and y relative to the frame's joints, motion in x and y

    def __init__(self, config: MacmConfig):
        super().__init__()
        width = config.motion_encoder_hidden_size
        num_inputs = config.motion_num_joints * self.FEATURES_PER_JOINT
        self.input_norm = nn.LayerNorm(num_inputs)
        self.frame_embedding = nn.Linear(num_inputs, width)
        self.temporal_conv = nn.Sequential(
            nn.Conv1d(width, width, 3, padding=1),
            nn.GELU(),
            nn.Conv1d(width, width, 3, padding=1),
            nn.GELU(),
        )
        self.position_embedding = nn.Embedding(config.motion_max_frames, width)
        layer = nn.TransformerEncoderLayer(
            width,
            config.motion_encoder_heads,
            4 * width,
            dropout=config.motion_encoder_dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.layers = nn.TransformerEncoder(layer, config.motion_encoder_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.slot_embedding = nn.Parameter(torch.zeros(tokens_per_frame(config), width))

    @staticmethod
    def frame_features(motion_joints: torch.Tensor) -> torch.Tensor:
        """`(B, F, K, 3)` normalised joints -> `(B, F, K * 7)` per-frame vectors (unseen joints contribute zeros)."""
        xy, score = motion_joints[..., :2], motion_joints[..., 2:]
        seen = (score > 0).to(xy.dtype)
        count = seen.sum(dim=2, keepdim=True).clamp_min(1.0)
        centre = (xy * seen).sum(dim=2, keepdim=True) / count
        pose = (xy - centre) * seen
        previous_xy = torch.cat([xy[:, :1], xy[:, :-1]], dim=1)
        previous_seen = torch.cat([seen[:, :1], seen[:, :-1]], dim=1)
        velocity = (xy - previous_xy) * seen * previous_seen
        return torch.cat([xy, score, pose, velocity], dim=-1).flatten(2)

    def encode_frames(self, motion_joints: torch.Tensor) -> torch.Tensor:
        """`(B, F, K, 3)` normalised joints -> `(B, F, width)` one vector per frame, aware of the whole clip."""
        if motion_joints.dim() != 4 or motion_joints.shape[-1] != 3:
            raise ValueError(
                f"`motion_joints` must have shape (batch, frames, joints, 3), got {tuple(motion_joints.shape)}"
            )
        num_frames = motion_joints.shape[1]
        if num_frames > self.position_embedding.num_embeddings:
            raise ValueError(
                f"`motion_joints` has {num_frames} frames; this encoder covers at most "
                f"{self.position_embedding.num_embeddings} (config.motion_max_frames)"
            )
        hidden = self.frame_embedding(self.input_norm(self.frame_features(motion_joints)))
        hidden = hidden + self.temporal_conv(hidden.transpose(1, 2)).transpose(1, 2)
        positions = torch.arange(num_frames, device=motion_joints.device)
        return self.norm(self.layers(hidden + self.position_embedding(positions)))

    def forward(self, motion_joints: torch.Tensor) -> torch.Tensor:
        """`(B, F, K, 3)` -> `(B * F, tokens per frame, width)`, laid out as the vision tower's frames are."""
        frames = self.encode_frames(motion_joints)
        slots = frames[:, :, None, :] + self.slot_embedding.to(frames.dtype)
        return slots.flatten(0, 1)


class MacmModel(MacmPreTrainedModel):
    """Vision tower, the two projectors and the language model, without the LM head."""

    def __init__(self, config: MacmConfig):
        super().__init__(config)
        self.vision_tower = AutoModel.from_config(config.vision_config)
        self.multi_modal_projector = MacmMultiModalProjector(config)
        if config.motion_encoder == "joints":
            self.motion_encoder = MacmJointMotionEncoder(config)
            self.motion_projector = MacmMultiModalProjector(config, in_features=config.motion_encoder_hidden_size)
        else:
            self.motion_encoder = None
            self.motion_projector = MacmMultiModalProjector(config)
        embed_std = 1 / math.sqrt(config.text_config.hidden_size)
        self.image_newline = nn.Parameter(torch.randn(config.text_config.hidden_size, dtype=self.dtype) * embed_std)
        self.language_model = AutoModel.from_config(config.text_config)
        self.post_init()

    def get_input_embeddings(self):
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value):
        self.language_model.set_input_embeddings(value)

    def _select_vision_features(
        self, pixel_values: torch.Tensor, vision_feature_layer, vision_feature_select_strategy
    ) -> torch.Tensor:
        outputs = self.vision_tower(pixel_values, output_hidden_states=True, return_dict=True)
        if isinstance(vision_feature_layer, int):
            selected = outputs.hidden_states[vision_feature_layer]
        else:
            selected = torch.cat([outputs.hidden_states[layer] for layer in vision_feature_layer], dim=-1)
        if vision_feature_select_strategy == "default":
            selected = selected[:, 1:]  # drop CLS
        return selected  # (frames, patches, vision_hidden)

    def apply_pooling(self, features: torch.Tensor) -> torch.Tensor:
        """Bilinear 2x down-sampling of each frame's patch grid, as LLaVA-OneVision does for video."""
        side = self.config.vision_config.image_size // self.config.vision_config.patch_size
        frames, _, dim = features.shape
        grid = features.view(frames, side, side, dim).permute(0, 3, 1, 2)  # (frames, D, side, side)
        pooled = nn.functional.interpolate(grid, size=[math.ceil(side / 2), math.ceil(side / 2)], mode="bilinear")
        return pooled.permute(0, 2, 3, 1).reshape(frames, -1, dim)  # (frames, pooled patches, D)

    def _project_clips(self, selected: torch.Tensor, batch_size: int, projector: MacmMultiModalProjector):
        features = self.apply_pooling(projector(selected))  # (B * F, P, D)
        features = features.reshape(batch_size, -1, features.shape[-1])  # (B, F * P, D)
        newline = self.image_newline[None, None, :].expand(batch_size, 1, -1).to(features.device, features.dtype)
        return torch.cat((features, newline), dim=1)  # (B, F * P + 1, D)

    @property
    def motion_input_name(self) -> str:
        """The input the motion pathway reads: `"pixel_values_motion"` or, for the joints encoder, `"motion_joints"`."""
        return "motion_joints" if self.config.motion_encoder == "joints" else "pixel_values_motion"

    def _encode_joints(self, motion_joints: torch.Tensor) -> torch.Tensor:
        """`(B, F, K, 3)` joints -> `(B, F * P + 1, D)` motion features, the `"joints"` encoder's pathway."""
        tokens = self.motion_encoder(motion_joints.to(self.motion_projector.linear_1.weight.dtype))
        features = self.motion_projector(tokens).reshape(
            motion_joints.shape[0], -1, self.config.text_config.hidden_size
        )
        newline = (
            self.image_newline[None, None, :].expand(features.shape[0], 1, -1).to(features.device, features.dtype)
        )
        return torch.cat((features, newline), dim=1)

    def get_pathway_features(
        self,
        pixel_values_videos: torch.Tensor | None = None,
        pixel_values_motion: torch.Tensor | None = None,
        vision_feature_layer: int | list[int] | None = None,
        vision_feature_select_strategy: str | None = None,
        motion_joints: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """
        Encode keyframes and motion frames with the shared vision tower (one pass for both) and each pathway's
        projector; with `config.motion_encoder="joints"`, the motion pathway encodes `motion_joints` instead.

        Args:
            pixel_values_videos (`torch.FloatTensor` of shape `(B, F, C, H, W)`, *optional*): RGB keyframes.
            pixel_values_motion (`torch.FloatTensor` of shape `(B_m, F_m, C, H, W)`, *optional*): motion frames.
            motion_joints (`torch.FloatTensor` of shape `(B_m, F_m, K, 3)`, *optional*): normalised joints per
                frame (see `MacmProcessor`), for the `"joints"` motion encoder.

        Returns:
            `(video_features, motion_features)`, each `(B, F * P + 1, D)` or `None`.
        """
        motion_features = None
        if self.motion_encoder is not None:
            if motion_joints is not None:
                motion_features = self._encode_joints(motion_joints)
            pixel_values_motion = None  # this model's motion pathway reads joints; motion frames are for people
        elif motion_joints is not None:
            raise ValueError(
                "`motion_joints` were given but this model's motion pathway reads motion frames "
                "(config.motion_encoder='vision_tower'): pass `pixel_values_motion`"
            )
        layer = vision_feature_layer if vision_feature_layer is not None else self.config.vision_feature_layer
        strategy = (
            vision_feature_select_strategy
            if vision_feature_select_strategy is not None
            else self.config.vision_feature_select_strategy
        )
        clips = [c for c in (pixel_values_videos, pixel_values_motion) if c is not None]
        if not clips:
            return None, motion_features
        for name, clip in (("pixel_values_videos", pixel_values_videos), ("pixel_values_motion", pixel_values_motion)):
            if clip is not None and clip.dim() != 5:
                raise ValueError(
                    f"`{name}` must have shape (batch, frames, channels, height, width), got {tuple(clip.shape)}"
                )
        if len(clips) == 2 and clips[0].shape[2:] != clips[1].shape[2:]:
            raise ValueError(
                f"Keyframes and motion frames must have the same frame size: {tuple(clips[0].shape[2:])} vs "
                f"{tuple(clips[1].shape[2:])}"
            )
        frames = torch.cat([c.flatten(0, 1) for c in clips]).to(self.vision_tower.dtype)
        selected = self._select_vision_features(frames, layer, strategy)
        video_features = None
        offset = 0
        if pixel_values_videos is not None:
            count = pixel_values_videos.shape[0] * pixel_values_videos.shape[1]
            video_features = self._project_clips(
                selected[:count], pixel_values_videos.shape[0], self.multi_modal_projector
            )
            offset = count
        if pixel_values_motion is not None:
            motion_features = self._project_clips(
                selected[offset:], pixel_values_motion.shape[0], self.motion_projector
            )
        return video_features, motion_features

    def _placeholder_mask(self, input_ids, inputs_embeds, token_id: int) -> torch.Tensor:
        """`(rows, T)` positions of `token_id`: read from `input_ids`, or found by its embedding without them."""
        if input_ids is not None:
            return input_ids == token_id
        embedding = self.get_input_embeddings()(torch.tensor(token_id, device=inputs_embeds.device))
        return (inputs_embeds == embedding.to(inputs_embeds.dtype)).all(-1)

    def _scatter(self, inputs_embeds, input_ids, token_id: int, features: torch.Tensor, kind: str):
        mask = self._placeholder_mask(input_ids, inputs_embeds, token_id)
        n_tokens, n_features = int(mask.sum()), features.shape[0] * features.shape[1]
        if n_tokens != n_features:
            raise ValueError(
                f"{kind.capitalize()} features and {kind} tokens do not match: tokens {n_tokens}, features {n_features} "
                f"({features.shape[0]} clips x {features.shape[1]} tokens each)"
            )
        features = features.reshape(-1, features.shape[-1]).to(inputs_embeds.device, inputs_embeds.dtype)
        return inputs_embeds.masked_scatter(mask.unsqueeze(-1).to(inputs_embeds.device), features)

    def pair_pathways(self, input_ids, attention_mask=None, position_ids=None, pathways="both"):
        """
        Build the rows a pathway setting decodes from a visual prompt (one with `<video>` placeholders).

        `"motion"` swaps `<video>` for `<motion>` (same length, same positions); `"both"` stacks the visual rows and
        their motion twins on the batch axis (`2B` rows: visual first), so both pathways run in one forward with one
        KV cache.
        """
        if pathways not in ("both", "motion"):
            return input_ids, attention_mask, position_ids
        motion_ids = input_ids.masked_fill(input_ids == self.config.video_token_id, self.config.motion_token_id)
        if pathways == "motion":
            return motion_ids, attention_mask, position_ids
        batch_size = input_ids.shape[0]
        input_ids = torch.cat([input_ids, motion_ids])
        if attention_mask is not None:
            if attention_mask.dim() != 2:
                raise ValueError("pathways='both' needs a 2D attention mask (batch, length)")
            attention_mask = torch.cat([attention_mask, attention_mask])
        if position_ids is not None and position_ids.shape[0] == batch_size:
            position_ids = torch.cat([position_ids, position_ids])
        return input_ids, attention_mask, position_ids

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values_videos: torch.FloatTensor | None = None,
        pixel_values_motion: torch.FloatTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        vision_feature_layer: int | list[int] | None = None,
        vision_feature_select_strategy: str | None = None,
        use_cache: bool | None = None,
        pathways: str | None = None,
        motion_joints: torch.FloatTensor | None = None,
        **kwargs,
    ) -> MacmModelOutputWithPast | tuple:
        r"""
        pathways (`str`, *optional*):
            `None`: rows as given; `<video>` positions get keyframe features, `<motion>` positions motion-frame
            features. `"visual"`: the visual pathway only (motion frames ignored). `"motion"`: the prompt's `<video>`
            placeholders become `<motion>` and get motion-frame features. `"both"`: visual rows and motion twins
            stacked (`2B` rows, visual first). The three pathway settings build their rows from a `<video>`-only
            prompt; a prompt that places its own `<motion>` placeholders is read as written (`None`).
        motion_joints (`torch.FloatTensor` of shape `(B, F, K, 3)`, *optional*):
            The motion pathway's input when `config.motion_encoder="joints"` (in place of `pixel_values_motion`).
        """
        if pathways not in PATHWAYS:
            raise ValueError(f"`pathways` must be one of {PATHWAYS}, got {pathways!r}")
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("You must specify exactly one of input_ids or inputs_embeds")
        is_prefill = past_key_values is None or past_key_values.get_seq_length() == 0
        if pathways is not None and is_prefill:
            num_motion_tokens = int(
                self._placeholder_mask(input_ids, inputs_embeds, self.config.motion_token_id).sum()
            )
            if num_motion_tokens:
                raise ValueError(
                    f"pathways={pathways!r} builds its rows from a <video>-only prompt (the motion rows swap each "
                    f"<video> for <motion>), but the prompt already holds {num_motion_tokens} <motion> tokens. Write "
                    "the prompt with <video> only and pass the motion frames as `pixel_values_motion`, or read it as "
                    "written with pathways=None (with `labels`, pathways=None means `config.loss_pathways`: compute "
                    "the loss from the logits yourself)"
                )
        if pathways in ("both", "motion"):
            if input_ids is None:
                raise ValueError(f"pathways={pathways!r} needs `input_ids` (it derives the motion prompt from them)")
            input_ids, attention_mask, position_ids = self.pair_pathways(
                input_ids, attention_mask, position_ids, pathways
            )
        motion_name = self.motion_input_name
        motion_input = motion_joints if motion_name == "motion_joints" else pixel_values_motion
        other_input = pixel_values_motion if motion_name == "motion_joints" else motion_joints
        if motion_input is None and other_input is not None:
            raise ValueError(
                f"This model's motion pathway reads `{motion_name}` (config.motion_encoder="
                f"{self.config.motion_encoder!r}), but only the other kind of motion input was given"
            )
        if pathways == "visual":
            pixel_values_motion = motion_joints = motion_input = None
        elif pathways == "motion":
            pixel_values_videos = None
        if pathways in ("both", "motion") and is_prefill and motion_input is None:
            raise ValueError(f"pathways={pathways!r} needs `{motion_name}` (the motion pathway's input)")

        if (
            pathways is None
            and motion_input is not None
            and not self._placeholder_mask(input_ids, inputs_embeds, self.config.motion_token_id).any()
        ):
            raise ValueError(
                f"{motion_input.shape[0]} motion clips were given but the prompt has no <motion> tokens: "
                "pass pathways='both' (visual and motion rows stacked), 'motion' or 'visual'"
            )
        if output_msd_unused := kwargs.pop("output_msd", None):
            raise ValueError(f"`output_msd={output_msd_unused}` is a `generate` argument, not a forward one")

        if inputs_embeds is None:
            inputs_embeds = self.get_input_embeddings()(input_ids)
        video_features, motion_features = self.get_pathway_features(
            pixel_values_videos,
            pixel_values_motion,
            vision_feature_layer,
            vision_feature_select_strategy,
            motion_joints,
        )
        for features, token_id, kind in (
            (video_features, self.config.video_token_id, "video"),
            (motion_features, self.config.motion_token_id, "motion"),
        ):
            if features is not None:
                inputs_embeds = self._scatter(inputs_embeds, input_ids, token_id, features, kind)
            elif is_prefill and self._placeholder_mask(input_ids, inputs_embeds, token_id).any():
                pixel_name = "pixel_values_videos" if kind == "video" else motion_name
                raise ValueError(f"The prompt has {kind} tokens but `{pixel_name}` was not given")

        outputs = self.language_model(
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            return_dict=True,
            **kwargs,
        )
        return MacmModelOutputWithPast(
            last_hidden_state=outputs.last_hidden_state,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            video_hidden_states=video_features,
            motion_hidden_states=motion_features,
        )


def _cache_rows(cache: Cache) -> int | None:
    """Batch rows held by a KV cache (None when it holds nothing yet)."""
    for layer in getattr(cache, "layers", []):
        keys = getattr(layer, "keys", None)
        if keys is not None and keys.numel() > 0:
            return keys.shape[0]
    return None


class MacmForConditionalGeneration(MacmPreTrainedModel, GenerationMixin):
    r"""
    M-ACM for captioning: [`MacmModel`] plus the LM head, with `generate(..., msd=True)` for Motion Synergetic
    Decoding.

    Example:

    ```python
    >>> from transformers import AutoModel, AutoProcessor

    >>> model = AutoModel.from_pretrained("path/to/macm-checkpoint", trust_remote_code=True)
    >>> processor = AutoProcessor.from_pretrained("path/to/macm-checkpoint", trust_remote_code=True)
    >>> prompt = processor.apply_chat_template(
    ...     [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "Describe the motion."}]}],
    ...     add_generation_prompt=True,
    ... )
    >>> inputs = processor(text=prompt, videos=keyframes, motion_frames=motion_frames, return_tensors="pt")
    >>> ids = model.generate(**inputs, msd=True, max_new_tokens=64)
    >>> processor.batch_decode(ids[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    ```
    """

    _tied_weights_keys = {"lm_head.weight": "model.language_model.embed_tokens.weight"}
    _tp_plan = {"lm_head": "colwise_gather_output"}

    def __init__(self, config: MacmConfig):
        super().__init__(config)
        self.model = MacmModel(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size, bias=False)
        self.post_init()
        self._fill_msd_generation_defaults()

    def _fill_msd_generation_defaults(self) -> None:
        """The MSD defaults travel in generation_config.json too, where `generate` looks first; a generation config
        loaded from a folder written without them gets the model config's."""
        for name in MSD_GENERATION_FIELDS:
            if getattr(self.generation_config, name, None) is None:
                setattr(self.generation_config, name, getattr(self.config, name))

    def save_pretrained(self, *args, **kwargs):
        self._fill_msd_generation_defaults()
        return super().save_pretrained(*args, **kwargs)

    def get_input_embeddings(self):
        return self.model.get_input_embeddings()

    def set_input_embeddings(self, value):
        self.model.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values_videos: torch.FloatTensor | None = None,
        pixel_values_motion: torch.FloatTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        vision_feature_layer: int | list[int] | None = None,
        vision_feature_select_strategy: str | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        pathways: str | None = None,
        motion_joints: torch.FloatTensor | None = None,
        **kwargs,
    ) -> MacmCausalLMOutputWithPast | tuple:
        r"""
        input_ids (`torch.LongTensor` of shape `(B, T)`): prompt with `<video>` (and/or `<motion>`) placeholders.
        pixel_values_videos (`torch.FloatTensor` of shape `(B, F, C, H, W)`, *optional*): RGB keyframes.
        pixel_values_motion (`torch.FloatTensor` of shape `(B, F, C, H, W)`, *optional*): motion frames.
        motion_joints (`torch.FloatTensor` of shape `(B, F, K, 3)`, *optional*): normalised joints, the motion
            pathway's input when `config.motion_encoder="joints"`.
        labels (`torch.LongTensor` of shape `(B, T)`, *optional*): targets, `-100` where no loss is taken.
        pathways (`str`, *optional*):
            See [`MacmModel.forward`]. With `labels` and no value, `config.loss_pathways` is used.
        """
        if pathways is None and labels is not None:
            pathways = self.config.loss_pathways
        loss_kwargs = {k: kwargs.pop(k) for k in ("num_items_in_batch", "ignore_index") if k in kwargs}
        outputs = self.model(
            input_ids=input_ids,
            pixel_values_videos=pixel_values_videos,
            pixel_values_motion=pixel_values_motion,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            vision_feature_layer=vision_feature_layer,
            vision_feature_select_strategy=vision_feature_select_strategy,
            use_cache=use_cache,
            pathways=pathways,
            motion_joints=motion_joints,
            return_dict=True,
            **kwargs,
        )
        hidden_states = outputs.last_hidden_state
        slice_indices = slice(-logits_to_keep, None) if isinstance(logits_to_keep, int) else logits_to_keep
        logits = self.lm_head(hidden_states[:, slice_indices, :])

        loss = visual_loss = motion_loss = None
        if labels is not None:
            vocab_size = self.config.text_config.vocab_size
            if pathways == "both":
                visual_logits, motion_logits = logits.chunk(2)
                visual_loss = self.loss_function(
                    logits=visual_logits, labels=labels, vocab_size=vocab_size, **loss_kwargs
                )
                motion_loss = self.loss_function(
                    logits=motion_logits, labels=labels, vocab_size=vocab_size, **loss_kwargs
                )
                weight = self.config.motion_loss_weight
                loss = (visual_loss + weight * motion_loss) / (1 + weight)
            else:
                loss = self.loss_function(logits=logits, labels=labels, vocab_size=vocab_size, **loss_kwargs)
                if pathways == "motion":
                    motion_loss = loss
                else:
                    visual_loss = loss

        return MacmCausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            video_hidden_states=outputs.video_hidden_states,
            motion_hidden_states=outputs.motion_hidden_states,
            visual_loss=visual_loss,
            motion_loss=motion_loss,
        )

    def prepare_inputs_for_generation(
        self,
        input_ids,
        inputs_embeds=None,
        pixel_values_motion=None,
        motion_joints=None,
        is_first_iteration=False,
        **kwargs,
    ):
        # `inputs_embeds` replace `input_ids` at prefill only, as in LLaVA-OneVision; the placeholders are then found
        # by their embeddings.
        model_inputs = super().prepare_inputs_for_generation(
            input_ids, inputs_embeds=inputs_embeds, is_first_iteration=is_first_iteration, **kwargs
        )
        # The motion inputs, like keyframes, are only read at prefill; after it their features live in the KV cache.
        if is_first_iteration or not kwargs.get("use_cache", True):
            model_inputs["pixel_values_motion"] = pixel_values_motion
            model_inputs["motion_joints"] = motion_joints
        return model_inputs

    def _reorder_cache(self, past_key_values: Cache, beam_idx: torch.LongTensor) -> Cache:
        # Under MSD the cache holds 2N rows (visual, then motion) for N beams: move both halves together.
        rows = _cache_rows(past_key_values)
        if rows == 2 * beam_idx.shape[0]:
            beam_idx = torch.cat([beam_idx, beam_idx + beam_idx.shape[0]])
        past_key_values.reorder_cache(beam_idx)
        return past_key_values

    def _get_logits_processor(self, *args, logits_processor=None, **kwargs) -> LogitsProcessorList:
        # MSD turns 2N rows of logits into N rows of scores, so it must run before every other processor (the
        # unbatched reference too, so that both see the same raw logits).
        msd_types = (MotionSynergeticLogitsProcessor, UnbatchedMotionSynergeticLogitsProcessor)
        given = list(logits_processor or [])
        msd = [p for p in given if isinstance(p, msd_types)]
        rest = LogitsProcessorList([p for p in given if not isinstance(p, msd_types)])
        processors = super()._get_logits_processor(*args, logits_processor=rest, **kwargs)
        return LogitsProcessorList(msd + list(processors))

    def _suppress_placeholders(self, generation_config, kwargs: dict) -> None:
        """Never generate `<video>`/`<motion>`: a placeholder in a caption would be re-read as a feature slot."""
        current = kwargs.get("suppress_tokens")
        if current is None:
            current = getattr(generation_config or self.generation_config, "suppress_tokens", None)
        kwargs["suppress_tokens"] = sorted({*(current or []), self.config.video_token_id, self.config.motion_token_id})

    def _resolve_msd_setting(self, name: str, value, generation_config):
        if value is not None:
            return value
        config_value = getattr(generation_config, name, None) if generation_config is not None else None
        if config_value is None:
            config_value = getattr(self.generation_config, name, None)
        return config_value if config_value is not None else getattr(self.config, name, None)

    @torch.no_grad()
    def generate(
        self,
        inputs: torch.Tensor | None = None,
        generation_config=None,
        logits_processor: LogitsProcessorList | None = None,
        msd: bool | None = None,
        msd_alpha=None,
        msd_beta: float | None = None,
        msd_theta: float | None = None,
        msd_synergy: str | None = None,
        msd_terms=None,
        output_msd: bool = False,
        **kwargs,
    ):
        r"""
        [`GenerationMixin.generate`] with Motion Synergetic Decoding.

        Args:
            msd (`bool`, *optional*):
                Decode both pathways together and combine them with [`MotionSynergeticLogitsProcessor`]. Needs
                the motion pathway's input (`pixel_values_motion`, or `motion_joints` for the joints encoder).
                Defaults to the generation config's `msd` (`False` when unset); with `msd=False` this is exactly
                plain decoding of the prompt as given. Either way the `<video>` and `<motion>` placeholder tokens
                are never generated (added to `suppress_tokens`). MSD needs `input_ids` (the motion rows are derived
                from them) and the default dynamic cache (it holds `2B` rows); `inputs_embeds` and static caches are
                plain decoding only.
            msd_alpha, msd_beta, msd_theta, msd_synergy, msd_terms (*optional*):
                Per-call overrides of the MSD parameters; unset ones come from the generation config, then the
                model config.
            output_msd (`bool`, *optional*, defaults to `False`):
                With `return_dict_in_generate=True`, attach [`MacmMsdDiagnostics`] as `output.msd`.
        """
        msd = bool(self._resolve_msd_setting("msd", msd, generation_config))
        self._suppress_placeholders(generation_config, kwargs)
        if not msd:
            if output_msd:
                raise ValueError("`output_msd=True` needs `msd=True`")
            prompt = inputs if inputs is not None else kwargs.get("input_ids")
            if (
                kwargs.get("pathways") is None
                and kwargs.get(self.model.motion_input_name) is not None
                and prompt is not None
                and not (prompt == self.config.motion_token_id).any()
            ):
                kwargs["pathways"] = "visual"  # a paired prompt decoded without MSD: the visual pathway alone
            return super().generate(
                inputs, generation_config=generation_config, logits_processor=logits_processor, **kwargs
            )

        if kwargs.get(self.model.motion_input_name) is None:
            raise ValueError(
                f"`msd=True` needs `{self.model.motion_input_name}` (the motion pathway's input from the processor)"
            )
        if kwargs.get("pathways") not in (None, "both"):
            raise ValueError(f"`msd=True` decodes pathways='both'; got pathways={kwargs['pathways']!r}")
        if output_msd and not kwargs.get(
            "return_dict_in_generate", getattr(generation_config, "return_dict_in_generate", False)
        ):
            raise ValueError("`output_msd=True` needs `return_dict_in_generate=True`")
        if kwargs.get("inputs_embeds") is not None:
            raise ValueError(
                "`msd=True` does not take `inputs_embeds`: the motion rows are built from `input_ids` (each <video> "
                "becomes <motion>). Pass `input_ids` only, or decode the embeddings with `msd=False`"
            )
        cache = kwargs.get("past_key_values")
        cache_implementation = kwargs.get(
            "cache_implementation", getattr(generation_config or self.generation_config, "cache_implementation", None)
        )
        if cache_implementation in ALL_STATIC_CACHE_IMPLEMENTATIONS or getattr(cache, "is_compileable", False):
            raise ValueError(
                "`msd=True` does not support static caches: it decodes 2B rows (visual and motion) from B prompts, "
                "which a cache and a 4D mask sized for B rows cannot hold. Use the default dynamic cache, or "
                "`msd=False`"
            )
        msd_processor = MotionSynergeticLogitsProcessor(
            alpha=self._resolve_msd_setting("msd_alpha", msd_alpha, generation_config),
            beta=self._resolve_msd_setting("msd_beta", msd_beta, generation_config),
            theta=self._resolve_msd_setting("msd_theta", msd_theta, generation_config),
            synergy=self._resolve_msd_setting("msd_synergy", msd_synergy, generation_config),
            terms=self._resolve_msd_setting("msd_terms", msd_terms, generation_config),
            record=output_msd,
        )
        kwargs["pathways"] = "both"
        processors = LogitsProcessorList([msd_processor, *(logits_processor or [])])
        outputs = super().generate(inputs, generation_config=generation_config, logits_processor=processors, **kwargs)
        if output_msd and isinstance(outputs, ModelOutput):
            prompt_length = (inputs if inputs is not None else kwargs["input_ids"]).shape[1]
            num_tokens = outputs.sequences.shape[1] - prompt_length
            outputs["msd"] = MacmMsdDiagnostics.from_steps(msd_processor.steps, num_tokens)
        return outputs
