"""RGB frames of the humanoid: camera, projection, z-buffered shaded capsules and ellipsoids, background.

The clothing is left/right symmetric (one shirt colour for both sleeves, one trouser colour for both legs) and
the light sits in the camera's vertical plane, so the RGB pixels alone do not say which arm is the left one,
least of all from behind. A dark visor on the front of the head and a hair cap on its back show which way the
person faces. Cameras follow OpenCV conventions: `x` right, `y` down, `z` away from the camera.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .humanoid import BodyShape, joint_index

__all__ = [
    "VIEWS",
    "Appearance",
    "Camera",
    "project_points",
    "Scene",
    "render_frame",
    "sample_appearance",
    "sample_camera",
    "sample_scene",
    "view_name",
]

VIEWS: tuple[str, ...] = ("front", "front-left", "left", "back-left", "back", "back-right", "right", "front-right")
SUPERSAMPLE = 2
_LIGHT = np.array([0.0, -0.55, -1.0]) / np.linalg.norm([0.0, -0.55, -1.0])  # towards the light, camera frame

_SKIN = np.array([[255, 219, 172], [241, 194, 125], [224, 172, 105], [198, 134, 66], [141, 85, 36], [92, 56, 28]])
_HAIR = np.array([[20, 16, 14], [70, 45, 25], [120, 85, 50], [200, 170, 110], [160, 160, 160], [120, 40, 20]])


def view_name(azimuth_deg: float) -> str:
    """The side of the person the camera looks at: azimuth 0 is in front, 90 at the person's left, 180 behind."""
    return VIEWS[int(np.floor(((azimuth_deg % 360.0) + 22.5) / 45.0)) % 8]


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return rz @ rx @ ry


def project_points(points: np.ndarray, intrinsics, scale: float = 1.0) -> np.ndarray:
    """`(..., 3)` camera coordinates -> `(..., 2)` pixels of the pinhole `intrinsics` `(fx, fy, cx, cy)`, of an image
    `scale` times the intrinsics' size."""
    fx, fy, cx, cy = intrinsics
    z = np.maximum(points[..., 2], 1e-6)
    return np.stack([fx * points[..., 0] / z + cx, fy * points[..., 1] / z + cy], axis=-1) * scale


