"""M-ACM model configuration."""

from transformers import AutoConfig
from transformers.configuration_utils import PreTrainedConfig, SubConfigSpec

from .msd import (
    DEFAULT_MSD_ALPHA,
    DEFAULT_MSD_BETA,
    DEFAULT_MSD_SYNERGY,
    DEFAULT_MSD_THETA,
    MSD_SYNERGIES,
    validate_msd_arguments,
)

__all__ = ["MacmConfig"]

LOSS_PATHWAYS = ("both", "visual", "motion")
MOTION_FRAME_STYLES = ("mask", "overlay")
MOTION_ENCODERS = ("vision_tower", "joints")
# The Auto classes a saved folder maps to its remote code (`save_pretrained` adds the registered `AutoConfig`)
AUTO_MAP = {
    "AutoModel": "modeling_macm.MacmForConditionalGeneration",
    "AutoModelForImageTextToText": "modeling_macm.MacmForConditionalGeneration",
    "AutoProcessor": "processing_macm.MacmProcessor",
}


class MacmConfig(PreTrainedConfig):
    r"""
    Configuration of an M-ACM model ([`MacmForConditionalGeneration`]): a LLaVA-OneVision-style video-LLM with a
    second, motion pathway (the recovered body drawn over the keyframes, projected by its own MLP) and Motion
    Synergetic Decoding (MSD) defaults.

    Args:
        text_config (`dict` or `PreTrainedConfig`, *optional*, defaults to a `Qwen2Config`):
            Config of the language model (any transformers causal LM backbone, e.g. `qwen2`, `llama`).
        vision_config (`dict` or `PreTrainedConfig`, *optional*, defaults to a SigLIP-so400m vision config):
            Config of the vision tower shared by both pathways (`siglip_vision_model`, `clip_vision_model`, ...).
        video_token_id (`int`, *optional*, defaults to 151647):
            Placeholder token of the visual pathway's video features (`<video>`).
        motion_token_id (`int`, *optional*, defaults to 151648):
            Placeholder token of the motion pathway's features (`<motion>`).
        projector_hidden_act (`str`, *optional*, defaults to `"gelu"`):
            Activation between the two linear layers of both projectors.
        multimodal_projector_bias (`bool`, *optional*, defaults to `True`):
            Whether the projectors' linear layers have biases.
        vision_feature_select_strategy (`str`, *optional*, defaults to `"full"`):
            `"default"` drops the vision tower's CLS token (CLIP), `"full"` keeps every patch (SigLIP).
        vision_feature_layer (`int` or `list[int]`, *optional*, defaults to -1):
            Hidden-state layer(s) of the vision tower fed to the projectors (several are concatenated).
        tie_word_embeddings (`bool`, *optional*, defaults to `False`):
            Whether `lm_head` shares the input embedding matrix.
        num_keyframes (`int`, *optional*, defaults to 16):
            Keyframes (and motion frames) per clip chosen by pose-driven sampling; every caller's default.
        motion_frame_style (`str`, *optional*, defaults to `"mask"`):
            How the motion frames draw the recovered body (SMPL mesh when fitted, else part-coloured limbs):
            `"mask"`, alone on black in one person-centred crop per clip, or `"overlay"`, over the RGB keyframe.
            Read by `macm.processing.motion_frames.MotionFrameSettings.from_config`.
        motion_frame_alpha (`float`, *optional*, defaults to 0.6):
            Opacity of the body in the `"overlay"` style.
        motion_frame_size (`int`, *optional*):
            Side of the square masks in pixels; defaults to the vision tower's `image_size`.
        motion_encoder (`str`, *optional*, defaults to `"vision_tower"`):
            What reads the motion pathway: `"vision_tower"` (the motion frames through the shared tower, as in the
            paper) or `"joints"` (a small transformer over the recovered joint sequence, `motion_joints`; the
            sources' "motion encoder"). Either way the motion projector, `<motion>` tokens and MSD are the same.
        motion_num_joints (`int`, *optional*, defaults to 17):
            Joints per frame the `"joints"` encoder reads (COCO-17).
        motion_encoder_hidden_size (`int`, *optional*, defaults to 128):
            Width of the `"joints"` encoder.
        motion_encoder_layers (`int`, *optional*, defaults to 2):
            Transformer layers of the `"joints"` encoder.
        motion_encoder_heads (`int`, *optional*, defaults to 4):
            Attention heads of the `"joints"` encoder.
        motion_max_frames (`int`, *optional*, defaults to 64):
            Longest joint sequence the `"joints"` encoder's frame positions cover.
        motion_encoder_dropout (`float`, *optional*, defaults to 0.1):
            Dropout inside the `"joints"` encoder's layers (training only).
        loss_pathways (`str`, *optional*, defaults to `"both"`):
            Pathways that get the caption loss when `labels` are passed: `"both"`, `"visual"` or `"motion"`.
        motion_loss_weight (`float`, *optional*, defaults to 1.0):
            Weight of the motion pathway's loss when `loss_pathways="both"` (the visual loss has weight 1).
        msd_alpha (`list[float]`, *optional*, defaults to `[0.5, 0.2, 0.4, 0.8, 0.3, 2.0]`):
            MSD term weights a1..a5 and the exponent scale a6 (the paper's values).
        msd_beta (`float`, *optional*, defaults to 0.2):
            MSD pruning threshold base.
        msd_theta (`float`, *optional*, defaults to 2.0):
            MSD power-coupling exponent (L4 uses `1 / theta`).
        msd_synergy (`str`, *optional*, defaults to `"reconstructed-v1"`):
            The synergy rule: `"reconstructed-v1"` or the VCD-style `"contrastive"` baseline.
        msd_terms (`list[str]`, *optional*):
            Subset of `["L1", "L2", "L3", "L4", "L5"]` to use (ablations); all five when `None`.

    Example:

    ```python
    >>> from modeling_macm import MacmConfig, MacmForConditionalGeneration

    >>> config = MacmConfig(
    ...     text_config={"model_type": "qwen2", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
    ...                  "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 512},
    ...     vision_config={"model_type": "siglip_vision_model", "hidden_size": 32, "num_hidden_layers": 2,
    ...                    "num_attention_heads": 4, "intermediate_size": 64, "image_size": 32, "patch_size": 8},
    ...     video_token_id=500, motion_token_id=501,
    ... )
    >>> model = MacmForConditionalGeneration(config)
    ```
    """

    model_type = "macm"
    attribute_map = {"video_token_index": "video_token_id", "motion_token_index": "motion_token_id"}
    sub_configs_defaults = {
        "text_config": SubConfigSpec(config_class=AutoConfig, model_type="qwen2"),
        "vision_config": SubConfigSpec(
            config_class=AutoConfig,
            model_type="siglip_vision_model",
            init_kwargs={
                "hidden_size": 1152,
                "intermediate_size": 4304,
                "patch_size": 14,
                "image_size": 384,
                "num_hidden_layers": 26,
                "num_attention_heads": 16,
                "vision_use_head": False,
            },
        ),
    }

    text_config: dict | PreTrainedConfig | None = None
    vision_config: dict | PreTrainedConfig | None = None
    video_token_id: int = 151647
    motion_token_id: int = 151648
    projector_hidden_act: str = "gelu"
    multimodal_projector_bias: bool = True
    vision_feature_select_strategy: str = "full"
    vision_feature_layer: int | list[int] = -1
    tie_word_embeddings: bool = False
    num_keyframes: int = 16
    motion_frame_style: str = "mask"
    motion_frame_alpha: float = 0.6
    motion_frame_size: int | None = None
    motion_encoder: str = "vision_tower"
    motion_num_joints: int = 17
    motion_encoder_hidden_size: int = 128
    motion_encoder_layers: int = 2
    motion_encoder_heads: int = 4
    motion_max_frames: int = 64
    motion_encoder_dropout: float = 0.1
    loss_pathways: str = "both"
    motion_loss_weight: float = 1.0
    msd_alpha: list[float] | tuple[float, ...] = DEFAULT_MSD_ALPHA
    msd_beta: float = DEFAULT_MSD_BETA
    msd_theta: float = DEFAULT_MSD_THETA
    msd_synergy: str = DEFAULT_MSD_SYNERGY
    msd_terms: list[str] | None = None

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        self.auto_map = {**AUTO_MAP, **(getattr(self, "auto_map", None) or {})}
        self.msd_alpha = [float(a) for a in self.msd_alpha]
        if self.msd_terms is not None:
            self.msd_terms = list(self.msd_terms)
        self.validate_macm_fields()

    def validate_macm_fields(self) -> None:
        """Raise `ValueError` naming the first field whose value is out of range."""

        def check(ok: bool, field: str, requirement: str) -> None:
            if not ok:
                raise ValueError(f"MacmConfig.{field}={getattr(self, field)!r} is invalid: {requirement}")

        vocab_size = getattr(self.text_config, "vocab_size", None)
        for field in ("video_token_id", "motion_token_id"):
            value = getattr(self, field)
            check(isinstance(value, int) and value >= 0, field, "must be a non-negative token id")
            if vocab_size is not None:
                check(value < vocab_size, field, f"must be below text_config.vocab_size={vocab_size}")
        check(self.motion_token_id != self.video_token_id, "motion_token_id", "must differ from video_token_id")
        check(
            self.vision_feature_select_strategy in ("default", "full"),
            "vision_feature_select_strategy",
            "must be 'default' or 'full'",
        )
        check(self.num_keyframes >= 1, "num_keyframes", "must be >= 1")
        check(
            self.motion_frame_style in MOTION_FRAME_STYLES,
            "motion_frame_style",
            f"must be one of {MOTION_FRAME_STYLES}",
        )
        check(0.0 <= self.motion_frame_alpha <= 1.0, "motion_frame_alpha", "must be in [0, 1]")
        check(self.motion_frame_size is None or self.motion_frame_size >= 8, "motion_frame_size", "must be >= 8")
        check(self.motion_encoder in MOTION_ENCODERS, "motion_encoder", f"must be one of {MOTION_ENCODERS}")
        for field in ("motion_num_joints", "motion_encoder_layers", "motion_max_frames"):
            check(getattr(self, field) >= 1, field, "must be >= 1")
        check(
            self.motion_encoder_hidden_size % max(1, self.motion_encoder_heads) == 0
            and self.motion_encoder_heads >= 1,
            "motion_encoder_hidden_size",
            "must be a multiple of motion_encoder_heads (>= 1)",
        )
        check(0.0 <= self.motion_encoder_dropout < 1.0, "motion_encoder_dropout", "must be in [0, 1)")
        if self.motion_encoder == "joints":
            check(self.num_keyframes <= self.motion_max_frames, "num_keyframes", "must be <= motion_max_frames")
        check(self.loss_pathways in LOSS_PATHWAYS, "loss_pathways", f"must be one of {LOSS_PATHWAYS}")
        check(self.motion_loss_weight >= 0.0, "motion_loss_weight", "must be >= 0")
        check(self.msd_synergy in MSD_SYNERGIES, "msd_synergy", f"must be one of {MSD_SYNERGIES}")
        try:
            validate_msd_arguments(self.msd_alpha, self.msd_beta, self.msd_theta, self.msd_synergy, self.msd_terms)
        except ValueError as error:
            raise ValueError(f"MacmConfig: {error}") from None

    @property
    def msd_kwargs(self) -> dict:
        """The MSD defaults as keyword arguments of `msd_scores`."""
        return {
            "alpha": tuple(self.msd_alpha),
            "beta": self.msd_beta,
            "theta": self.msd_theta,
            "synergy": self.msd_synergy,
            "terms": None if self.msd_terms is None else tuple(self.msd_terms),
        }
