"""Loading the user's SMPL body model, the SMPL joint and body-part tables, and a synthetic stand-in model.

SMPL is licensed by the Max Planck Institute: the user downloads it (https://smpl.is.tue.mpg.de) and points
`--smpl-dir` at it; this project never ships or fetches the files. The `.npz` form (plain arrays) is loaded with
`allow_pickle=False`. The `.pkl` form is a Python pickle, which can run arbitrary code when loaded, so it is only read
when the caller passes `allow_pickle=True`.

`make_synthetic_smpl_npz` writes a file in the SMPL layout made of tubes around a plausible skeleton. It is a
stand-in for tests and benchmarks (it has SMPL's array names, shapes and, by default, its vertex count), not a body
model.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path

import numpy as np
import smplx
import torch
from smplx.lbs import batch_rigid_transform, batch_rodrigues, lbs
from smplx.utils import Struct
from smplx.vertex_ids import vertex_ids as SMPLX_VERTEX_IDS

__all__ = [
    "BODY_PARTS",
    "SMPL_JOINT_NAMES",
    "SMPL_JOINT_PARTS",
    "SMPL_PARENTS",
    "SmplBodyModel",
    "expected_smpl_file_names",
    "load_smpl_model",
    "make_synthetic_smpl_npz",
    "vertex_part_ids",
]

logger = logging.getLogger(__name__)

SMPL_JOINT_NAMES: tuple[str, ...] = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hand",
    "right_hand",
)

# Kinematic tree of SMPL (parent of each joint, -1 for the root).
SMPL_PARENTS: tuple[int, ...] = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)

# Body parts the renderer colours, as `(part, side)` keys of `macm.processing.skeleton.PART_COLORS` (the same table
# the skeleton renderer uses): left and right are separate parts so they can be told apart.
BODY_PARTS: tuple[tuple[str, str], ...] = (
    ("torso", "center"),
    ("head", "center"),
    ("upper_arm", "left"),
    ("forearm", "left"),
    ("hand", "left"),
    ("upper_arm", "right"),
    ("forearm", "right"),
    ("hand", "right"),
    ("thigh", "left"),
    ("shin", "left"),
    ("foot", "left"),
    ("thigh", "right"),
    ("shin", "right"),
    ("foot", "right"),
)

# Part (`BODY_PARTS` index) of the surface that follows each joint: a vertex belongs to the joint with its largest
# skinning weight, and a joint drives the segment below it (the hip joint the thigh, the shoulder the upper arm).
# The collars (clavicles) count as torso, the neck as head.
SMPL_JOINT_PARTS: tuple[int, ...] = (
    0,  # pelvis
    8,  # left_hip -> left thigh
    11,  # right_hip -> right thigh
    0,  # spine1
    9,  # left_knee -> left shin
    12,  # right_knee -> right shin
    0,  # spine2
    10,  # left_ankle -> left foot
    13,  # right_ankle -> right foot
    0,  # spine3
    10,  # left_foot
    13,  # right_foot
    1,  # neck
    0,  # left_collar
    0,  # right_collar
    1,  # head
    2,  # left_shoulder -> left upper arm
    5,  # right_shoulder -> right upper arm
    3,  # left_elbow -> left forearm
    6,  # right_elbow -> right forearm
    4,  # left_wrist -> left hand
    7,  # right_wrist -> right hand
    4,  # left_hand
    7,  # right_hand
)

_GENDERS = ("neutral", "male", "female")
_REQUIRED_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")


def vertex_part_ids(lbs_weights: np.ndarray) -> np.ndarray:
    """Body part of every vertex: the part (`BODY_PARTS` index) of the joint with the largest skinning weight.

    Args:
        lbs_weights (`np.ndarray` of shape `(V, 24)`): SMPL skinning weights.

    Returns:
        `np.ndarray` of shape `(V,)`, `int64`.
    """
    lbs_weights = np.asarray(lbs_weights)
    if lbs_weights.ndim != 2 or lbs_weights.shape[1] != len(SMPL_JOINT_NAMES):
        raise ValueError(f"`lbs_weights` must have shape (V, 24), got {lbs_weights.shape}")
    return np.asarray(SMPL_JOINT_PARTS, dtype=np.int64)[lbs_weights.argmax(axis=1)]


def expected_smpl_file_names(gender: str = "neutral") -> tuple[str, ...]:
    """File names looked for in the SMPL directory, in order of preference."""
    if gender not in _GENDERS:
        raise ValueError(f"`gender` must be one of {_GENDERS}, got {gender!r}")
    return (f"SMPL_{gender.upper()}.npz", f"SMPL_{gender.upper()}.pkl")


def _find_model_file(smpl_dir: Path, gender: str) -> Path:
    if smpl_dir.is_file():
        return smpl_dir
    if not smpl_dir.exists():
        raise FileNotFoundError(
            f"SMPL directory {str(smpl_dir)!r} does not exist. Download SMPL from https://smpl.is.tue.mpg.de (under "
            f"its licence) and put {' or '.join(expected_smpl_file_names(gender))} in that directory."
        )
    # smplx's own layout keeps the files in an `smpl/` sub-folder; accept both.
    folders = [smpl_dir, smpl_dir / "smpl"]
    for name in expected_smpl_file_names(gender):
        for folder in folders:
            if (folder / name).is_file():
                return folder / name
    raise FileNotFoundError(
        f"No SMPL model file in {str(smpl_dir)!r} (also looked in its `smpl/` sub-folder): expected one of "
        f"{list(expected_smpl_file_names(gender))}. Download SMPL from https://smpl.is.tue.mpg.de and rename the "
        f"{gender} model to that name."
    )


def _read_model_arrays(path: Path, allow_pickle: bool) -> dict:
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            missing = [key for key in _REQUIRED_KEYS if key not in data]
            if missing:
                raise ValueError(f"SMPL file {str(path)!r} lacks the arrays {missing} (has {sorted(data.files)})")
            return {key: data[key] for key in _REQUIRED_KEYS}
    if path.suffix == ".pkl":
        if not allow_pickle:
            raise ValueError(
                f"Refusing to load {str(path)!r}: a .pkl file is a Python pickle and loading it can run arbitrary "
                "code. Convert it to .npz (the same arrays saved with numpy.savez) or, if you trust the file, pass "
                "allow_pickle=True (--allow-pickle)."
            )
        import pickle

        with open(path, "rb") as handle:
            data = pickle.load(handle, encoding="latin1")
        missing = [key for key in _REQUIRED_KEYS if key not in data]
        if missing:
            raise ValueError(f"SMPL file {str(path)!r} lacks the entries {missing}")
        # The original release stores some arrays as chumpy objects or scipy sparse matrices.
        arrays = {}
        for key in _REQUIRED_KEYS:
            value = data[key]
            if hasattr(value, "todense"):
                value = value.todense()
            arrays[key] = np.asarray(getattr(value, "r", value))
        return arrays
    raise ValueError(f"SMPL model file must be .npz or .pkl, got {str(path)!r}")


class SmplBodyModel(torch.nn.Module):
    """An SMPL body model (loaded with `smplx`) with the pieces body fitting and rendering need.

    Joints do not depend on the pose blend shapes in SMPL, so `forward_joints` skips the vertices entirely; fitting
    runs on joints and `forward` computes the mesh once at the end.

    Args:
        smpl (`smplx.SMPL`): the loaded model.
    """

    def __init__(self, smpl: smplx.SMPL):
        super().__init__()
        self.smpl = smpl
        shapedirs = smpl.shapedirs  # (V, 3, B)
        joint_template = smpl.J_regressor @ smpl.v_template  # (24, 3)
        joint_shapedirs = torch.einsum("jv,vcb->jcb", smpl.J_regressor, shapedirs)  # (24, 3, B)
        self.register_buffer("joint_template", joint_template, persistent=False)
        self.register_buffer("joint_shapedirs", joint_shapedirs, persistent=False)
        self.faces = np.asarray(smpl.faces, dtype=np.int64)
        self.part_ids = vertex_part_ids(smpl.lbs_weights.numpy())

    @property
    def num_betas(self) -> int:
        return int(self.smpl.num_betas)

    @property
    def num_vertices(self) -> int:
        return int(self.smpl.v_template.shape[0])

    def _full_pose(self, body_pose: torch.Tensor, global_orient: torch.Tensor) -> torch.Tensor:
        if body_pose.shape[-1] != 69 or global_orient.shape[-1] != 3:
            raise ValueError(
                f"`body_pose` must be (N, 69) and `global_orient` (N, 3), got {tuple(body_pose.shape)} and "
                f"{tuple(global_orient.shape)}"
            )
        return torch.cat([global_orient, body_pose], dim=-1)

    def forward_joints(
        self, betas: torch.Tensor, body_pose: torch.Tensor, global_orient: torch.Tensor, transl: torch.Tensor
    ) -> torch.Tensor:
        """Posed joints without the mesh.

        Args:
            betas (`torch.Tensor` of shape `(N, num_betas)`), body_pose (`(N, 69)` axis-angle),
            global_orient (`(N, 3)` axis-angle), transl (`(N, 3)`).

        Returns:
            `torch.Tensor` of shape `(N, 24, 3)`.
        """
        full_pose = self._full_pose(body_pose, global_orient)
        num = full_pose.shape[0]
        rest = self.joint_template + torch.einsum("jcb,nb->njc", self.joint_shapedirs, betas)  # (N, 24, 3)
        rot_mats = batch_rodrigues(full_pose.reshape(-1, 3)).reshape(num, -1, 3, 3)
        posed, _ = batch_rigid_transform(rot_mats, rest, self.smpl.parents, dtype=rest.dtype)
        return posed + transl[:, None]

    def forward(
        self, betas: torch.Tensor, body_pose: torch.Tensor, global_orient: torch.Tensor, transl: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Posed mesh and joints (same arguments as `forward_joints`).

        Returns:
            `tuple`: vertices `(N, V, 3)` and joints `(N, 24, 3)`.
        """
        full_pose = self._full_pose(body_pose, global_orient)
        smpl = self.smpl
        vertices, joints = lbs(
            betas,
            full_pose,
            smpl.v_template,
            smpl.shapedirs,
            smpl.posedirs,
            smpl.J_regressor,
            smpl.parents,
            smpl.lbs_weights,
        )
        return vertices + transl[:, None], joints + transl[:, None]