@dataclass
class Camera:
    """A pinhole camera per frame (its pose shakes a little; the intrinsics are fixed).

    Args:
        rotations (`np.ndarray` of shape `(F, 3, 3)`): world -> camera rotation per frame.
        position (`np.ndarray` of shape `(3,)`): camera centre in the world.
        intrinsics (`tuple[float, float, float, float]`): `fx, fy, cx, cy` in pixels of a `size` x `size` image.
        size (`int`): image side in pixels.
        azimuth_deg (`float`): where the camera stands around the person (see `view_name`).
    """

    rotations: np.ndarray
    position: np.ndarray
    intrinsics: tuple[float, float, float, float]
    size: int
    azimuth_deg: float

    def to_camera(self, world: np.ndarray) -> np.ndarray:
        """`(F, J, 3)` world points -> `(F, J, 3)` camera coordinates (metres)."""
        return np.einsum("fij,fkj->fki", self.rotations, np.asarray(world) - self.position)

    def project(self, points: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """`(..., 3)` camera coordinates -> `(..., 2)` pixels (of an image `scale` times `size`)."""
        return project_points(points, self.intrinsics, scale)


def sample_camera(
    rng: np.random.Generator,
    joints_world: np.ndarray,
    size: int,
    azimuth_deg: float | None = None,
    shake_deg: float | None = None,
) -> Camera:
    """A camera that frames the whole motion, from a random azimuth (any side, back included) and height.

    Args:
        rng (`np.random.Generator`): randomness.
        joints_world (`np.ndarray` of shape `(F, J, 3)`): the motion to frame.
        size (`int`): image side in pixels.
        azimuth_deg (`float`, *optional*): fixed azimuth; drawn uniformly in [0, 360) otherwise.
        shake_deg (`float`, *optional*): amplitude of the hand-held shake; drawn in [0, 0.6] degrees otherwise.
    """
    azimuth = float(rng.uniform(0.0, 360.0)) if azimuth_deg is None else float(azimuth_deg)
    shake = float(rng.uniform(0.0, 0.6)) if shake_deg is None else float(shake_deg)
    low, high = joints_world.reshape(-1, 3).min(axis=0), joints_world.reshape(-1, 3).max(axis=0)
    target = (low + high) / 2
    # the whole motion fills most of the frame: at 96 px a standing person is ~65 px tall, so limbs span several
    # 16 px patches of a small vision tower
    extent = max(high[1] - low[1] + 0.1, np.hypot(high[0] - low[0], high[2] - low[2]) + 0.2)
    distance = float(rng.uniform(3.0, 5.0))
    height = float(rng.uniform(0.8, 1.9))
    a = np.deg2rad(azimuth)
    position = np.array([target[0] + distance * np.sin(a), height, target[2] + distance * np.cos(a)])
    forward = target - position
    forward /= np.linalg.norm(forward)
    down = np.array([0.0, -1.0, 0.0])
    down = down - (down @ forward) * forward
    down /= np.linalg.norm(down)
    base = np.stack([np.cross(down, forward), down, forward])  # rows: camera x (right), y (down), z (forward)
    focal = float(rng.uniform(0.8, 0.92)) * size * np.linalg.norm(target - position) / extent
    center = size / 2 + rng.uniform(-0.05, 0.05, size=2) * size
    num_frames = len(joints_world)
    walk = np.cumsum(rng.normal(size=(num_frames, 3)), axis=0)
    walk = cv2.GaussianBlur(walk.astype(np.float64), (1, 5), 1.2, borderType=cv2.BORDER_REPLICATE)
    walk -= walk.mean(axis=0)
    walk *= np.deg2rad(shake) / max(float(np.abs(walk).max()), 1e-9)
    rotations = np.stack([_rotation(*angles) @ base for angles in walk])
    return Camera(rotations, position, (focal, focal, float(center[0]), float(center[1])), size, azimuth)


@dataclass
class Appearance:
    """Colours of one humanoid (RGB floats in [0, 255]); every colour is shared by the left and right side."""

    skin: np.ndarray
    hair: np.ndarray
    shirt: np.ndarray
    trousers: np.ndarray
    shoes: np.ndarray
    visor: np.ndarray
    long_sleeves: bool


def _random_color(rng: np.random.Generator, low: float = 20, high: float = 235) -> np.ndarray:
    return rng.uniform(low, high, size=3)


def sample_appearance(rng: np.random.Generator) -> Appearance:
    """Random skin tone, hair and clothing colours (symmetric by construction)."""
    skin = _SKIN[int(rng.integers(len(_SKIN)))] * rng.uniform(0.92, 1.05)
    return Appearance(
        skin=np.clip(skin, 0, 255),
        hair=_HAIR[int(rng.integers(len(_HAIR)))].astype(np.float64),
        shirt=_random_color(rng),
        trousers=_random_color(rng, 15, 200),
        shoes=_random_color(rng, 10, 120),
        visor=np.array([25.0, 25.0, 35.0]) + rng.uniform(0, 20, size=3),
        long_sleeves=bool(rng.random() < 0.5),
    )


@dataclass
class Scene:
    """Background of one clip: a floor with checker tiles and a wall with furniture-like blocks."""

    floor: tuple[np.ndarray, np.ndarray]
    tile: float
    wall_top: np.ndarray
    wall_bottom: np.ndarray
    blocks: np.ndarray  # (B, 7): yaw0, yaw1, elev1, r, g, b, unused
    stripes: tuple[float, float, float]
    noise: float


def sample_scene(rng: np.random.Generator) -> Scene:
    """A random background."""
    floor_a = _random_color(rng, 30, 220)
    floor_b = np.clip(floor_a * rng.uniform(0.6, 0.9), 0, 255)
    count = int(rng.integers(2, 7))
    yaw0 = rng.uniform(-np.pi, np.pi, size=count)
    blocks = np.column_stack(
        [yaw0, yaw0 + rng.uniform(0.15, 0.7, size=count), rng.uniform(0.05, 0.35, size=count)]
        + [rng.uniform(20, 235, size=count) for _ in range(3)]
        + [np.zeros(count)]
    )
    return Scene(
        floor=(floor_a, floor_b),
        tile=float(rng.uniform(0.35, 0.9)),
        wall_top=_random_color(rng, 60, 250),
        wall_bottom=_random_color(rng, 40, 230),
        blocks=blocks,
        stripes=(float(rng.integers(3, 12)), float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0.0, 0.12))),
        noise=float(rng.uniform(1.0, 4.0)),
    )


