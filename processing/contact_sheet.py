"""A contact sheet: keyframes with their motion frames below them, for a person to look at."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["contact_sheet"]


def contact_sheet(
    keyframes: list[np.ndarray],
    motion_frames: list[np.ndarray],
    timestamps=None,
    thumb_height: int = 160,
    columns: int = 8,
) -> Image.Image:
    """A grid of `columns` keyframes a band; each band has the RGB keyframes above their motion frames.

    Thumbnails are labelled with the keyframes' times when `timestamps` is given.
    """
    if len(keyframes) != len(motion_frames) or not keyframes:
        raise ValueError(
            f"need as many motion frames as keyframes (> 0): got {len(keyframes)} and {len(motion_frames)}"
        )
    height, width = keyframes[0].shape[:2]
    thumb_width = max(1, round(width * thumb_height / height))
    columns = min(columns, len(keyframes))
    label = 16 if timestamps is not None else 0
    band = label + 2 * thumb_height + 8
    bands = math.ceil(len(keyframes) / columns)
    sheet = Image.new("RGB", (thumb_width * columns, band * bands), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (rgb, motion) in enumerate(zip(keyframes, motion_frames, strict=True)):
        x, y = (index % columns) * thumb_width, (index // columns) * band
        for row, frame in enumerate((rgb, motion)):
            thumb = Image.fromarray(frame).resize((thumb_width, thumb_height), Image.BILINEAR)
            sheet.paste(thumb, (x, y + label + row * thumb_height))
        if timestamps is not None:
            draw.text((x + 4, y + 2), f"#{index} {float(timestamps[index]):.2f}s", fill="black")
    return sheet
