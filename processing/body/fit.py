"""Fitting SMPL to the keypoints of a clip's keyframes.

The fit optimises, with L-BFGS on CPU, per keyframe the body pose (23 joints, axis-angle), global orientation and
translation (camera frame: x right, y down, z forward, metres), and one set of shape coefficients for the whole clip,
to match

- metric 3D joints (e.g. BlazePose world landmarks: hip-centred, camera-aligned axes), compared after removing each
  frame's weighted centroid, so only the body's shape and orientation count; and/or
- 2D keypoints in pixels through a pinhole camera (focal length from the image diagonal unless given, principal
  point at the image centre). The camera translation starts from a linear least-squares solve of the 2D-3D
  correspondences.

Regularisers (there is no learned pose prior: VPoser or the SMPLify GMM cannot be downloaded here):

- a zero-mean isotropic Gaussian (L2) prior on the body pose and on the shape coefficients;
- joint-angle limits on knees and elbows: a squared hinge on bending the wrong way (SMPLify's four angles);
- temporal smoothness between consecutive keyframes: L2 on the pose difference and on the change of the root-relative
  joints, down-weighted by `exp(-dt / smoothness_time_scale)` when timestamps are given (keyframes far apart in time
  are barely tied).

Frames are first fitted one by one, each warm-started from the previous keyframe's pose (its orientation from a
Kabsch alignment of the torso when 3D joints are given), with the shape fixed; then all keyframes are refined together
with the shared shape and the smoothness term. Only the joints are evaluated during optimisation (SMPL joints do not
depend on pose blend shapes); the mesh is posed once at the end, projected, and returned with faces and per-vertex
body parts for the renderer.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch

from ..pose.types import PoseTrack
from .smpl_model import SMPL_JOINT_NAMES, SmplBodyModel

__all__ = [
    "SMPL_KEYPOINT_SOURCES",
    "SmplFit",
    "SmplFitConfig",
    "fit_smpl",
    "fit_smpl_to_track",
    "keypoints_to_smpl_targets",
]

logger = logging.getLogger(__name__)

# How each SMPL joint is read from a keypoint layout, by keypoint name: candidate sources in order of preference,
# each `(names averaged, weight)`. A layout with SMPL's own joint names uses them directly; COCO-17 and BlazePose-33
# use the nearest anatomical landmarks. The approximations (shoulder centre for the neck, ear centre for the head,
# toe for the foot, finger bases for the hand) sit a few centimetres from the SMPL joint, so they get lower weights.
# Spine and collar joints have no landmark and are left to the prior.
SMPL_KEYPOINT_SOURCES: dict[str, tuple[tuple[tuple[str, ...], float], ...]] = {
    "pelvis": ((("pelvis",), 1.0), (("left_hip", "right_hip"), 1.0)),
    "spine1": ((("spine1",), 1.0),),
    "spine2": ((("spine2",), 1.0),),
    "spine3": ((("spine3",), 1.0),),
    "neck": ((("neck",), 1.0), (("left_shoulder", "right_shoulder"), 0.5)),
    "left_collar": ((("left_collar",), 1.0),),
    "right_collar": ((("right_collar",), 1.0),),
    "head": ((("head",), 1.0), (("left_ear", "right_ear"), 0.5), (("nose",), 0.3)),
    "left_foot": ((("left_foot",), 1.0), (("left_foot_index",), 0.5)),
    "right_foot": ((("right_foot",), 1.0), (("right_foot_index",), 0.5)),
    "left_hand": ((("left_hand",), 1.0), (("left_index", "left_pinky"), 0.5)),
    "right_hand": ((("right_hand",), 1.0), (("right_index", "right_pinky"), 0.5)),
    **{
        name: (((name,), 1.0),)
        for name in SMPL_JOINT_NAMES
        if name.split("_", 1)[-1] in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")
    },
}

_TORSO = [
    SMPL_JOINT_NAMES.index(n) for n in ("pelvis", "left_hip", "right_hip", "neck", "left_shoulder", "right_shoulder")
]
# SMPLify's joint-angle limits: (body_pose index, sign); `sign * angle > 0` bends the wrong way.
_ANGLE_LIMITS = ((17 * 3 + 1, 1.0), (18 * 3 + 1, -1.0), (3 * 3, -1.0), (4 * 3, -1.0))


@dataclass
class SmplFitConfig:
    """Settings of `fit_smpl`. Loss terms are normalised so that the defaults work for metres and pixels.

    Args:
        focal_length (`float`, *optional*): pinhole focal length in pixels; defaults to the image diagonal.
        warm_start_iters (`int`, *optional*, defaults to 20): L-BFGS iterations per keyframe in the sequential pass.
        joint_iters (`int`, *optional*, defaults to 200): L-BFGS iterations of the joint refinement of all keyframes.
        sigma_3d (`float`, *optional*, defaults to 0.05): 3D joint error in metres that costs as much as 1 unit.
        sigma_2d (`float`, *optional*, defaults to 0.02): 2D error, as a fraction of the image's longer side, that
            costs 1 unit.
        weight_2d (`float`, *optional*, defaults to 1.0): weight of the 2D term when 3D joints are given too.
        pose_prior_weight (`float`, *optional*, defaults to 0.05): weight of the L2 prior on the body pose (radians).
        shape_prior_weight (`float`, *optional*, defaults to 0.05): weight of the L2 prior on the shape coefficients.
        angle_limit_weight (`float`, *optional*, defaults to 10.0): weight of the knee/elbow hyper-extension hinge.
        smoothness_weight (`float`, *optional*, defaults to 0.05): weight of the temporal smoothness term.
        smoothness_time_scale (`float`, *optional*, defaults to 0.5): seconds over which the smoothness tie decays.
        min_confidence (`float`, *optional*, defaults to 0.2): keypoints with lower scores are ignored.
    """

    focal_length: float | None = None
    warm_start_iters: int = 20
    joint_iters: int = 200
    sigma_3d: float = 0.05
    sigma_2d: float = 0.02
    weight_2d: float = 1.0
    pose_prior_weight: float = 0.05
    shape_prior_weight: float = 0.05
    angle_limit_weight: float = 10.0
    smoothness_weight: float = 0.05
    smoothness_time_scale: float = 0.5
    min_confidence: float = 0.2

    def __post_init__(self):
        for name in ("warm_start_iters", "joint_iters"):
            if getattr(self, name) < 0:
                raise ValueError(f"`{name}` must be >= 0, got {getattr(self, name)}")
        for name in ("sigma_3d", "sigma_2d", "smoothness_time_scale"):
            if not getattr(self, name) > 0:
                raise ValueError(f"`{name}` must be > 0, got {getattr(self, name)}")
        if self.focal_length is not None and not self.focal_length > 0:
            raise ValueError(f"`focal_length` must be > 0, got {self.focal_length}")


@dataclass
class SmplFit:
    """SMPL fitted to `F` keyframes. Coordinates are in the camera frame (x right, y down, z forward, metres).

    Args:
        betas (`np.ndarray` of shape `(num_betas,)`): shape coefficients shared by the clip.
        body_pose (`np.ndarray` of shape `(F, 69)`): axis-angle of the 23 body joints.
        global_orient (`np.ndarray` of shape `(F, 3)`): axis-angle of the root.
        transl (`np.ndarray` of shape `(F, 3)`): translation.
        joints (`np.ndarray` of shape `(F, 24, 3)`): posed SMPL joints.
        vertices (`np.ndarray` of shape `(F, V, 3)`): posed mesh.
        faces (`np.ndarray` of shape `(T, 3)`): mesh triangles.
        part_ids (`np.ndarray` of shape `(V,)`): body part of each vertex (`BODY_PARTS` index).
        joint_error_3d (`np.ndarray` of shape `(F,)`): weighted mean distance (metres) to the 3D targets after
            centroid alignment; NaN where the frame had no 3D targets.
        reprojection_error_2d (`np.ndarray` of shape `(F,)`): weighted mean 2D distance (pixels); NaN without 2D.
        vertices_2d (`np.ndarray` of shape `(F, V, 2)`, *optional*): projected vertices in pixels (with 2D input).
        depth (`np.ndarray` of shape `(F, V)`, *optional*): vertex depth along the camera axis, metres.
        focal_length (`float`, *optional*): the camera's focal length in pixels.
        principal_point (`tuple[float, float]`, *optional*): the camera's (cx, cy) in pixels.
    """

    betas: np.ndarray
    body_pose: np.ndarray
    global_orient: np.ndarray
    transl: np.ndarray
    joints: np.ndarray
    vertices: np.ndarray
    faces: np.ndarray
    part_ids: np.ndarray
    joint_error_3d: np.ndarray
    reprojection_error_2d: np.ndarray
    vertices_2d: np.ndarray | None = None
    depth: np.ndarray | None = None
    focal_length: float | None = None
    principal_point: tuple[float, float] | None = None
    extras: dict = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.body_pose.shape[0])

    def mesh(self, index: int) -> dict[str, np.ndarray]:
        """What `macm.processing.render.render_motion_frame(style="mesh")` reads for keyframe `index`."""
        if self.vertices_2d is None or self.depth is None:
            raise ValueError("This fit has no camera projection: pass 2D keypoints and `image_size` to `fit_smpl`")
        return {
            "vertices_2d": self.vertices_2d[index],
            "depth": self.depth[index],
            "faces": self.faces,
            "part_ids": self.part_ids,
        }


def keypoints_to_smpl_targets(
    keypoints: np.ndarray, keypoint_names: Sequence[str], scores: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read SMPL joint targets from keypoints of any named layout (see `SMPL_KEYPOINT_SOURCES`).

    Args:
        keypoints (`np.ndarray` of shape `(F, K, D)`): coordinates (D = 2 or 3); NaN where missing.
        keypoint_names (`Sequence[str]` of length `K`): the layout.
        scores (`np.ndarray` of shape `(F, K)`, *optional*): confidences; 1 where finite when not given.

    Returns:
        `tuple`: targets `(F, 24, D)` (0 where missing) and weights `(F, 24)` (0 where missing).
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.ndim != 3 or keypoints.shape[1] != len(keypoint_names):
        raise ValueError(
            f"`keypoints` must have shape (F, {len(keypoint_names)}, D) for {len(keypoint_names)} keypoint names, "
            f"got {keypoints.shape}"
        )
    if scores is None:
        scores = np.ones(keypoints.shape[:2])
    scores = np.where(np.isfinite(keypoints).all(-1), np.nan_to_num(np.asarray(scores, dtype=np.float64)), 0.0)
    index = {name: i for i, name in enumerate(keypoint_names)}
    num_frames, _, dim = keypoints.shape
    targets = np.zeros((num_frames, len(SMPL_JOINT_NAMES), dim))
    weights = np.zeros((num_frames, len(SMPL_JOINT_NAMES)))
    for j, name in enumerate(SMPL_JOINT_NAMES):
        for names, weight in SMPL_KEYPOINT_SOURCES[name]:
            if all(n in index for n in names):
                cols = [index[n] for n in names]
                targets[:, j] = np.nan_to_num(keypoints[:, cols].mean(axis=1))
                weights[:, j] = weight * scores[:, cols].min(axis=1)
                break
    return targets, weights


def _kabsch_rotvec(source: np.ndarray, target: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Axis-angle of the rotation that best maps centred `source` points onto `target` (both `(N, 3)`)."""
    w = weights / weights.sum()
    src = source - (w[:, None] * source).sum(0)
    tgt = target - (w[:, None] * target).sum(0)
    u, _, vt = np.linalg.svd((w[:, None] * src).T @ tgt)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rot = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return cv2.Rodrigues(rot)[0][:, 0]