def _background(scene: Scene, camera: Camera, rotation: np.ndarray, side: int, root_xz: np.ndarray) -> np.ndarray:
    """`(side, side, 3)` float image: ray-cast floor (with the person's contact shadow) and wall."""
    fx, fy, cx, cy = camera.intrinsics
    scale = side / camera.size
    coords = (np.arange(side) + 0.5) / scale
    u, v = np.meshgrid(coords, coords)
    rays = np.stack([(u - cx) / fx, (v - cy) / fy, np.ones_like(u)], axis=-1) @ rotation  # world directions
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    image = np.empty((side, side, 3))
    ground = rays[..., 1] < -1e-3
    t = -camera.position[1] / np.where(ground, rays[..., 1], -1.0)
    hit = camera.position + t[..., None] * rays
    checker = (np.floor(hit[..., 0] / scene.tile) + np.floor(hit[..., 2] / scene.tile)) % 2
    floor = np.where(checker[..., None] > 0, scene.floor[0], scene.floor[1])
    shadow = np.hypot(hit[..., 0] - root_xz[0], hit[..., 2] - root_xz[1])
    floor = floor * (1.0 - 0.45 * np.clip(1.0 - shadow / 0.4, 0.0, 1.0))[..., None]
    fog = 1.0 - np.exp(-t / 14.0)
    floor = (1.0 - fog[..., None]) * floor + fog[..., None] * scene.wall_bottom
    elevation = np.arcsin(np.clip(rays[..., 1], -1.0, 1.0))
    yaw = np.arctan2(rays[..., 0], rays[..., 2])
    mix = np.clip(elevation / 0.8, 0.0, 1.0)[..., None]
    wall = (1.0 - mix) * scene.wall_bottom + mix * scene.wall_top
    frequency, phase, depth = scene.stripes
    wall = wall * (1.0 + depth * np.sin(frequency * yaw + phase))[..., None]
    for yaw0, yaw1, top, r, g, b, _ in scene.blocks:
        inside = (np.mod(yaw - yaw0, 2 * np.pi) < (yaw1 - yaw0)) & (elevation < top)
        wall[inside] = (r, g, b)
    image[:] = np.where(ground[..., None], floor, wall)
    return image


def _shade(normals: np.ndarray, color: np.ndarray) -> np.ndarray:
    light = np.clip(normals @ _LIGHT, 0.0, 1.0)
    return color * (0.38 + 0.62 * light)[..., None]


def _draw_capsule(image, depth, p0, p1, r0, r1, z0, z1, w0, w1, color):
    """Sphere-swept segment: pixel centres `p`, pixel radii `r`, depths `z`, world radii `w`."""
    height, width = depth.shape
    lo = np.floor(np.minimum(p0 - r0, p1 - r1)).astype(int).clip(0, [width, height])
    hi = np.ceil(np.maximum(p0 + r0, p1 + r1) + 1).astype(int).clip(0, [width, height])
    if hi[0] <= lo[0] or hi[1] <= lo[1]:
        return
    ys, xs = np.mgrid[lo[1] : hi[1], lo[0] : hi[0]] + 0.5
    q = np.stack([xs, ys], axis=-1)
    d = p1 - p0
    length2 = float(d @ d)
    t = np.clip(((q - p0) @ d) / length2, 0.0, 1.0) if length2 > 1e-9 else np.zeros(xs.shape)
    offset = q - (p0 + t[..., None] * d)
    radius = r0 + t * (r1 - r0)
    rho2 = (offset**2).sum(axis=-1) / np.maximum(radius, 1e-6) ** 2
    inside = rho2 < 1.0
    nz = np.sqrt(np.clip(1.0 - rho2, 0.0, 1.0))
    z = z0 + t * (z1 - z0) - (w0 + t * (w1 - w0)) * nz
    region = depth[lo[1] : hi[1], lo[0] : hi[0]]
    visible = inside & (z < region)
    if not visible.any():
        return
    normals = np.concatenate([offset / np.maximum(radius, 1e-6)[..., None], -nz[..., None]], axis=-1)
    region[visible] = z[visible]
    image[lo[1] : hi[1], lo[0] : hi[0]][visible] = _shade(normals[visible], color)


def _draw_ellipsoid(image, depth, center_px, center_z, axes, focal, color):
    """Ellipsoid with semi-axis vectors `axes` (columns, camera frame, metres), under weak perspective."""
    height, width = depth.shape
    scale = focal / center_z  # pixels per metre at the centre
    reach = np.linalg.norm(axes[:2], axis=1) * scale  # screen half-extent along x and y
    lo = np.floor(center_px - reach).astype(int).clip(0, [width, height])
    hi = np.ceil(center_px + reach + 1).astype(int).clip(0, [width, height])
    if hi[0] <= lo[0] or hi[1] <= lo[1]:
        return
    ys, xs = np.mgrid[lo[1] : hi[1], lo[0] : hi[0]] + 0.5
    inverse = np.linalg.inv(axes)
    planar = np.stack([(xs - center_px[0]) / scale, (ys - center_px[1]) / scale], axis=-1)
    w = planar @ inverse[:, :2].T  # (h, w, 3)
    m = inverse[:, 2]
    a, b, c = float(m @ m), w @ m, (w**2).sum(axis=-1) - 1.0
    disc = b * b - a * c
    inside = disc > 0
    dz = (-b - np.sqrt(np.clip(disc, 0.0, None))) / a
    z = center_z + dz
    region = depth[lo[1] : hi[1], lo[0] : hi[0]]
    visible = inside & (z < region)
    if not visible.any():
        return
    u = w + dz[..., None] * m  # point on the unit sphere
    normals = u @ inverse  # gradient direction M^T u
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    region[visible] = z[visible]
    image[lo[1] : hi[1], lo[0] : hi[0]][visible] = _shade(normals[visible], color)


