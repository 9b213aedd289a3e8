"""Pictures for the page: keyframe pairs, the per-token synergy strip and the motion timeline.

Figures are built with `matplotlib.figure.Figure` (no pyplot state), so requests running at once do not share
a current figure.
"""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

__all__ = ["LIMBS", "keyframe_pairs", "limb_activity", "limb_speeds", "motion_timeline", "synergy_strip"]

CHANGED_COLOR = "#e4572e"
KEPT_COLOR = "#7a9cc6"
MIN_SCORE = 0.3
ACTIVITY_CMAP = matplotlib.colormaps["Oranges"].with_extremes(bad="#e6e6e6")  # light grey: joint not seen
PAIR_HEIGHT = 192  # gallery tiles of small clips are enlarged to this height

# body part -> COCO-17 joints whose motion it is; limbs move relative to the hips, "whole body" is the hips
LIMBS: dict[str, tuple[str, ...]] = {
    "head": ("nose", "left_ear", "right_ear"),
    "left arm": ("left_elbow", "left_wrist"),
    "right arm": ("right_elbow", "right_wrist"),
    "torso": ("left_shoulder", "right_shoulder"),
    "left leg": ("left_knee", "left_ankle"),
    "right leg": ("right_knee", "right_ankle"),
    "whole body": ("left_hip", "right_hip"),
}