def _solve_translation(
    joints: np.ndarray, points_2d: np.ndarray, weights: np.ndarray, focal: float, centre
) -> np.ndarray:
    """Camera translation `t` minimising the weighted algebraic reprojection error of `joints + t` (`(N, 3)`)."""
    u = points_2d[:, 0] - centre[0]
    v = points_2d[:, 1] - centre[1]
    w = np.sqrt(weights)
    x, y, z = joints.T
    ones, zeros = np.ones_like(u), np.zeros_like(u)
    # f (x + tx) - u (z + tz) = 0 and f (y + ty) - v (z + tz) = 0, linear in t.
    a = (
        np.concatenate([np.stack([focal * ones, zeros, -u], 1), np.stack([zeros, focal * ones, -v], 1)])
        * np.concatenate([w, w])[:, None]
    )
    b = np.concatenate([u * z - focal * x, v * z - focal * y]) * np.concatenate([w, w])
    t, *_ = np.linalg.lstsq(a, b, rcond=None)
    return t


class _Objective:
    """The fitting loss over a batch of frames; holds targets and weights as tensors."""

    def __init__(
        self,
        model: SmplBodyModel,
        config: SmplFitConfig,
        targets_3d: torch.Tensor | None,
        weights_3d: torch.Tensor | None,
        targets_2d: torch.Tensor | None,
        weights_2d: torch.Tensor | None,
        focal: float,
        centre: tuple[float, float],
        scale_2d: float,
        frame_weights: torch.Tensor,
    ):
        self.model = model
        self.config = config
        self.t3, self.w3 = targets_3d, weights_3d
        self.t2, self.w2 = targets_2d, weights_2d
        self.focal = focal
        self.centre = torch.tensor(centre, dtype=torch.float32)
        self.sigma_2d = config.sigma_2d * scale_2d
        self.pair_weights = frame_weights  # (F - 1,) smoothness weights between consecutive frames

    def project(self, points: torch.Tensor) -> torch.Tensor:
        z = points[..., 2:].clamp(min=1e-2)
        return self.focal * points[..., :2] / z + self.centre

    def terms(self, betas, body_pose, global_orient, transl, rows=slice(None)) -> dict[str, torch.Tensor]:
        config = self.config
        num = body_pose.shape[0]
        joints = self.model.forward_joints(betas.expand(num, -1), body_pose, global_orient, transl)
        terms = {}
        if self.t3 is not None:
            target, weight = self.t3[rows], self.w3[rows]
            norm = weight.sum(1, keepdim=True).clamp(min=1e-8)
            pred_c = joints - (weight[..., None] * joints).sum(1, keepdim=True) / norm[..., None]
            tgt_c = target - (weight[..., None] * target).sum(1, keepdim=True) / norm[..., None]
            terms["joints_3d"] = (weight * ((pred_c - tgt_c) ** 2).sum(-1)).sum() / config.sigma_3d**2 / num
        if self.t2 is not None:
            weight = self.w2[rows] * (config.weight_2d if self.t3 is not None else 1.0)
            err = ((self.project(joints) - self.t2[rows]) ** 2).sum(-1)
            terms["joints_2d"] = (weight * err).sum() / self.sigma_2d**2 / num
        terms["pose_prior"] = config.pose_prior_weight * (body_pose**2).sum() / num
        terms["shape_prior"] = config.shape_prior_weight * (betas**2).sum()
        limits = torch.stack([sign * body_pose[:, index] for index, sign in _ANGLE_LIMITS], 1)
        terms["angle_limits"] = config.angle_limit_weight * (torch.relu(limits) ** 2).sum() / num
        if num > 1 and config.smoothness_weight > 0:
            pair = self.pair_weights
            relative = joints - joints[:, :1]
            pose_step = ((body_pose[1:] - body_pose[:-1]) ** 2).sum(-1)
            joint_step = ((relative[1:] - relative[:-1]) ** 2).sum(-1).mean(-1) / config.sigma_3d**2
            terms["smoothness"] = config.smoothness_weight * (pair * (pose_step + joint_step)).sum() / (num - 1)
        return terms

    def __call__(self, *params, rows=slice(None)) -> torch.Tensor:
        return sum(self.terms(*params, rows=rows).values())


