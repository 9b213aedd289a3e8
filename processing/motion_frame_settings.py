"""How a clip's motion frames are drawn (`MacmConfig.motion_frame_style`, `_alpha`, `_size`), apart from the drawing
itself (`macm.processing.motion_frames`), so command lines and configs can name the styles without loading OpenCV."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_ALPHA", "MOTION_FRAME_STYLES", "MotionFrameSettings"]

MOTION_FRAME_STYLES = ("mask", "overlay")
DEFAULT_ALPHA = 0.6  # opacity of the drawn body over a frame


@dataclass(frozen=True)
class MotionFrameSettings:
    """How to draw a clip's motion frames.

    Args:
        style (`str`, *optional*, defaults to `"mask"`): `"mask"` or `"overlay"`.
        alpha (`float`, *optional*, defaults to 0.6): opacity of the body in the `"overlay"` style.
        size (`int`, *optional*): side of the square masks in pixels (defaults to 256; a model's config gives its
            vision tower's input size). Overlays keep the keyframe's size.
    """

    style: str = "mask"
    alpha: float = DEFAULT_ALPHA
    size: int | None = None

    def __post_init__(self):
        if self.style not in MOTION_FRAME_STYLES:
            raise ValueError(f"motion-frame style must be one of {MOTION_FRAME_STYLES}, got {self.style!r}")
        if not 0.0 <= float(self.alpha) <= 1.0:
            raise ValueError(f"motion-frame alpha must be in [0, 1], got {self.alpha}")
        if self.size is not None and (isinstance(self.size, bool) or int(self.size) < 8):
            raise ValueError(f"motion-frame size must be at least 8 pixels, got {self.size}")

    @classmethod
    def from_config(cls, config, **overrides) -> MotionFrameSettings:
        """The settings a checkpoint was trained with (`motion_frame_style`, `_alpha`, `_size`; the size defaults
        to the vision tower's input size); `overrides` that are not `None` win."""
        vision = getattr(config, "vision_config", None)
        settings = {
            "style": getattr(config, "motion_frame_style", cls.style),
            "alpha": getattr(config, "motion_frame_alpha", cls.alpha),
            "size": getattr(config, "motion_frame_size", None) or getattr(vision, "image_size", None),
        }
        settings.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**settings)

    def to_dict(self) -> dict:
        return {"style": self.style, "alpha": self.alpha, "size": self.size}
