"""Body recovery: the user's SMPL model, fitting it to keyframe keypoints, and drawing the mesh over the frame."""

from .fit import SmplFit, SmplFitConfig, fit_smpl, fit_smpl_to_track, keypoints_to_smpl_targets
from .mesh_render import rasterize_triangles, render_mesh
from .smpl_model import (
    BODY_PARTS,
    SMPL_JOINT_NAMES,
    SmplBodyModel,
    load_smpl_model,
    make_synthetic_smpl_npz,
    vertex_part_ids,
)

__all__ = [
    "BODY_PARTS",
    "SMPL_JOINT_NAMES",
    "SmplBodyModel",
    "SmplFit",
    "SmplFitConfig",
    "fit_smpl",
    "fit_smpl_to_track",
    "keypoints_to_smpl_targets",
    "load_smpl_model",
    "make_synthetic_smpl_npz",
    "rasterize_triangles",
    "render_mesh",
    "vertex_part_ids",
]