def load_smpl_model(
    smpl_dir: str | Path,
    gender: str = "neutral",
    num_betas: int = 10,
    allow_pickle: bool = False,
) -> SmplBodyModel:
    """Load the user's SMPL model with `smplx`.

    Args:
        smpl_dir (`str` or `Path`): directory holding `SMPL_NEUTRAL.npz` (or `SMPL_MALE`/`SMPL_FEMALE`, or the `.pkl`
            forms), directly or in an `smpl/` sub-folder; or the model file itself.
        gender (`str`, *optional*, defaults to `"neutral"`): `"neutral"`, `"male"` or `"female"`.
        num_betas (`int`, *optional*, defaults to 10): number of shape coefficients used.
        allow_pickle (`bool`, *optional*, defaults to `False`): allow reading a `.pkl` model, which unpickles
            arbitrary objects. Only set this for files you trust.

    Returns:
        `SmplBodyModel`.
    """
    if num_betas < 1:
        raise ValueError(f"`num_betas` must be >= 1, got {num_betas}")
    path = _find_model_file(Path(smpl_dir).expanduser(), gender)
    arrays = _read_model_arrays(path, allow_pickle=allow_pickle)
    num_vertices = arrays["v_template"].shape[0]
    # smplx adds face/feet/hand-tip joints from fixed vertex ids of the 6890-vertex mesh; keep them valid for
    # models with fewer vertices (such as the synthetic stand-in) so `smpl()` can still be called.
    vertex_ids = {name: min(int(index), num_vertices - 1) for name, index in SMPLX_VERTEX_IDS["smplh"].items()}
    # smplx prints a warning about the shape space to stdout; route it to the log instead.
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        smpl = smplx.SMPL(
            model_path=str(path),
            data_struct=Struct(**arrays),
            num_betas=num_betas,
            gender=gender,
            vertex_ids=vertex_ids,
        )
    if captured.getvalue().strip():
        logger.debug("smplx: %s", captured.getvalue().strip())
    smpl.requires_grad_(False)
    logger.info("Loaded SMPL model %s (%d vertices, %d betas)", path, num_vertices, smpl.num_betas)
    return SmplBodyModel(smpl)


