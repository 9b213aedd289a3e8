"""Fixtures of the HMI tests (the helpers they build on are in `hmi_helpers`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hmi_helpers import BrightFigureBackend, CannedServer, humanoid, make_sources, write_video


@pytest.fixture(scope="session")
def source_videos(tmp_path_factory) -> Path:
    return make_sources(tmp_path_factory.mktemp("hmi-sources"))


@pytest.fixture(scope="session")
def person_video(tmp_path_factory) -> Path:
    """One 3 s humanoid clip."""
    return write_video(tmp_path_factory.mktemp("hmi-person") / "person.mp4", humanoid(5, 24))


@pytest.fixture()
def canned_server():
    """`canned_server(script=(), default="ok", slow_seconds=1.5) -> CannedServer`, shut down after the test."""
    servers = []

    def start(*args, **kwargs) -> CannedServer:
        servers.append(CannedServer(*args, **kwargs))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture()
def bright_backend() -> BrightFigureBackend:
    return BrightFigureBackend()
