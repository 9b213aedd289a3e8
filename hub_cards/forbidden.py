"""Files that are never uploaded: pickles (they run code when loaded) and SMPL-family body models (their licence
forbids redistribution). Found by name and by content, reading only a file's first bytes or a zip's directory.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["forbidden_reason"]

PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib", ".pck", ".pcl"}
# SMPL_NEUTRAL.pkl, SMPLX_MALE.npz, SMPLH_FEMALE.pkl, MANO_RIGHT.pkl, basicModel_f_lbs_10_207_0_v1.0.0.pkl, ...
SMPL_NAME = re.compile(r"^(smpl|smplh|smplx|smpl_h|smpl-x|mano|flame|basicmodel)([_\-.]|$)", re.IGNORECASE)
BODY_MODEL_SUFFIXES = {".pkl", ".pickle", ".npz", ".npy", ".fbx", ".h5"}
# arrays every SMPL-family model file carries (SMPL-H ships as a bare `model.npz`, so the name alone is not enough)
SMPL_ARRAYS = {"shapedirs", "J_regressor"}
_NUMPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


def _looks_like_raw_pickle(head: bytes) -> bool:
    # protocol 2-5 pickles open with PROTO (0x80) and the protocol number; the next byte is an opcode, never 0
    # (a safetensors header length such as 0x0280 would otherwise look the same)
    return len(head) >= 3 and head[0] == 0x80 and head[1] in (2, 3, 4, 5) and head[2] != 0


def _npy_holds_objects(handle) -> bool:
    """Whether an open `.npy` stream stores an object array (which numpy writes as a pickle)."""
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        _, _, dtype = np.lib.format.read_array_header_1_0(handle)
    else:
        _, _, dtype = np.lib.format.read_array_header_2_0(handle)
    return dtype.hasobject


def _zip_reason(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if any(name.endswith(".pkl") for name in names):
                return "a zip archive holding a pickle (torch.save format): save tensors as .safetensors instead"
            arrays = {Path(name).stem: name for name in names if name.endswith(".npy")}
            if arrays.keys() >= SMPL_ARRAYS:
                return "an SMPL-family body model (an .npz with shapedirs and J_regressor); its licence forbids redistribution"
            for stem, name in arrays.items():
                with archive.open(name) as member:
                    if _npy_holds_objects(member):
                        return f"an .npz whose array {stem!r} holds Python objects (stored as a pickle)"
    except (zipfile.BadZipFile, ValueError):
        return None
    return None


def forbidden_reason(path: str | Path) -> str | None:
    """Why the file at `path` must never be uploaded, or `None` when it may be.

    Example:

    ```python
    >>> forbidden_reason("SMPL_NEUTRAL.npz")
    'an SMPL-family body model file (by name); its licence forbids redistribution'
    ```
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in BODY_MODEL_SUFFIXES and SMPL_NAME.match(path.name):
        return "an SMPL-family body model file (by name); its licence forbids redistribution"
    if suffix in PICKLE_SUFFIXES:
        return "a pickle (by name): loading it runs code"
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
            if suffix != ".safetensors" and _looks_like_raw_pickle(head):
                return "a pickle (by content): loading it runs code"
            if head.startswith(_NUMPY_MAGIC):
                handle.seek(0)
                if _npy_holds_objects(handle):
                    return "an .npy holding Python objects (stored as a pickle)"
    except (OSError, ValueError):
        return None
    if head.startswith(_ZIP_MAGIC):
        return _zip_reason(path)
    return None
