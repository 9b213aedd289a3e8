"""Drawing a posed mesh over an RGB frame: a z-buffered triangle rasteriser in numpy, Lambert shading, part colours.

The rasteriser works on many triangles at once: triangles are grouped by bounding-box size, each group's boxes
are laid out as a dense grid of pixel centres, barycentric coordinates keep the pixels inside, depth is interpolated,
and a per-pixel minimum (`np.minimum.at`) makes the z-buffer. Groups are processed in chunks so memory stays
bounded. Colours come from
`macm.processing.skeleton.PART_COLORS` (the table the skeleton renderer uses), indexed by `BODY_PARTS`, so left and
right limbs differ (left warm, right cool) in both styles.
"""

from __future__ import annotations

import math

import numpy as np

from ..skeleton import PART_COLORS
from .smpl_model import BODY_PARTS

__all__ = ["MESH_PART_COLORS", "rasterize_triangles", "render_mesh"]

# RGB colour of each `BODY_PARTS` entry.
MESH_PART_COLORS: np.ndarray = np.array([PART_COLORS[part] for part in BODY_PARTS], dtype=np.float32)

_CHUNK = 1_000_000  # candidate pixels per batch
_EDGE_EPS = 1e-5  # pixel centres on an edge (up to float32 rounding) count as inside