# ---------------------------------------------------------------------------------------------------------------
# Synthetic stand-in
# ---------------------------------------------------------------------------------------------------------------

# Rest-pose joint positions of a plausible adult skeleton in metres (y up, the body faces +z, its left is +x).
_SYNTHETIC_JOINTS = np.array(
    [
        [0.0, 0.0, 0.0],  # pelvis
        [0.07, -0.09, 0.0],
        [-0.07, -0.09, 0.0],
        [0.0, 0.11, -0.01],  # spine1
        [0.1, -0.48, 0.0],
        [-0.1, -0.48, 0.0],
        [0.0, 0.24, 0.01],  # spine2
        [0.09, -0.88, -0.04],
        [-0.09, -0.88, -0.04],
        [0.0, 0.30, 0.02],  # spine3
        [0.11, -0.94, 0.08],
        [-0.11, -0.94, 0.08],
        [0.0, 0.52, -0.01],  # neck
        [0.07, 0.43, 0.0],
        [-0.07, 0.43, 0.0],
        [0.0, 0.60, 0.04],  # head
        [0.17, 0.46, -0.02],
        [-0.17, 0.46, -0.02],
        [0.43, 0.45, -0.04],
        [-0.43, 0.45, -0.04],
        [0.68, 0.45, -0.03],
        [-0.68, 0.45, -0.03],
        [0.77, 0.44, -0.04],
        [-0.77, 0.44, -0.04],
    ]
)
# Where the tubes of leaf joints (feet, head, hands) end, as offsets from the joint.
_LEAF_OFFSETS = {
    10: (0.0, -0.02, 0.12),
    11: (0.0, -0.02, 0.12),
    15: (0.0, 0.16, 0.0),
    22: (0.08, 0, 0),
    23: (-0.08, 0, 0),
}
# Tube radius by body part (`BODY_PARTS` order).
_PART_RADII = (0.09, 0.06, 0.045, 0.04, 0.035, 0.045, 0.04, 0.035, 0.07, 0.05, 0.04, 0.07, 0.05, 0.04)


