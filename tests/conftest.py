"""Shared fixtures: tiny random models and processors built in code (session-scoped factories)."""

import sys
from pathlib import Path

import pytest

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
