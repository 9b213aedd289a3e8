"""Who else is in the frame: person heights relative to the main person, and the tiles a detector scans to see them.

The paper's single-person filter is about people who compete with the subject for the caption, not far-away
spectators. So every person seen in a frame gets a height relative to the main person's (1.0 for the main person),
and a frame counts the people at least `min_height` (default 0.5) of the main person's height.

BlazePose's detector only sees people whose face is about 12 pixels or more of its 224 x 224 input, so on the
letterbox of a whole 1280 x 720 frame a 200 px tall pedestrian (35 px there) is invisible. `count_tiles` picks
overlapping square tiles of the full-resolution frame, sized so that a person of `min_height` times the main
person's height is large enough in each tile's detector input.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["DEFAULT_MIN_HEIGHT", "count_people", "count_tiles", "relative_heights"]

DEFAULT_MIN_HEIGHT = 0.5


def relative_heights(main_height: float | None, heights: np.ndarray) -> np.ndarray:
    """Heights relative to the main person's, tallest first; relative to the tallest when there is no main person.

    Args:
        main_height (`float`, *optional*): the main person's height in pixels, `None` when nobody is followed.
        heights (`np.ndarray` of shape `(N,)`): heights in pixels of the other people seen (main person excluded).

    Returns:
        `np.ndarray` of shape `(N + 1,)` with the main person first as 1.0, or `(N,)` without a main person.
    """
    heights = np.asarray(heights, dtype=np.float64).reshape(-1)
    heights = heights[np.isfinite(heights) & (heights > 0)]
    if main_height is not None and main_height > 0:
        return np.concatenate([[1.0], np.sort(heights)[::-1] / main_height])
    if not len(heights):
        return heights
    return np.sort(heights)[::-1] / heights.max()


def count_people(person_heights: np.ndarray, min_height: float = DEFAULT_MIN_HEIGHT) -> np.ndarray:
    """People per frame at least `min_height` of the main person's height.

    Args:
        person_heights (`np.ndarray` of shape `(F, P)`): relative heights, NaN-padded (`PoseTrack.person_heights`).
        min_height (`float`, *optional*, defaults to 0.5): smallest relative height that counts (above 1 counts only
            people taller than the main person).

    Returns:
        `np.ndarray` of shape `(F,)`, `int64`.
    """
    if not min_height >= 0.0:
        raise ValueError(f"`min_height` must be non-negative, got {min_height}")
    heights = np.asarray(person_heights, dtype=np.float64)
    return (np.nan_to_num(heights, nan=-1.0) >= min_height).sum(axis=-1).astype(np.int64)


def _starts(length: int, side: int, overlap: int) -> list[int]:
    if side >= length:
        return [0]
    count = math.ceil((length - overlap) / max(1, side - overlap))
    return [int(round(v)) for v in np.linspace(0, length - side, max(2, count))]


def count_tiles(
    width: int,
    height: int,
    person_size: float | None,
    min_height: float = DEFAULT_MIN_HEIGHT,
    detector_size: int = 224,
    min_body: float = 80.0,
    max_tiles: int = 8,
) -> list[tuple[int, int, int]]:
    """Square tiles `(x0, y0, side)` of a frame in which a detector sees people of `min_height` x `person_size`.

    A tile's side is chosen so such a person's body measures `min_body` pixels of the detector's `detector_size`
    input; neighbouring tiles overlap by that person's size, so each of them lies whole in some tile. When that
    takes more than `max_tiles` tiles, the tiles grow until it does not (small people then get missed, but a
    subject that small fails the size filter anyway).

    Args:
        width, height (`int`): the frame.
        person_size (`float`, *optional*): the main person's size in pixels; `None` scans the whole frame once.

    Returns:
        `list[tuple[int, int, int]]`: never empty; one tile `(0, 0, max(width, height))` means the whole frame.
    """
    whole = [(0, 0, max(width, height))]
    if person_size is None or not math.isfinite(person_size) or person_size <= 0:
        return whole
    target = min_height * person_size
    side = max(detector_size, int(math.ceil(detector_size * target / min_body)))
    while side < max(width, height):
        overlap = int(min(side / 2, target))
        tiles = [
            (x, y, side) for y in _starts(height, side, overlap) for x in _starts(width, side, overlap)
        ]  # fmt: skip
        if len(tiles) <= max_tiles:
            return tiles
        side = int(side * 1.25)
    return whole
