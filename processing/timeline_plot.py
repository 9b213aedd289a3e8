"""The motion timeline: which limbs moved when, drawn from a `MotionSummary`.

One row per limb (head, torso, left and right arm, left and right leg): the limb's speed as a filled curve, its
motion events as bars, and its amplitude on the right (a check mark when it counts as moved). Sided limbs take the
skeleton's side colours (`macm.processing.skeleton.PART_COLORS`: left warm, right cool), so the timeline reads like
the motion frames; head and torso are drawn in a dark neutral. Numbers over the bars give the order in which the limbs
first moved.

Built on `matplotlib.figure.Figure` (no pyplot state), so concurrent requests of a Gradio app do not share a figure.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .kinematics import MotionSummary, summarize_track_motion
from .pose.types import PoseTrack
from .skeleton import PART_COLORS

__all__ = ["LIMB_COLORS", "plot_motion_timeline"]

ROWS: tuple[str, ...] = ("head", "torso", "left_arm", "right_arm", "left_leg", "right_leg")


def _hex(rgb: tuple[int, int, int], scale: float = 1.0) -> str:
    return "#" + "".join(f"{int(round(c * scale)):02x}" for c in rgb)


LIMB_COLORS: dict[str, str] = {
    "left_arm": _hex(PART_COLORS[("upper_arm", "left")]),
    "right_arm": _hex(PART_COLORS[("upper_arm", "right")]),
    "left_leg": _hex(PART_COLORS[("thigh", "left")]),
    "right_leg": _hex(PART_COLORS[("thigh", "right")]),
    # the skeleton's neutral greys are drawn on video; on a white page they need darkening
    "head": _hex(PART_COLORS[("head", "center")], 0.4),
    "torso": _hex(PART_COLORS[("torso", "center")], 0.45),
}


def _as_summary(source) -> tuple[MotionSummary, np.ndarray | None]:
    """A `MotionSummary` from a summary, a `PoseTrack`, or a motion-pathway result (`.track`, keyframe times)."""
    if isinstance(source, MotionSummary):
        return source, None
    if isinstance(source, PoseTrack):
        return summarize_track_motion(source), None
    track = getattr(source, "track", None)
    if isinstance(track, PoseTrack):
        keyframes = getattr(source, "keyframe_timestamps", None)
        return summarize_track_motion(track), None if keyframes is None else np.asarray(keyframes, dtype=float)
    raise TypeError(
        "expected a MotionSummary, a PoseTrack or a motion-pathway result with a `.track`, "
        f"got {type(source).__name__}"
    )


def plot_motion_timeline(summary, fps: float | None = None) -> Figure:
    """Draws which limbs moved when.

    Args:
        summary ([`MotionSummary`], `PoseTrack` or `MotionResult`): the motion to draw; a pose track (or the motion
            pathway's result, whose keyframe times are then marked) is summarised first.
        fps (`float`, *optional*): frame rate, to label the time axis in seconds when the summary counts frames.

    Returns:
        `matplotlib.figure.Figure`: save it with ``figure.savefig("timeline.png")`` or hand it to ``gr.Plot``.
    """
    summary, keyframe_times = _as_summary(summary)
    times = np.asarray(summary.times, dtype=float)
    unit = summary.time_unit
    if unit == "frame" and fps is not None:
        if not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"`fps` must be positive, got {fps}")
        times, unit = times / float(fps), "s"
    figure = Figure(figsize=(9.0, 3.8), layout="constrained")
    axes = figure.add_subplot()
    if not any(limb.observed for limb in summary.limbs):
        axes.text(0.5, 0.5, "no person found: no motion timeline", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return figure

    peaks = [np.nanmax(limb.speed) for limb in summary.limbs if limb.moved and np.isfinite(limb.speed).any()]
    scale = max(peaks) if peaks else max(np.nanmax(np.r_[[0.0], *(limb.speed for limb in summary.limbs)]), 1e-9)
    first_move = {name: rank for rank, name in enumerate(summary.order, start=1)}
    for row, name in enumerate(reversed(ROWS)):  # head on top
        limb, color = summary.limb(name), LIMB_COLORS[name]
        base = row - 0.4
        if not limb.observed:
            axes.text(times[0], row, "  not seen", va="center", fontsize=8, color="grey")
            continue
        speed = np.clip(np.nan_to_num(limb.speed) / scale, 0.0, 1.0)  # (F - 1,): one value per frame interval
        steps = np.r_[speed, speed[-1:]]
        axes.fill_between(times, base, base + 0.8 * steps, step="post", color=color, alpha=0.45, linewidth=0)
        events = summary.events_of(name)
        if events:
            spans = [(times[event.start_frame], times[event.end_frame]) for event in events]
            axes.broken_barh([(a, max(b - a, 1e-6)) for a, b in spans], (base, 0.8), facecolors=color, alpha=0.28,
                             edgecolor=color, linewidth=1.2)  # fmt: skip
            if name in first_move:
                axes.text(spans[0][0], row + 0.42, str(first_move[name]), fontsize=8, color=color, va="bottom")
        label = f"{limb.amplitude:.2f}" + (" \u2713" if limb.moved else "")
        axes.text(1.005, row, label, transform=axes.get_yaxis_transform(), va="center", fontsize=8, color=color)
    for t in keyframe_times if keyframe_times is not None else []:
        axes.axvline(float(t), color="grey", linewidth=0.5, alpha=0.4)
    axes.set_yticks(range(len(ROWS)), [name.replace("_", " ") for name in reversed(ROWS)])
    for tick, name in zip(axes.get_yticklabels(), reversed(ROWS), strict=True):
        tick.set_color(LIMB_COLORS[name])
    axes.set_ylim(-0.6, len(ROWS) - 0.35)
    axes.set_xlim(times[0], times[-1] if times[-1] > times[0] else times[0] + 1)
    axes.set_xlabel("time (s)" if unit == "s" else "frame")
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_title(
        "Motion timeline: which limbs moved when (bars: events, numbers: order; right: amplitude)", fontsize=9
    )
    return figure
