"""The action library: keyframed joint-angle curves with left/right variants, and motion scripts built from them.

An action is a short movement that starts and ends at the rest pose (except `turn` and the steps, which leave the
body turned or moved). Its curve is a list of keyframes `(phase, {parameter: offset})`, phase in [0, 1], with
smoothstep interpolation between them. Parameter names carry a prefix resolved against the action's side:

- ``S.`` the acting side's parameter (``S.shoulder_abduct`` -> ``left_shoulder_abduct`` for the left variant),
- ``O.`` the other side's, ``B.`` both sides' (symmetric movements),
- ``T.`` a body-centre parameter whose sign follows the side (``T.root_yaw`` turns left for `left`, right for
  `right`), and no prefix for a body-centre parameter.

A `MotionScript` schedules 1-3 steps on the clip's frames; a step is one action or two actions on disjoint body
parts played together (captioned with "while").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .humanoid import POSE_PARAMS, neutral_pose

__all__ = [
    "ACTIONS",
    "SIDES",
    "ActionSpec",
    "MotionScript",
    "ScheduledAction",
    "action_names",
    "evaluate_script",
    "sample_script",
]

SIDES: tuple[str, ...] = ("left", "right")
_PARAM = {name: i for i, name in enumerate(POSE_PARAMS)}
Keyframes = list[tuple[float, dict[str, float]]]


@dataclass(frozen=True)
class ActionSpec:
    """One entry of the action library.

    Args:
        name (`str`): identifier, also the key of the caption grammar's phrase table.
        sided (`bool`): has a left and a right variant.
        groups (`tuple[str, ...]`): body parts it moves (``"S_arm"``/``"O_leg"`` resolve to the acting/other
            side); two actions may play together only on disjoint groups.
        duration (`float`): nominal length, relative to the other actions (used to share the clip's frames).
        build (`Callable[[np.random.Generator, int], Keyframes]`): draws the keyframes for an action lasting the
            given number of frames (amplitudes and repetitions vary).
    """

    name: str
    sided: bool
    groups: tuple[str, ...]
    duration: float
    build: Callable[[np.random.Generator, int], Keyframes]

    def resolved_groups(self, side: str) -> frozenset[str]:
        other = "right" if side == "left" else "left"
        return frozenset(g.replace("S_", f"{side}_").replace("O_", f"{other}_") for g in self.groups)


def _hold(pose: dict[str, float], rise: float = 0.35, fall: float = 0.65) -> Keyframes:
    return [(0.0, {}), (rise, pose), (fall, pose), (1.0, {})]


def _repeat(a: dict[str, float], b: dict[str, float], times: int, frames: int) -> Keyframes:
    """Rest -> `a` -> (`b` -> `a`) x times -> rest, each pose on a frame of its own.

    Repetitions that do not fit the action's `frames` (one frame per pose, a rest frame at each end) are dropped:
    poses spaced closer than a frame fall between the sampled frames and the movement would not show.
    """
    if frames < 4:
        raise ValueError(f"A repeated movement needs at least 4 frames, got {frames}")
    inner = ([a] + [pose for _ in range(times) for pose in (b, a)])[: frames - 2]
    on_frames = np.floor(np.linspace(1.0, frames - 2.0, len(inner)) + 0.5)  # distinct whole frames
    phases = on_frames / (frames - 1.0)
    return [(0.0, {})] + [(float(p), pose) for p, pose in zip(phases, inner, strict=True)] + [(1.0, {})]


def _amp(rng: np.random.Generator, low: float = 0.85, high: float = 1.1) -> float:
    return float(rng.uniform(low, high))


def _raise_overhead(rng, frames):
    return _hold({"S.shoulder_abduct": 150 * _amp(rng, 0.95, 1.08), "S.elbow_flex": -8})


def _raise_forward(rng, frames):
    return _hold({"S.shoulder_flex": 88 * _amp(rng), "S.shoulder_abduct": -9, "S.elbow_flex": -8})


def _raise_side(rng, frames):
    return _hold({"S.shoulder_abduct": 80 * _amp(rng), "S.elbow_flex": -6})


def _raise_both(rng, frames):
    return _hold({"B.shoulder_abduct": 150 * _amp(rng, 0.95, 1.08), "B.elbow_flex": -8})


def _wave(rng, frames):
    up = {"S.shoulder_abduct": 95.0, "S.shoulder_twist": 90.0}
    return _repeat({**up, "S.elbow_flex": 45.0}, {**up, "S.elbow_flex": 95.0}, int(rng.integers(2, 4)), frames)


def _punch(rng, frames):
    chamber = {"S.shoulder_flex": 15.0, "S.elbow_flex": 110.0, "S.shoulder_abduct": -4.0, "T.spine_twist": 10.0}
    extend = {"S.shoulder_flex": 85 * _amp(rng), "S.elbow_flex": -10.0, "S.shoulder_horizontal": -12.0}
    extend.update({"S.shoulder_abduct": -9.0, "T.spine_twist": -18.0})
    return [(0.0, {}), (0.3, chamber), (0.55, extend), (0.7, extend), (1.0, {})]


def _kick(rng, frames):
    chamber = {"S.hip_flex": 50.0, "S.knee_flex": 75.0, "spine_bend": -5.0}
    extend = {"S.hip_flex": 75 * _amp(rng), "S.knee_flex": 5.0, "spine_bend": -12.0}
    return [(0.0, {}), (0.3, chamber), (0.55, extend), (0.7, chamber), (1.0, {})]


def _knee_raise(rng, frames):
    return _hold({"S.hip_flex": 92 * _amp(rng), "S.knee_flex": 95.0})


def _leg_side(rng, frames):
    return _hold({"S.hip_abduct": 40 * _amp(rng), "T.spine_lean": -6.0})


def _step_forward(rng, frames):
    length = 0.42 * _amp(rng)
    return [
        (0.0, {}),
        (0.3, {"S.hip_flex": 35.0, "S.knee_flex": 45.0, "root_forward": 0.15 * length}),
        (0.55, {"S.hip_flex": 25.0, "O.hip_flex": -20.0, "root_forward": 0.55 * length}),
        (0.8, {"O.hip_flex": 20.0, "O.knee_flex": 45.0, "root_forward": 0.85 * length}),
        (1.0, {"root_forward": length}),
    ]


def _side_step(rng, frames):
    length = 0.4 * _amp(rng)
    return [
        (0.0, {}),
        (0.35, {"S.hip_abduct": 22.0, "S.knee_flex": 10.0, "T.root_side": 0.25 * length}),
        (0.65, {"O.hip_abduct": 16.0, "T.root_side": 0.8 * length}),
        (1.0, {"T.root_side": length}),
    ]


def _squat(rng, frames):
    return _hold({"B.hip_flex": 95 * _amp(rng), "B.knee_flex": 110 * _amp(rng, 0.95, 1.05), "spine_bend": 22.0})


def _jump(rng, frames):
    crouch = {"B.hip_flex": 40.0, "B.knee_flex": 70.0, "B.shoulder_flex": -25.0, "spine_bend": 12.0}
    air = {"root_lift": 0.28 * _amp(rng), "B.shoulder_flex": 150.0, "B.hip_flex": 8.0, "B.knee_flex": 15.0}
    return [(0.0, {}), (0.25, crouch), (0.5, air), (0.75, crouch), (1.0, {})]


def _bend(rng, frames):
    bend = 70 * _amp(rng)
    return _hold({"spine_bend": bend, "B.shoulder_flex": 0.85 * bend})


def _lean(rng, frames):
    return _hold({"T.spine_lean": 25 * _amp(rng), "O.shoulder_abduct": 10.0})


def _turn(rng, frames):
    angle = 90 * _amp(rng, 0.9, 1.0)
    return [
        (0.0, {}),
        (0.35, {"T.root_yaw": 0.35 * angle, "S.hip_abduct": 12.0, "S.knee_flex": 20.0}),
        (0.7, {"T.root_yaw": 0.8 * angle, "O.knee_flex": 20.0}),
        (1.0, {"T.root_yaw": angle}),
    ]


def _clap(rng, frames):
    arms = {"B.shoulder_flex": 80.0, "B.shoulder_abduct": -9.0, "B.elbow_flex": 5.0}
    return _repeat(
        {**arms, "B.shoulder_horizontal": 35.0},
        {**arms, "B.shoulder_horizontal": -19.0},
        int(rng.integers(2, 4)),
        frames,
    )


def _nod(rng, frames):
    return _repeat({"neck_pitch": -5.0}, {"neck_pitch": 28 * _amp(rng)}, int(rng.integers(2, 4)), frames)


def _shake_head(rng, frames):
    side = 35 * _amp(rng)
    return _repeat({"neck_yaw": side}, {"neck_yaw": -side}, int(rng.integers(1, 3)), frames)


def _turn_head(rng, frames):
    return _hold({"T.neck_yaw": 65 * _amp(rng)})


def _twist(rng, frames):
    return _hold({"T.spine_twist": 45 * _amp(rng), "T.neck_yaw": 10.0})


def _touch_head(rng, frames):
    return _hold(
        {"S.shoulder_abduct": 105.0, "S.shoulder_flex": 20.0, "S.elbow_flex": 135.0, "S.shoulder_twist": 70.0}
    )


ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec("raise_arm_overhead", True, ("S_arm",), 1.0, _raise_overhead),
        ActionSpec("raise_arm_forward", True, ("S_arm",), 1.0, _raise_forward),
        ActionSpec("raise_arm_side", True, ("S_arm",), 1.0, _raise_side),
        ActionSpec("raise_both_arms", False, ("left_arm", "right_arm"), 1.0, _raise_both),
        ActionSpec("wave", True, ("S_arm",), 1.4, _wave),
        ActionSpec("punch", True, ("S_arm", "torso"), 0.8, _punch),
        ActionSpec("touch_head", True, ("S_arm",), 1.0, _touch_head),
        ActionSpec("kick", True, ("S_leg", "torso"), 0.9, _kick),
        ActionSpec("knee_raise", True, ("S_leg",), 1.0, _knee_raise),
        ActionSpec("leg_raise_side", True, ("S_leg", "torso"), 1.0, _leg_side),
        ActionSpec("step_forward", True, ("left_leg", "right_leg", "root"), 1.0, _step_forward),
        ActionSpec("side_step", True, ("left_leg", "right_leg", "root"), 1.0, _side_step),
        ActionSpec("turn", True, ("left_leg", "right_leg", "root"), 1.0, _turn),
        ActionSpec("squat", False, ("left_leg", "right_leg", "torso"), 1.2, _squat),
        ActionSpec("jump", False, ("left_arm", "right_arm", "left_leg", "right_leg", "torso", "root"), 1.0, _jump),
        ActionSpec("bend_forward", False, ("left_arm", "right_arm", "torso"), 1.2, _bend),
        ActionSpec("lean", True, ("torso", "O_arm"), 1.0, _lean),
        ActionSpec("twist_torso", True, ("torso", "head"), 1.0, _twist),
        ActionSpec("clap", False, ("left_arm", "right_arm"), 1.3, _clap),
        ActionSpec("nod", False, ("head",), 1.0, _nod),
        ActionSpec("shake_head", False, ("head",), 1.0, _shake_head),
        ActionSpec("turn_head", True, ("head",), 1.0, _turn_head),
    )
}


def action_names(sided: bool | None = None) -> list[str]:
    """Names in the library (only the sided or only the centre ones when `sided` is given)."""
    return [name for name, spec in ACTIONS.items() if sided is None or spec.sided == sided]


def _resolve(keyframes: Keyframes, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Keyframes -> phases `(K,)` and dense offsets `(K, P)`."""
    sign = 1.0 if side != "right" else -1.0
    other = "right" if side == "left" else "left"
    phases = np.array([phase for phase, _ in keyframes], dtype=np.float64)
    values = np.zeros((len(keyframes), len(POSE_PARAMS)))
    for row, (_, pose) in enumerate(keyframes):
        for key, value in pose.items():
            prefix, _, param = key.rpartition(".")
            if prefix in ("S", "O"):
                names, factor = [f"{side if prefix == 'S' else other}_{param}"], 1.0
            elif prefix == "B":
                names, factor = [f"left_{param}", f"right_{param}"], 1.0
            elif prefix == "T":
                names, factor = [param], sign
            elif prefix == "":
                names, factor = [param], 1.0
            else:
                raise ValueError(f"Unknown parameter prefix {prefix!r} in keyframe key {key!r}")
            for name in names:
                if name not in _PARAM:
                    raise ValueError(f"Unknown pose parameter {name!r} (keyframe key {key!r})")
                values[row, _PARAM[name]] = value * factor
    if phases[0] != 0.0 or phases[-1] != 1.0 or np.any(np.diff(phases) <= 0):
        raise ValueError(f"Keyframe phases must rise from 0 to 1, got {phases.tolist()}")
    return phases, values


@dataclass
class ScheduledAction:
    """One action placed on the clip's frames.

    Args:
        name (`str`): key of `ACTIONS`.
        side (`str`): `"left"`, `"right"` (the person's own) or `"center"` for actions without sides.
        start (`int`): first frame of the movement.
        end (`int`): one past its last frame.
        step (`int`): index of the script step it belongs to (actions of one step play together).
        phases (`np.ndarray` of shape `(K,)`) and offsets (`np.ndarray` of shape `(K, P)`): the resolved curve.
    """

    name: str
    side: str
    start: int
    end: int
    step: int
    phases: np.ndarray = field(repr=False)
    offsets: np.ndarray = field(repr=False)

    def __post_init__(self):
        if self.name not in ACTIONS:
            raise ValueError(f"`name` must be one of {list(ACTIONS)}, got {self.name!r}")
        valid = SIDES if ACTIONS[self.name].sided else ("center",)
        if self.side not in valid:
            raise ValueError(f"`side` of {self.name!r} must be one of {list(valid)}, got {self.side!r}")
        if not 0 <= self.start < self.end:
            raise ValueError(f"`start`/`end` must satisfy 0 <= start < end, got start={self.start} end={self.end}")

    def offset_at(self, frame: float) -> np.ndarray:
        """`(P,)` pose offset at a frame (the curve's start before `start`, its end after `end - 1`)."""
        span = max(self.end - 1 - self.start, 1)
        phase = float(np.clip((frame - self.start) / span, 0.0, 1.0))
        k = int(np.clip(np.searchsorted(self.phases, phase, side="right") - 1, 0, len(self.phases) - 2))
        local = (phase - self.phases[k]) / (self.phases[k + 1] - self.phases[k])
        weight = local * local * (3.0 - 2.0 * local)  # smoothstep
        return (1.0 - weight) * self.offsets[k] + weight * self.offsets[k + 1]

    def to_dict(self) -> dict:
        return {"name": self.name, "side": self.side, "start": int(self.start), "end": int(self.end)}


@dataclass
class MotionScript:
    """The actions of one clip, in order of `start`, and its rest pose.

    Args:
        actions (`list[ScheduledAction]`): the scheduled actions.
        num_frames (`int`): length of the clip.
        rest_pose (`np.ndarray` of shape `(P,)`): the pose the offsets are added to.
    """

    actions: list[ScheduledAction]
    num_frames: int
    rest_pose: np.ndarray = field(repr=False)

    @property
    def steps(self) -> list[list[ScheduledAction]]:
        """Actions grouped by step (one or two actions each), in temporal order."""
        grouped: dict[int, list[ScheduledAction]] = {}
        for action in self.actions:
            grouped.setdefault(action.step, []).append(action)
        return [grouped[k] for k in sorted(grouped)]


def sample_script(
    rng: np.random.Generator,
    num_frames: int,
    max_steps: int = 3,
    min_frames_per_step: int = 4,
    concurrent_prob: float = 0.25,
) -> MotionScript:
    """Draw a script of 1 to `max_steps` steps that fits `num_frames` frames.

    Steps get frames in proportion to their actions' nominal durations, with short rests around them; at most
    one step moves the body through the room (a step, a turn or a jump), and no action repeats with the same side.

    Raises:
        `ValueError`: `num_frames` is shorter than one step.
    """
    if num_frames < min_frames_per_step:
        raise ValueError(f"`num_frames` must be at least {min_frames_per_step}, got {num_frames}")
    limit = max(1, min(max_steps, num_frames // min_frames_per_step))
    num_steps = int(
        rng.choice(np.arange(1, limit + 1), p=np.array([0.25, 0.4, 0.35][:limit]) / sum([0.25, 0.4, 0.35][:limit]))
    )
    names = list(ACTIONS)
    chosen: list[list[tuple[str, str]]] = []
    used: set[tuple[str, str]] = set()
    moved = False
    while len(chosen) < num_steps:
        name = names[int(rng.integers(len(names)))]
        spec = ACTIONS[name]
        side = SIDES[int(rng.integers(2))] if spec.sided else "center"
        if (name, side) in used or (moved and "root" in spec.groups):
            continue
        if chosen and chosen[-1][0][0] == name:
            continue
        step = [(name, side)]
        if rng.random() < concurrent_prob:
            groups = spec.resolved_groups(side)
            partners = []
            for other in names:
                other_spec = ACTIONS[other]
                for other_side in SIDES if other_spec.sided else ("center",):
                    if other == name or (other, other_side) in used:
                        continue
                    other_groups = other_spec.resolved_groups(other_side)
                    if groups.isdisjoint(other_groups) and not ("root" in other_groups and moved):
                        partners.append((other, other_side))
            if partners:
                step.append(partners[int(rng.integers(len(partners)))])
        for item in step:
            used.add(item)
            moved = moved or "root" in ACTIONS[item[0]].groups
        chosen.append(step)

    # share the frames: rests first, then at least `min_frames_per_step` per step, the rest by duration
    spare = num_frames - num_steps * min_frames_per_step
    rests = np.zeros(num_steps + 1, dtype=int)
    for slot in rng.permutation(num_steps + 1):
        give = int(rng.integers(0, min(2, spare // 3) + 1)) if spare > 0 else 0
        rests[slot], spare = give, spare - give
    weights = np.array([max(ACTIONS[n].duration for n, _ in step) for step in chosen])
    extra = np.floor(spare * weights / weights.sum()).astype(int)
    extra[-1] += spare - extra.sum()
    lengths = min_frames_per_step + extra
    actions, cursor = [], int(rests[0])
    for index, (step, length) in enumerate(zip(chosen, lengths, strict=True)):
        for name, side in step:
            phases, offsets = _resolve(ACTIONS[name].build(rng, int(length)), side)
            actions.append(ScheduledAction(name, side, cursor, cursor + int(length), index, phases, offsets))
        cursor += int(length) + int(rests[index + 1])
    return MotionScript(actions=actions, num_frames=num_frames, rest_pose=neutral_pose(rng))


def _ry_xz(angle_deg: float, side: float, forward: float) -> tuple[float, float]:
    a = np.deg2rad(angle_deg)
    return float(np.cos(a) * side + np.sin(a) * forward), float(-np.sin(a) * side + np.cos(a) * forward)


def evaluate_script(script: MotionScript) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame poses and horizontal root positions of a script.

    Root translations (`root_side`, `root_forward`) are taken in the body frame the person has when the action
    starts, so a step after a turn goes the way the person then faces.

    Returns:
        `tuple[np.ndarray, np.ndarray]`: poses `(F, P)` (degrees; `POSE_PARAMS` order) and root offsets `(F, 2)`
        (world `x`, `z` in metres), ready for `forward_kinematics`.
    """
    frames = np.arange(script.num_frames, dtype=np.float64)
    yaw_i, side_i, fwd_i = _PARAM["root_yaw"], _PARAM["root_side"], _PARAM["root_forward"]
    offsets = np.stack([np.stack([a.offset_at(t) for t in frames]) for a in script.actions])  # (A, F, P)
    poses = script.rest_pose[None] + offsets.sum(axis=0)  # (F, P)
    roots = np.zeros((script.num_frames, 2))
    for i, action in enumerate(script.actions):
        heading = sum(float(other.offset_at(action.start)[yaw_i]) for j, other in enumerate(script.actions) if j != i)
        for t in range(script.num_frames):
            roots[t] += _ry_xz(heading, offsets[i, t, side_i], offsets[i, t, fwd_i])
    poses[:, side_i] = 0.0
    poses[:, fwd_i] = 0.0
    return poses, roots
