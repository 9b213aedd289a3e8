"""Shared fixtures: tiny random models and processors built in code (session-scoped factories)."""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# A datasets cache of the session's own: folders that tests write under recycled pytest paths must never be served
# from another run's cache (set before anything imports `datasets`, which reads it once).
os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="macm-test-datasets-")
atexit.register(shutil.rmtree, os.environ["HF_DATASETS_CACHE"], ignore_errors=True)

sys.path.insert(0, str(Path(__file__).parent))

import tiny_models  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def tiny_processor():
    return tiny_models.tiny_processor()


@pytest.fixture(scope="session")
def tiny_model():
    return tiny_models.tiny_macm(seed=0)