def _minimise(objective, params: list[torch.Tensor], fixed: dict, iters: int, rows=slice(None)) -> None:
    if iters == 0:
        return
    optimizer = torch.optim.LBFGS(
        params,
        lr=1.0,
        max_iter=iters,
        history_size=20,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-9,
        tolerance_change=1e-12,
    )

    def closure():
        optimizer.zero_grad()
        loss = objective(fixed["betas"], fixed["body_pose"], fixed["global_orient"], fixed["transl"], rows=rows)
        loss.backward()
        return loss

    optimizer.step(closure)


@torch.no_grad()
def _rest_joints(model: SmplBodyModel, betas: torch.Tensor) -> np.ndarray:
    zeros = torch.zeros(1, 69)
    return model.forward_joints(betas, zeros, torch.zeros(1, 3), torch.zeros(1, 3))[0].numpy().astype(np.float64)


def fit_smpl(
    model: SmplBodyModel,
    keypoint_names: Sequence[str],
    keypoints_2d: np.ndarray | None = None,
    keypoints_3d: np.ndarray | None = None,
    image_size: tuple[int, int] | None = None,
    timestamps: np.ndarray | None = None,
    config: SmplFitConfig | None = None,
) -> SmplFit:
    """Fit SMPL to the keypoints of `F` keyframes.

    Args:
        model (`SmplBodyModel`): from `load_smpl_model`.
        keypoint_names (`Sequence[str]` of length `K`): layout of the keypoints (COCO-17, BlazePose-33, SMPL's 24
            joint names, ...); see `SMPL_KEYPOINT_SOURCES`.
        keypoints_2d (`np.ndarray` of shape `(F, K, 3)`, *optional*): x, y in pixels and a score.
        keypoints_3d (`np.ndarray` of shape `(F, K, 3)`, *optional*): metric 3D joints in camera-aligned axes
            (x right, y down, z forward); any origin (each frame is centred). Weighted by the 2D scores when given.
        image_size (`tuple[int, int]`, *optional*): (height, width); needed with `keypoints_2d`.
        timestamps (`np.ndarray` of shape `(F,)`, *optional*): seconds; scale the smoothness between keyframes.
        config (`SmplFitConfig`, *optional*): fitting settings.

    Returns:
        `SmplFit`: parameters, joints and mesh per keyframe, and the projected mesh when 2D keypoints are given.
    """
    config = config if config is not None else SmplFitConfig()
    if keypoints_2d is None and keypoints_3d is None:
        raise ValueError("`fit_smpl` needs `keypoints_2d`, `keypoints_3d` or both, got neither")
    names = tuple(keypoint_names)
    targets_3d = weights_3d = targets_2d = weights_2d = None
    if keypoints_2d is not None:
        keypoints_2d = np.asarray(keypoints_2d, dtype=np.float64)
        if keypoints_2d.ndim != 3 or keypoints_2d.shape[2] != 3:
            raise ValueError(f"`keypoints_2d` must have shape (F, K, 3) (x, y, score), got {keypoints_2d.shape}")
        if image_size is None:
            raise ValueError("`image_size` (height, width) is required with `keypoints_2d`")
        scores = np.where(keypoints_2d[..., 2] >= config.min_confidence, keypoints_2d[..., 2], 0.0)
        targets_2d, weights_2d = keypoints_to_smpl_targets(keypoints_2d[..., :2], names, scores)
    if keypoints_3d is not None:
        keypoints_3d = np.asarray(keypoints_3d, dtype=np.float64)
        if keypoints_3d.ndim != 3 or keypoints_3d.shape[2] != 3:
            raise ValueError(f"`keypoints_3d` must have shape (F, K, 3), got {keypoints_3d.shape}")
        if keypoints_2d is not None and keypoints_2d.shape[:2] != keypoints_3d.shape[:2]:
            raise ValueError(
                f"`keypoints_2d` {keypoints_2d.shape} and `keypoints_3d` {keypoints_3d.shape} differ in frames or keypoints"
            )
        scores = None if keypoints_2d is None else np.where(keypoints_2d[..., 2] >= config.min_confidence, 1.0, 0.0)
        targets_3d, weights_3d = keypoints_to_smpl_targets(keypoints_3d, names, scores)
    num_frames = (keypoints_2d if keypoints_2d is not None else keypoints_3d).shape[0]
    if num_frames == 0:
        raise ValueError("No keyframes to fit: the keypoint arrays have 0 frames")
    if timestamps is not None and len(timestamps) != num_frames:
        raise ValueError(f"`timestamps` has {len(timestamps)} entries but there are {num_frames} keyframes")

    if image_size is not None:
        height, width = int(image_size[0]), int(image_size[1])
        focal = config.focal_length if config.focal_length is not None else math.hypot(height, width)
        centre = (width / 2.0, height / 2.0)
        scale_2d = float(max(height, width))
    else:
        focal, centre, scale_2d = 1.0, (0.0, 0.0), 1.0
    if timestamps is not None and num_frames > 1:
        gaps = np.abs(np.diff(np.asarray(timestamps, dtype=np.float64)))
        pair_weights = np.exp(-gaps / config.smoothness_time_scale)
    else:
        pair_weights = np.ones(max(num_frames - 1, 0))

    def tensor(array):
        return None if array is None else torch.tensor(array, dtype=torch.float32)

    objective = _Objective(
        model,
        config,
        tensor(targets_3d),
        tensor(weights_3d),
        tensor(targets_2d),
        tensor(weights_2d),
        focal,
        centre,
        scale_2d,
        tensor(pair_weights),
    )

    # ---- initial guesses and the sequential, warm-started pass (shape fixed at the mean) ----
    betas = torch.zeros(1, model.num_betas)
    body_pose = torch.zeros(num_frames, 69)
    global_orient = torch.zeros(num_frames, 3)
    transl = torch.zeros(num_frames, 3)
    rest = _rest_joints(model, betas)
    previous_pose = torch.zeros(69)
    previous_orient = None
    for f in range(num_frames):
        orient = None
        if targets_3d is not None and weights_3d[f, _TORSO].sum() > 0 and (weights_3d[f, _TORSO] > 0).sum() >= 3:
            orient = _kabsch_rotvec(rest[_TORSO], targets_3d[f, _TORSO], weights_3d[f, _TORSO] + 1e-9)
        elif previous_orient is not None:
            orient = previous_orient
        elif targets_2d is not None:
            # Upright, facing the camera (rotate 180 degrees about x); turned around when the person's left
            # shoulder is on the image's left.
            left, right = SMPL_JOINT_NAMES.index("left_shoulder"), SMPL_JOINT_NAMES.index("right_shoulder")
            facing_away = targets_2d[f, left, 0] < targets_2d[f, right, 0] and weights_2d[f, [left, right]].min() > 0
            orient = np.array([0.0, math.pi, 0.0]) if facing_away else np.array([math.pi, 0.0, 0.0])
        else:
            orient = np.zeros(3)
        global_orient[f] = torch.tensor(orient, dtype=torch.float32)
        body_pose[f] = previous_pose
        with torch.no_grad():
            posed = model.forward_joints(betas, body_pose[f : f + 1], global_orient[f : f + 1], torch.zeros(1, 3))[0]
        posed = posed.numpy().astype(np.float64)
        if targets_2d is not None and (weights_2d[f] > 0).sum() >= 2:
            t = _solve_translation(posed, targets_2d[f], weights_2d[f], focal, centre)
            if not t[2] > 0.5:  # degenerate solve (too few points): a person a few metres away
                t = np.array([0.0, 0.0, 3.0])
            transl[f] = torch.tensor(t, dtype=torch.float32)
        elif targets_3d is not None and weights_3d[f].sum() > 0:
            w = weights_3d[f] / weights_3d[f].sum()
            transl[f] = torch.tensor((w[:, None] * (targets_3d[f] - posed)).sum(0), dtype=torch.float32)
        frame = {
            "betas": betas,
            "body_pose": body_pose[f : f + 1].clone().requires_grad_(True),
            "global_orient": global_orient[f : f + 1].clone().requires_grad_(True),
            "transl": transl[f : f + 1].clone().requires_grad_(True),
        }
        _minimise(
            objective,
            [frame["body_pose"], frame["global_orient"], frame["transl"]],
            frame,
            config.warm_start_iters,
            rows=slice(f, f + 1),
        )
        body_pose[f], global_orient[f], transl[f] = (
            frame["body_pose"][0],
            frame["global_orient"][0],
            frame["transl"][0],
        )
        body_pose, global_orient, transl = body_pose.detach(), global_orient.detach(), transl.detach()
        previous_pose, previous_orient = body_pose[f].clone(), global_orient[f].numpy().astype(np.float64)

    # ---- joint refinement: shared shape, smoothness ----
    params = {
        "betas": betas.clone().requires_grad_(True),
        "body_pose": body_pose.clone().requires_grad_(True),
        "global_orient": global_orient.clone().requires_grad_(True),
        "transl": transl.clone().requires_grad_(True),
    }
    _minimise(objective, list(params.values()), params, config.joint_iters)
    with torch.no_grad():
        final = {key: value.detach() for key, value in params.items()}
        terms = objective.terms(final["betas"], final["body_pose"], final["global_orient"], final["transl"])
        logger.debug("SMPL fit terms: %s", {key: round(float(value), 5) for key, value in terms.items()})
        vertices, _ = model(
            final["betas"].expand(num_frames, -1), final["body_pose"], final["global_orient"], final["transl"]
        )
        joints = model.forward_joints(
            final["betas"].expand(num_frames, -1), final["body_pose"], final["global_orient"], final["transl"]
        )

    joints_np = joints.numpy()
    error_3d = np.full(num_frames, np.nan)
    if targets_3d is not None:
        for f in range(num_frames):
            w = weights_3d[f]
            if w.sum() > 0:
                pred = joints_np[f] - (w[:, None] * joints_np[f]).sum(0) / w.sum()
                tgt = targets_3d[f] - (w[:, None] * targets_3d[f]).sum(0) / w.sum()
                error_3d[f] = (w * np.linalg.norm(pred - tgt, axis=1)).sum() / w.sum()
    error_2d = np.full(num_frames, np.nan)
    vertices_2d = depth = None
    if targets_2d is not None:
        projected = objective.project(joints).numpy()
        for f in range(num_frames):
            w = weights_2d[f]
            if w.sum() > 0:
                error_2d[f] = (w * np.linalg.norm(projected[f] - targets_2d[f], axis=1)).sum() / w.sum()
        vertices_2d = objective.project(vertices).numpy()
        depth = vertices[..., 2].numpy()
    return SmplFit(
        betas=final["betas"][0].numpy(),
        body_pose=final["body_pose"].numpy(),
        global_orient=final["global_orient"].numpy(),
        transl=final["transl"].numpy(),
        joints=joints_np,
        vertices=vertices.numpy(),
        faces=model.faces,
        part_ids=model.part_ids,
        joint_error_3d=error_3d,
        reprojection_error_2d=error_2d,
        vertices_2d=vertices_2d,
        depth=depth,
        focal_length=float(focal) if vertices_2d is not None else None,
        principal_point=centre if vertices_2d is not None else None,
    )


