"""Fixtures for the Space: its model, the app imported once, served once, fresh SynthMotion clips and bad uploads.

The model is the embedded SynthMotion checkpoint (`space/synthmotion-tiny/`) when the checkout has it, else a
randomly initialised M-ACM folder of the same kind (word-level tokenizer over SynthMotion's vocabulary, 96 px),
passed as `MACM_MODEL`. Tests that need a trained model check `SPACE_MODEL.embedded`.
"""

from __future__ import annotations

import json
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # `space` is a folder of the repository, not an installed package

EXAMPLES = REPO_ROOT / "space" / "examples"
EMBEDDED = REPO_ROOT / "space" / "synthmotion-tiny"
SERVER_LIMITS = {"max_file_mb": 0.25, "max_seconds": 10.0, "max_keyframes": 16, "max_new_tokens": 48, "queue_size": 4}


@dataclass(frozen=True)
class SpaceModel:
    path: Path
    embedded: bool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def space_model(tmp_path_factory) -> SpaceModel:
    if (EMBEDDED / "config.json").is_file():
        return SpaceModel(EMBEDDED, embedded=True)
    from macm.processing.synth import caption_vocabulary
    from macm.trainer.init_from_scratch import init_from_scratch

    folder = tmp_path_factory.mktemp("space-random-macm")
    init_from_scratch(caption_vocabulary(), folder, text_hidden=64, text_layers=2, vision_hidden=64, vision_layers=2)
    return SpaceModel(folder, embedded=False)


@pytest.fixture(scope="session")
def space_app(space_model, tmp_path_factory):
    """`space.app`, imported with the test model (the model loads at import)."""
    pytest.importorskip("gradio")
    patch = pytest.MonkeyPatch()
    if space_model.embedded:
        patch.delenv("MACM_MODEL", raising=False)
    else:
        patch.setenv("MACM_MODEL", str(space_model.path))
    patch.setenv("MACM_SPACE_TMP", str(tmp_path_factory.mktemp("space-requests")))
    from space import app, checkpoint

    if checkpoint.current_model().source != str(space_model.path):  # imported earlier under other settings
        checkpoint.set_model(str(space_model.path))
    assert checkpoint.current_model().ready, checkpoint.current_model().error
    yield app
    patch.undo()


@pytest.fixture(scope="session")
def server(space_app):
    """The page served on 127.0.0.1 in this process, with small limits (`SERVER_LIMITS`); yields its URL."""
    from space.validation import Limits

    patch = pytest.MonkeyPatch()
    patch.setattr(space_app, "LIMITS", Limits(**SERVER_LIMITS))
    blocks = space_app.build_demo()
    port = free_port()
    blocks.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **space_app.launch_kwargs()
    )
    yield f"http://127.0.0.1:{port}/"
    blocks.close()
    patch.undo()


@pytest.fixture(scope="session")
def blazepose():
    from macm.processing.pose import PoseBackendUnavailableError, get_pose_backend

    try:
        get_pose_backend("blazepose")
    except PoseBackendUnavailableError as error:
        pytest.skip(f"BlazePose model files unavailable: {error}")


@pytest.fixture(scope="session")
def synth_dataset(tmp_path_factory) -> tuple[Path, list[dict]]:
    """A fresh SynthMotion folder (what `macm synth --num 12 --seed 7 --size 192` writes: a size BlazePose reads, as
    a user's clip would be) and its rows."""
    from macm.processing.synth import SynthConfig, write_dataset

    folder = tmp_path_factory.mktemp("synthmotion")
    write_dataset(folder, 12, SynthConfig(seed=7, size=192), progress=False)
    rows = [json.loads(line) for path in sorted(folder.glob("*/metadata.jsonl")) for line in path.open()]
    return folder, sorted(rows, key=lambda row: row["id"])


@pytest.fixture(scope="session")
def synth_clip(synth_dataset) -> tuple[Path, dict]:
    """A fresh single-action SynthMotion clip with a sided action, and its metadata row."""
    folder, rows = synth_dataset
    single = [row for row in rows if len(row["actions"]) == 1]
    row = next((r for r in single if r["actions"][0]["side"] != "center"), single[0] if single else rows[0])
    return folder / row["video"], row


@pytest.fixture(scope="session")
def check_names_action(space_model):
    """For the embedded checkpoint: `check(caption, row)` asserts the caption is one of the SynthMotion grammar and
    names the clip's (first) action and, for a sided action, its side."""

    def check(caption: str, row: dict) -> None:
        from macm.processing.synth import parse_caption

        named = parse_caption(caption)
        assert named, f"not a caption of the SynthMotion grammar: {caption!r}"
        action = row["actions"][0]
        sides = {side for name, side in named if name == action["name"]}
        assert sides, (
            f"the caption {caption!r} does not name the clip's action {action['name']!r} ({row['caption']!r})"
        )
        if action["side"] != "center":
            assert action["side"] in sides, (
                f"the caption {caption!r} names {action['name']!r} on the {sorted(sides)} side, the clip's is "
                f"{action['side']!r} ({row['caption']!r})"
            )

    return check


@pytest.fixture(scope="session")
def no_person_clip() -> Path:
    return EXAMPLES / "no_person.mp4"


@pytest.fixture(scope="session")
def bad_uploads(tmp_path_factory) -> dict[str, Path]:
    """Uploads that must be refused with a readable message: text renamed .mp4, empty, one frame, too large."""
    import av
    import numpy as np

    folder = tmp_path_factory.mktemp("bad-uploads")
    text = folder / "notes.mp4"
    text.write_text("These are meeting notes, not a video.\n" * 20)
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")
    one_frame = folder / "one_frame.mp4"
    with av.open(str(one_frame), mode="w") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = 96, 96, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.full((96, 96, 3), 120, np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    oversize = folder / "oversize.mp4"
    oversize.write_bytes(np.random.default_rng(0).integers(0, 256, 400_000, dtype=np.uint8).tobytes())
    return {"text": text, "empty": empty, "one_frame": one_frame, "oversize": oversize}