def keyframe_pairs(keyframes, motion_frames, timestamps) -> list[tuple[np.ndarray, str]]:
    """Gallery items: each keyframe with its motion frame (scaled to the keyframe's height: masks are square crops)
    to the right, captioned with its index and time."""
    import cv2

    items = []
    for index, (rgb, motion) in enumerate(zip(keyframes, motion_frames, strict=True)):
        if motion.shape[0] != rgb.shape[0]:
            width = max(1, round(motion.shape[1] * rgb.shape[0] / motion.shape[0]))
            motion = cv2.resize(motion, (width, rgb.shape[0]), interpolation=cv2.INTER_AREA)
        gap = np.full((rgb.shape[0], max(2, rgb.shape[1] // 32), 3), 255, dtype=np.uint8)
        pair = np.hstack([rgb, gap, motion])
        if pair.shape[0] < PAIR_HEIGHT:  # 96-px SynthMotion frames would be thumbnails
            scale = -(-PAIR_HEIGHT // pair.shape[0])
            pair = pair.repeat(scale, axis=0).repeat(scale, axis=1)
        items.append((pair, f"#{index + 1} · {float(timestamps[index]):.2f} s"))
    return items


def synergy_strip(tokens: list[str], step_synergy: list[float], changed: list[bool]) -> Figure:
    """One bar per generated token: MSD's step synergy S_T, tokens MSD changed drawn in orange."""
    count = max(1, len(tokens))
    figure = Figure(figsize=(9.0, 3.2), layout="constrained")
    axes = figure.add_subplot()
    if not tokens:
        axes.text(0.5, 0.5, "no tokens generated", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return figure
    x = np.arange(len(tokens))
    colors = [CHANGED_COLOR if flag else KEPT_COLOR for flag in changed]
    axes.bar(x, step_synergy, color=colors, width=0.8)
    axes.axhline(0.0, color="black", linewidth=0.6)
    labels = [token.strip().replace("\n", "\\n") or "\u2423" for token in tokens]
    axes.set_xticks(x, labels, rotation=90)
    axes.tick_params(axis="x", labelsize=8 if count <= 32 else 6 if count <= 64 else 4)
    axes.set_xlim(-0.6, len(tokens) - 0.4)
    axes.set_ylabel("step synergy $S_T$")
    axes.set_title("MSD step synergy per token", fontsize=10, loc="left")
    legend = [
        Patch(color=CHANGED_COLOR, label=f"changed by MSD ({sum(changed)} of {len(tokens)})"),
        Patch(color=KEPT_COLOR, label="same as the visual pathway's choice"),
    ]
    axes.legend(handles=legend, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, fontsize=8, frameon=False)
    return figure


def limb_activity(track) -> tuple[np.ndarray, np.ndarray]:
    """How much each body part moved between consecutive frames.

    Limbs are measured relative to the mid-hip (so a step moves the legs, not the arms) and every distance is
    divided by the median torso length (shoulder to hip), so the numbers read as "torso lengths per second".

    Args:
        track (`PoseTrack`): any backend's track with the COCO-17 joints.

    Returns:
        `(times, activity)`: `(F - 1,)` midpoints in seconds and `(len(LIMBS), F - 1)` speeds, NaN where a joint
        was not seen.
    """
    coco = track.to_coco17()
    names = list(coco.keypoint_names)
    points = coco.keypoints[..., :2].astype(np.float64)  # (F, 17, 2)
    points[coco.keypoints[..., 2] < MIN_SCORE] = np.nan
    times = np.asarray(coco.timestamps, dtype=np.float64)
    with warnings.catch_warnings():  # frames where a pair is unseen give NaN, which is what they should give
        warnings.simplefilter("ignore", RuntimeWarning)
        hips = np.nanmean(points[:, [names.index("left_hip"), names.index("right_hip")]], axis=1)  # (F, 2)
        shoulders = np.nanmean(points[:, [names.index("left_shoulder"), names.index("right_shoulder")]], axis=1)
        torso = np.nanmedian(np.linalg.norm(shoulders - hips, axis=-1))
    if not np.isfinite(torso) or torso <= 0:
        torso = float(max(coco.image_size)) / 4  # no torso seen: a quarter of the frame
    dt = np.maximum(np.diff(times), 1e-6)  # (F - 1,)
    rows = []
    for limb, joints in LIMBS.items():
        where = points[:, [names.index(joint) for joint in joints]]  # (F, J, 2)
        if limb != "whole body":
            where = where - hips[:, None]
        step = np.linalg.norm(np.diff(where, axis=0), axis=-1)  # (F - 1, J), NaN where a joint is unseen
        seen = (~np.isnan(step)).sum(axis=1)
        speed = np.nansum(step, axis=1) / np.maximum(seen, 1) / torso / dt
        rows.append(np.where(seen > 0, speed, np.nan))
    return (times[1:] + times[:-1]) / 2, np.vstack(rows) if rows else np.zeros((0, 0))


def limb_speeds(track) -> tuple[np.ndarray, list[str], np.ndarray, list[tuple[int, float, float]], str]:
    """Per body part, speed between consecutive frames, and the movements found.

    `macm.processing.kinematics` when installed (limbs measured from their anchors, in limb lengths, heading
    removed, with motion events); else `limb_activity`, without events.

    Returns:
        `(times, names, speeds, events, unit)`: `(F - 1,)` midpoints in seconds, one name per row, `(rows, F - 1)`
        speeds (NaN: not seen), `(row, start_s, end_s)` per movement, and the speeds' unit.
    """
    try:
        from macm.processing.kinematics import summarize_track_motion
    except ImportError:  # an install without the kinematics module
        times, activity = limb_activity(track)
        return times, list(LIMBS), activity, [], "torso lengths / s"
    summary = summarize_track_motion(track)
    times = (summary.times[1:] + summary.times[:-1]) / 2
    rows = {limb.name: index for index, limb in enumerate(summary.limbs)}
    events = [(rows[event.limb], event.start_time, event.end_time) for event in summary.events]
    names = [limb.name.replace("_", " ") for limb in summary.limbs]
    return times, names, np.vstack([limb.speed for limb in summary.limbs]), events, "limb lengths / s"


def _nothing_to_show(figure: Figure, axes, text: str) -> Figure:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)
    axes.set_axis_off()
    return figure


def motion_timeline(track, keyframe_timestamps=None) -> Figure:
    """Which body parts moved when: one row per part (darker: faster), boxes around the movements found."""
    figure = Figure(figsize=(9.0, 2.9), layout="constrained")
    axes = figure.add_subplot()
    try:
        if track.to_coco17().has_person.sum() < 2:
            return _nothing_to_show(figure, axes, "no person found: no motion timeline")
        times, names, speeds, events, unit = limb_speeds(track)
    except ValueError as error:  # a layout without the joints the timeline needs
        return _nothing_to_show(figure, axes, f"no motion timeline: {error}")
    half = np.diff(times).mean() / 2 if len(times) > 1 else 0.5 * float(np.diff(track.timestamps[:2])[0])
    edges = np.concatenate([[times[0] - half], (times[1:] + times[:-1]) / 2, [times[-1] + half]])
    top = np.nanpercentile(speeds, 98) if np.isfinite(speeds).any() else 1.0
    mesh = axes.pcolormesh(
        edges, np.arange(len(names) + 1), np.ma.masked_invalid(speeds), cmap=ACTIVITY_CMAP, vmin=0, vmax=max(top, 1e-3)
    )
    for row, start, end in events:
        axes.add_patch(Rectangle((start, row + 0.08), max(end - start, half), 0.84, fill=False, edgecolor="#333333"))
    axes.set_yticks(np.arange(len(names)) + 0.5, names)
    axes.set_ylim(len(names), 0)
    for t in keyframe_timestamps if keyframe_timestamps is not None else []:
        axes.axvline(float(t), color="#555555", linewidth=0.5, alpha=0.4)
    axes.set_title("Motion timeline: which body parts moved when", fontsize=10, loc="left")
    boxes = "boxes: movements found; " if events else ""
    axes.set_xlabel(f"time (s); {boxes}grey lines: keyframes; light grey: not seen")
    figure.colorbar(mesh, ax=axes, label=unit, pad=0.01)
    return figure