def fit_smpl_to_track(
    model: SmplBodyModel,
    track: PoseTrack,
    keyframe_positions: Sequence[int],
    config: SmplFitConfig | None = None,
) -> SmplFit:
    """Fit SMPL to the keyframes of a `PoseTrack`: its 2D keypoints, and its 3D world keypoints when it has them.

    Args:
        model (`SmplBodyModel`): from `load_smpl_model`.
        track (`PoseTrack`): the clip's pose track.
        keyframe_positions (`Sequence[int]`): rows of the track (positions, not decoded frame indices) to fit.
        config (`SmplFitConfig`, *optional*): fitting settings.

    Returns:
        `SmplFit` with one entry per keyframe, in the given order.
    """
    rows = np.asarray(keyframe_positions, dtype=np.int64)
    if rows.ndim != 1 or len(rows) == 0:
        raise ValueError(f"`keyframe_positions` must be a non-empty 1D list of track rows, got {keyframe_positions!r}")
    if rows.min() < 0 or rows.max() >= track.num_frames:
        raise ValueError(f"`keyframe_positions` must be in [0, {track.num_frames}), got {rows.tolist()}")
    return fit_smpl(
        model,
        track.keypoint_names,
        keypoints_2d=track.keypoints[rows],
        keypoints_3d=None if track.world_keypoints is None else track.world_keypoints[rows],
        image_size=track.image_size,
        timestamps=track.timestamps[rows],
        config=config,
    )