def _body_axes(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    up = joints[joint_index("chest")] - joints[joint_index("pelvis")]
    up /= np.linalg.norm(up)
    lateral = joints[joint_index("left_shoulder")] - joints[joint_index("right_shoulder")]
    lateral -= (lateral @ up) * up
    lateral /= np.linalg.norm(lateral)
    return lateral, up, np.cross(lateral, up)  # person's left, up, forward


def render_frame(
    joints_cam: np.ndarray,
    shape: BodyShape,
    look: Appearance,
    scene: Scene,
    camera: Camera,
    frame: int,
    root_xz: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Render one RGB frame.

    Args:
        joints_cam (`np.ndarray` of shape `(J, 3)`): `JOINT_NAMES` in this frame's camera coordinates.
        shape, look, scene (`BodyShape`, `Appearance`, `Scene`): the body, its colours and the background.
        camera (`Camera`): the clip's camera; `frame` picks its shaken rotation.
        root_xz (`np.ndarray` of shape `(2,)`): pelvis on the floor (for the contact shadow), world `x, z`.
        rng (`np.random.Generator`): sensor noise.

    Returns:
        `np.ndarray` of shape `(size, size, 3)`, `uint8`.
    """
    side = camera.size * SUPERSAMPLE
    image = _background(scene, camera, camera.rotations[frame], side, root_xz)
    depth = np.full((side, side), np.inf)
    focal = camera.intrinsics[0] * SUPERSAMPLE
    pixels = camera.project(joints_cam, SUPERSAMPLE)
    j = joint_index

    def capsule(a: str, b: str, wa: float, wb: float, color: np.ndarray) -> None:
        za, zb = joints_cam[j(a), 2], joints_cam[j(b), 2]
        if min(za, zb) <= 0.05:
            return
        _draw_capsule(
            image, depth, pixels[j(a)], pixels[j(b)], wa * focal / za, wb * focal / zb, za, zb, wa, wb, color
        )

    def ellipsoid(center: np.ndarray, axes: np.ndarray, color: np.ndarray) -> None:
        if center[2] <= 0.05:
            return
        px = camera.project(center, SUPERSAMPLE)
        _draw_ellipsoid(image, depth, px, center[2], axes, focal, color)

    lateral, up, forward = _body_axes(joints_cam)
    pelvis, chest = joints_cam[j("pelvis")], joints_cam[j("chest")]
    torso_axes = np.column_stack(
        [
            lateral * (shape.shoulder_half_width + 0.4 * shape.arm_radius),
            up * 0.5 * shape.spine,
            forward * shape.torso_depth,
        ]
    )
    ellipsoid(pelvis + 0.58 * (chest - pelvis), torso_axes, look.shirt)
    hip_axes = np.column_stack(
        [
            lateral * (shape.hip_half_width + shape.leg_radius),
            up * 0.3 * shape.spine,
            forward * shape.torso_depth * 0.95,
        ]
    )
    ellipsoid(pelvis + 0.1 * up * shape.spine, hip_axes, look.trousers)
    r, arm, leg = shape.head_radius, shape.arm_radius, shape.leg_radius
    capsule("chest", "head", 0.36 * r, 0.36 * r, look.skin)
    ellipsoid(joints_cam[j("head")], np.eye(3) * r * np.array([0.92, 1.05, 1.0]), look.skin)
    ellipsoid(joints_cam[j("hair")], np.eye(3) * r * 1.0, look.hair)
    ellipsoid(joints_cam[j("face")], np.eye(3) * r * 0.56, look.visor)
    forearm = look.shirt if look.long_sleeves else look.skin
    for s in ("left", "right"):  # both sides in the same colours: RGB alone leaves left and right ambiguous
        capsule(f"{s}_shoulder", f"{s}_elbow", arm * 1.05, arm * 0.9, look.shirt)
        capsule(f"{s}_elbow", f"{s}_wrist", arm * 0.85, arm * 0.7, forearm)
        capsule(f"{s}_wrist", f"{s}_hand", arm * 0.8, arm * 0.75, look.skin)
        capsule(f"{s}_hip", f"{s}_knee", leg, leg * 0.8, look.trousers)
        capsule(f"{s}_knee", f"{s}_ankle", leg * 0.75, leg * 0.55, look.trousers)
        capsule(f"{s}_ankle", f"{s}_toe", leg * 0.55, leg * 0.45, look.shoes)
    image = cv2.resize(image.astype(np.float32), (camera.size, camera.size), interpolation=cv2.INTER_AREA)
    image += rng.normal(0.0, scene.noise, size=image.shape).astype(np.float32)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
