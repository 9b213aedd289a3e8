"""Fetch and locate the BlazePose model files.

The BlazePose TFLite models (`pose_detection.tflite`, `pose_landmark_full.tflite`) are not on the Hugging Face Hub,
but the PyPI wheel `mediapipe==0.10.21` bundles them. MediaPipe itself cannot be installed next to this project (that
release pins `numpy<2`), so the wheel is only downloaded with `pip download`, the two files are extracted, their
SHA-256 checked against the values below, and they are kept in a cache directory:

- `$MACM_CACHE/blazepose` when the `MACM_CACHE` environment variable is set,
- `~/.cache/macm/blazepose` otherwise.

Run once (it does nothing when the files are already there):

```bash
python -m macm.processing.pose.model_files
```
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BLAZEPOSE_MODEL_FILES",
    "BlazePoseModelPaths",
    "blazepose_cache_dir",
    "download_blazepose_models",
    "find_blazepose_models",
]

logger = logging.getLogger(__name__)

MEDIAPIPE_REQUIREMENT = "mediapipe==0.10.21"

# file name in the cache -> (path inside the wheel, SHA-256 of the file). The TFLite files are the same in every
# platform's wheel of this release; the digests were computed from `mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64`.
BLAZEPOSE_MODEL_FILES: dict[str, tuple[str, str]] = {
    "pose_detection.tflite": (
        "mediapipe/modules/pose_detection/pose_detection.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    ),
    "pose_landmark_full.tflite": (
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    ),
}

# Used when pip finds no wheel for the running interpreter (e.g. a Python release newer than mediapipe 0.10.21
# supports): the model files do not depend on the platform, so any wheel of the release will do.
_FALLBACK_WHEEL_TARGET = ["--platform", "manylinux_2_28_x86_64", "--python-version", "3.11", "--implementation", "cp"]


@dataclass(frozen=True)
class BlazePoseModelPaths:
    """Where the two BlazePose model files are.

    Args:
        detector (`Path`): `pose_detection.tflite`, the SSD person detector (224x224 input).
        landmarks (`Path`): `pose_landmark_full.tflite`, the 33-keypoint landmark model (256x256 input).
    """

    detector: Path
    landmarks: Path


def blazepose_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The directory holding the model files: `cache_dir` if given, else `$MACM_CACHE/blazepose`, else
    `~/.cache/macm/blazepose`."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    root = os.environ.get("MACM_CACHE")
    if root:
        return Path(root).expanduser() / "blazepose"
    return Path.home() / ".cache" / "macm" / "blazepose"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_valid(path: Path, expected_sha256: str) -> bool:
    return path.is_file() and _sha256(path) == expected_sha256


def _paths_in(directory: Path) -> BlazePoseModelPaths:
    return BlazePoseModelPaths(
        detector=directory / "pose_detection.tflite", landmarks=directory / "pose_landmark_full.tflite"
    )


def find_blazepose_models(cache_dir: str | os.PathLike | None = None, verify: bool = False) -> BlazePoseModelPaths:
    """The cached model files, or a clear error saying how to fetch them.

    Args:
        cache_dir (`str` or `os.PathLike`, *optional*):
            Directory to look in; defaults to [`blazepose_cache_dir`].
        verify (`bool`, *optional*, defaults to `False`):
            Also check the SHA-256 of each file (reads ~9 MB).

    Raises:
        `FileNotFoundError`: a file is missing (or, with `verify=True`, has the wrong checksum).
    """
    directory = blazepose_cache_dir(cache_dir)
    for name, (_, expected_sha256) in BLAZEPOSE_MODEL_FILES.items():
        path = directory / name
        if not path.is_file() or (verify and _sha256(path) != expected_sha256):
            problem = "has the wrong checksum" if path.is_file() else "is missing"
            raise FileNotFoundError(
                f"BlazePose model files not found in {directory} ({name} {problem}); "
                "run `python -m macm.processing.pose.model_files`"
            )
    return _paths_in(directory)


def _pip_download_wheel(destination: Path) -> Path:
    """Download the mediapipe wheel (no dependencies, binary only) into `destination` and return its path."""
    base = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check"]
    attempts = [[], _FALLBACK_WHEEL_TARGET]
    errors = []
    for extra in attempts:
        command = [*base, *extra, "-d", str(destination), MEDIAPIPE_REQUIREMENT]
        logger.info("Downloading %s: %s", MEDIAPIPE_REQUIREMENT, " ".join(command))
        result = subprocess.run(command, capture_output=True, text=True)
        wheels = sorted(destination.glob("mediapipe-*.whl"))
        if result.returncode == 0 and wheels:
            return wheels[0]
        errors.append(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}")
    raise RuntimeError(f"`pip download {MEDIAPIPE_REQUIREMENT}` failed: {' | '.join(errors)}")


def _extract_verified(wheel: Path, directory: Path) -> None:
    """Copy the model files out of the wheel into `directory`, checking each checksum before it is put in place."""
    with zipfile.ZipFile(wheel) as archive:
        for name, (member, expected_sha256) in BLAZEPOSE_MODEL_FILES.items():
            target = directory / name
            partial = target.with_suffix(".partial")
            with archive.open(member) as source, open(partial, "wb") as sink:
                shutil.copyfileobj(source, sink)
            actual = _sha256(partial)
            if actual != expected_sha256:
                partial.unlink()
                raise RuntimeError(
                    f"Checksum mismatch for {member} in {wheel.name}: expected {expected_sha256}, got {actual}"
                )
            # Atomic rename so a concurrent reader never sees a half-written model.
            os.replace(partial, target)
            logger.info("Saved %s", target)


def download_blazepose_models(cache_dir: str | os.PathLike | None = None) -> BlazePoseModelPaths:
    """Make sure both model files are in the cache, fetching them from PyPI when needed; idempotent.

    Args:
        cache_dir (`str` or `os.PathLike`, *optional*):
            Directory to store the files in; defaults to [`blazepose_cache_dir`].

    Returns:
        [`BlazePoseModelPaths`]: the verified files.
    """
    directory = blazepose_cache_dir(cache_dir)
    if all(_is_valid(directory / name, sha) for name, (_, sha) in BLAZEPOSE_MODEL_FILES.items()):
        logger.debug("BlazePose model files already in %s", directory)
        return _paths_in(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="macm-mediapipe-wheel-") as tmp:
        wheel = _pip_download_wheel(Path(tmp))
        _extract_verified(wheel, directory)
    return _paths_in(directory)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=f"Fetch the BlazePose model files from the PyPI wheel {MEDIAPIPE_REQUIREMENT}."
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="Where to keep the files (default: $MACM_CACHE/blazepose or ~/.cache/macm/blazepose).",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    paths = download_blazepose_models(args.cache_dir)
    print(paths.detector)
    print(paths.landmarks)


if __name__ == "__main__":
    main()