def rasterize_triangles(
    vertices_2d: np.ndarray, depth: np.ndarray, faces: np.ndarray, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which triangle is nearest at every pixel.

    A pixel `(x, y)` is covered when its centre (the integer coordinates) lies inside or on the projected triangle; depth
    is interpolated linearly in the image. Triangles with a vertex at depth <= 0 (behind the camera) or with a
    non-finite coordinate are skipped.

    Args:
        vertices_2d (`np.ndarray` of shape `(V, 2)`): x, y in pixels.
        depth (`np.ndarray` of shape `(V,)`): distance along the camera axis (larger is farther).
        faces (`np.ndarray` of shape `(T, 3)`): vertex indices.
        height (`int`), width (`int`): image size.

    Returns:
        `tuple`: `face_index` `(H, W)` `int64` (-1 where empty) and `zbuffer` `(H, W)` `float32` (inf where empty).
    """
    vertices_2d = np.asarray(vertices_2d, dtype=np.float64)
    depth = np.asarray(depth, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    if vertices_2d.ndim != 2 or vertices_2d.shape[1] != 2:
        raise ValueError(f"`vertices_2d` must have shape (V, 2), got {vertices_2d.shape}")
    if depth.shape != (vertices_2d.shape[0],):
        raise ValueError(f"`depth` must have shape ({vertices_2d.shape[0]},), got {depth.shape}")
    if faces.ndim != 2 or faces.shape[1] != 3:
        raise ValueError(f"`faces` must have shape (T, 3), got {faces.shape}")
    if faces.size and (faces.min() < 0 or faces.max() >= vertices_2d.shape[0]):
        raise ValueError(
            f"`faces` index vertices in [{faces.min()}, {faces.max()}] but there are {vertices_2d.shape[0]}"
        )

    zbuffer = np.full(height * width, np.inf, dtype=np.float32)
    face_index = np.full(height * width, -1, dtype=np.int64)
    tri = vertices_2d[faces]  # (T, 3, 2)
    tri_z = depth[faces]  # (T, 3)
    x0, y0 = tri[:, 0, 0], tri[:, 0, 1]
    x1, y1 = tri[:, 1, 0], tri[:, 1, 1]
    x2, y2 = tri[:, 2, 0], tri[:, 2, 1]
    area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    with np.errstate(invalid="ignore"):
        xmin = np.clip(np.ceil(tri[..., 0].min(1)), 0, width - 1)
        xmax = np.clip(np.floor(tri[..., 0].max(1)), 0, width - 1)
        ymin = np.clip(np.ceil(tri[..., 1].min(1)), 0, height - 1)
        ymax = np.clip(np.floor(tri[..., 1].max(1)), 0, height - 1)
        keep = (
            np.isfinite(tri).all((1, 2))
            & np.isfinite(tri_z).all(1)
            & (tri_z > 0).all(1)
            & (np.abs(area) > 1e-12)
            & (tri[..., 0].max(1) >= 0)
            & (tri[..., 0].min(1) <= width - 1)
            & (tri[..., 1].max(1) >= 0)
            & (tri[..., 1].min(1) <= height - 1)
        )
    ids = np.flatnonzero(keep & (xmax >= xmin) & (ymax >= ymin))
    if len(ids) == 0:
        return face_index.reshape(height, width), zbuffer.reshape(height, width).astype(np.float32)
    xmin, xmax, ymin, ymax = (a[ids].astype(np.int64) for a in (xmin, xmax, ymin, ymax))
    inv_area = 1.0 / area[ids]
    # Barycentric weight of vertex k at a pixel (x, y) is a_k * (x - xmin) + b_k * (y - ymin) + c_k (edge functions
    # over the area, relative to the box corner so float32 keeps its precision).
    xs, ys = tri[ids, :, 0], tri[ids, :, 1]
    coef = np.empty((3, 3, len(ids)), dtype=np.float32)
    for k in range(3):
        i, j = (k + 1) % 3, (k + 2) % 3
        a_k = (ys[:, i] - ys[:, j]) * inv_area
        b_k = (xs[:, j] - xs[:, i]) * inv_area
        c_k = (xs[:, i] * ys[:, j] - xs[:, j] * ys[:, i]) * inv_area
        coef[k] = (a_k, b_k, c_k + a_k * xmin + b_k * ymin)
    z = tri_z[ids].astype(np.float32)
    # Triangles are grouped by their box size rounded up to powers of two, and each group is rasterised on a dense
    # (triangles, box height, box width) grid with broadcasting; no per-pixel gathers.
    box_w = xmax - xmin + 1
    box_h = ymax - ymin + 1
    pow_w = 1 << np.ceil(np.log2(box_w)).astype(np.int64)
    pow_h = 1 << np.ceil(np.log2(box_h)).astype(np.int64)
    for key in np.unique(pow_h * 65536 + pow_w):
        grid_h, grid_w = int(key // 65536), int(key % 65536)
        group = np.flatnonzero((pow_h == grid_h) & (pow_w == grid_w))
        step = max(1, _CHUNK // (grid_h * grid_w))
        lx = np.arange(grid_w, dtype=np.float32)[None, None, :]
        ly = np.arange(grid_h, dtype=np.float32)[None, :, None]
        for begin in range(0, len(group), step):
            t = group[begin : begin + step]
            c = coef[:, :, t, None, None]  # (3, 3, T, 1, 1)
            w0 = c[0, 0] * lx + c[0, 1] * ly + c[0, 2]  # (T, grid_h, grid_w)
            w1 = c[1, 0] * lx + c[1, 1] * ly + c[1, 2]
            w2 = 1.0 - w0 - w1
            inside = (w0 >= -_EDGE_EPS) & (w1 >= -_EDGE_EPS) & (w2 >= -_EDGE_EPS)
            inside &= (lx < box_w[t, None, None]) & (ly < box_h[t, None, None])
            tri_i, row, col = np.nonzero(inside)
            zt = z[t]
            pz = w0[inside] * zt[tri_i, 0] + w1[inside] * zt[tri_i, 1] + w2[inside] * zt[tri_i, 2]
            pixel = (ymin[t][tri_i] + row) * width + xmin[t][tri_i] + col
            face = ids[t][tri_i]
            np.minimum.at(zbuffer, pixel, pz)
            winner = pz <= zbuffer[pixel]
            face_index[pixel[winner]] = face[winner]
    return face_index.reshape(height, width), zbuffer.reshape(height, width).astype(np.float32)


def render_mesh(
    rgb: np.ndarray,
    vertices_2d: np.ndarray,
    depth: np.ndarray,
    faces: np.ndarray,
    part_ids: np.ndarray,
    alpha: float = 0.6,
    focal_length: float | None = None,
    ambient: float = 0.35,
) -> np.ndarray:
    """Draw a mesh, coloured per body part and Lambert-shaded, semi-transparently over a frame.

    Shading uses face normals of the mesh rebuilt from the image: `(x, y, depth * f / mean_depth)`, the local
    perspective scale, with the light at the camera (two-sided, so the triangle winding does not matter).

    Args:
        rgb (`np.ndarray` of shape `(H, W, 3)`, `uint8`): the frame.
        vertices_2d (`np.ndarray` of shape `(V, 2)`): projected vertices, pixels.
        depth (`np.ndarray` of shape `(V,)`): vertex depth (metres, larger is farther).
        faces (`np.ndarray` of shape `(T, 3)`): triangles.
        part_ids (`np.ndarray` of shape `(V,)`): `BODY_PARTS` index of each vertex; a triangle takes its first
            vertex's part.
        alpha (`float`, *optional*, defaults to 0.6): opacity of the mesh.
        focal_length (`float`, *optional*): the camera's focal length in pixels; defaults to the image diagonal.
        ambient (`float`, *optional*, defaults to 0.35): light that reaches faces seen edge-on.

    Returns:
        `np.ndarray` of shape `(H, W, 3)`, `uint8`: `(1 - alpha) * frame + alpha * shaded colour` on the mesh, the
        frame elsewhere.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"`rgb` must be an (H, W, 3) uint8 image, got shape {rgb.shape} and dtype {rgb.dtype}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"`alpha` must be in [0, 1], got {alpha}")
    part_ids = np.asarray(part_ids, dtype=np.int64)
    if part_ids.shape != (np.asarray(vertices_2d).shape[0],):
        raise ValueError(f"`part_ids` must have shape ({np.asarray(vertices_2d).shape[0]},), got {part_ids.shape}")
    if part_ids.size and (part_ids.min() < 0 or part_ids.max() >= len(BODY_PARTS)):
        raise ValueError(f"`part_ids` must be in [0, {len(BODY_PARTS)}), got [{part_ids.min()}, {part_ids.max()}]")
    height, width = rgb.shape[:2]
    face_index, _ = rasterize_triangles(vertices_2d, depth, faces, height, width)
    covered = face_index >= 0
    if not covered.any():
        return rgb.copy()

    faces = np.asarray(faces, dtype=np.int64)
    vertices_2d = np.asarray(vertices_2d, dtype=np.float64)
    depth = np.asarray(depth, dtype=np.float64)
    focal = focal_length if focal_length is not None else math.hypot(height, width)
    visible_depth = depth[np.isfinite(depth) & (depth > 0)]
    z_scale = focal / max(float(visible_depth.mean()), 1e-6) if visible_depth.size else 1.0
    points = np.concatenate([vertices_2d, depth[:, None] * z_scale], axis=1)[faces]  # (T, 3, 3)
    normals = np.cross(points[:, 1] - points[:, 0], points[:, 2] - points[:, 0])
    lengths = np.linalg.norm(normals, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        facing = np.abs(normals[:, 2]) / lengths
    shade = ambient + (1.0 - ambient) * np.nan_to_num(facing)  # (T,)
    face_colors = MESH_PART_COLORS[part_ids[faces[:, 0]]] * shade[:, None].astype(np.float32)  # (T, 3)

    out = rgb.copy()
    hit = face_index[covered]
    blended = (1.0 - alpha) * rgb[covered].astype(np.float32) + alpha * face_colors[hit]
    out[covered] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return out