def _orthonormal_frame(direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    helper = np.array([0.0, 0.0, 1.0]) if abs(direction[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = np.cross(direction, helper)
    u /= np.linalg.norm(u)
    return u, np.cross(direction, u)


def make_synthetic_smpl_npz(path: str | Path, num_vertices: int = 6890, num_betas: int = 10, seed: int = 0) -> Path:
    """Write a synthetic model in SMPL's `.npz` layout: a stand-in for tests and benchmarks, not a body model.

    The mesh is one closed tube per bone of a plausible 24-joint skeleton (plus tubes for the feet, head and hands).
    Each joint's regressor row averages the ring of vertices centred on it, so the regressed rest joints are the
    skeleton's; skinning weights follow the bone (blended with the parent near the joint); the shape space is a
    global scale, a thickness change and smooth random linear deformations; pose blend shapes are small random
    fields. The arrays have SMPL's names, dtypes and shapes (`v_template (V, 3)`, `shapedirs (V, 3, num_betas)`,
    `posedirs (V, 3, 207)`, `J_regressor (24, V)`, `weights (V, 24)`, `kintree_table (2, 24)`, `f (F, 3)`). With
    `S` vertices per ring (8, or 4 below 448 vertices) there are `F = 2 * (V - V % S) - 4 * 28` faces: 13,664 for
    V = 6890 (SMPL has 13,776).

    Args:
        path (`str` or `Path`): output `.npz` file (its folder is created).
        num_vertices (`int`, *optional*, defaults to 6890): vertex count; at least 224.
        num_betas (`int`, *optional*, defaults to 10): shape components.
        seed (`int`, *optional*, defaults to 0): seed of the random shape and pose fields.

    Returns:
        `Path` of the written file.
    """
    bones = [(SMPL_PARENTS[j], j, _SYNTHETIC_JOINTS[SMPL_PARENTS[j]], _SYNTHETIC_JOINTS[j]) for j in range(1, 24)]
    bones += [(j, None, _SYNTHETIC_JOINTS[j], _SYNTHETIC_JOINTS[j] + np.array(o)) for j, o in _LEAF_OFFSETS.items()]
    segments = 8 if num_vertices >= 2 * 8 * len(bones) else 4
    if num_vertices < 2 * segments * len(bones):
        raise ValueError(f"`num_vertices` must be at least {2 * segments * len(bones)}, got {num_vertices}")
    if num_betas < 1:
        raise ValueError(f"`num_betas` must be >= 1, got {num_betas}")
    rng = np.random.default_rng(seed)

    # Rings per bone: two each, the rest in proportion to bone length.
    lengths = np.array([np.linalg.norm(end - start) for _, _, start, end in bones])
    spare = num_vertices // segments - 2 * len(bones)
    rings = 2 + np.floor(spare * lengths / lengths.sum()).astype(int)
    rings[: spare - (rings - 2).sum()] += 1

    vertices, weights, faces, radial = [], [], [], []
    regressor = np.zeros((24, num_vertices))
    angles = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    for (owner, child, start, end), num_rings in zip(bones, rings, strict=True):
        direction = (end - start) / np.linalg.norm(end - start)
        u, v = _orthonormal_frame(direction)
        radius = _PART_RADII[SMPL_JOINT_PARTS[owner]]
        base = len(vertices)
        for r, t in enumerate(np.linspace(0.0, 1.0, num_rings)):
            centre = start + t * (end - start)
            offsets = np.cos(angles)[:, None] * u + np.sin(angles)[:, None] * v
            ring_index = base + r * segments + np.arange(segments)
            vertices.extend(centre + radius * offsets)
            radial.extend(offsets)
            row = np.zeros(24)
            parent = SMPL_PARENTS[owner]
            blend = 0.4 * max(0.0, 1.0 - t / 0.25) if parent >= 0 else 0.0
            row[owner] = 1.0 - blend
            if blend > 0:
                row[parent] = blend
            weights.extend([row] * segments)
            if r == 0 and owner == 0 and child == 3:
                regressor[0, ring_index] = 1.0 / segments
            if r == num_rings - 1 and child is not None:
                regressor[child, ring_index] = 1.0 / segments
            if r > 0:
                previous = ring_index - segments
                for s in range(segments):
                    n = (s + 1) % segments
                    faces.append((previous[s], previous[n], ring_index[n]))
                    faces.append((previous[s], ring_index[n], ring_index[s]))
        first, last = base, base + (num_rings - 1) * segments
        for s in range(1, segments - 1):  # cap both ends with fans
            faces.append((first, first + s + 1, first + s))
            faces.append((last, last + s, last + s + 1))
    # Vertices left over after whole rings sit on the pelvis (kept so the count is exactly `num_vertices`).
    for _ in range(num_vertices - len(vertices)):
        vertices.append(_SYNTHETIC_JOINTS[0].copy())
        radial.append(np.zeros(3))
        row = np.zeros(24)
        row[0] = 1.0
        weights.append(row)
    v_template = np.asarray(vertices)
    radial = np.asarray(radial)

    shapedirs = np.zeros((num_vertices, 3, num_betas))
    shapedirs[:, :, 0] = 0.05 * v_template  # overall size
    if num_betas > 1:
        shapedirs[:, :, 1] = 0.01 * radial  # thickness
    for k in range(2, num_betas):
        shapedirs[:, :, k] = v_template @ (0.03 * rng.standard_normal((3, 3))).T
    posedirs = 1e-3 * rng.standard_normal((num_vertices, 3, 207))
    kintree_table = np.array([[np.uint32(4294967295)] + list(SMPL_PARENTS[1:]), list(range(24))], dtype=np.uint32)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        v_template=v_template.astype(np.float64),
        shapedirs=shapedirs.astype(np.float64),
        posedirs=posedirs.astype(np.float64),
        J_regressor=regressor.astype(np.float64),
        weights=np.asarray(weights, dtype=np.float64),
        kintree_table=kintree_table,
        f=np.asarray(faces, dtype=np.uint32),
    )
    return path
