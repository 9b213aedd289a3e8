"""The Space's API through `gradio_client`: the endpoint list, a caption request, and bad uploads (text renamed
.mp4, zero bytes, one frame, over the size limit), each refused with a readable message while the server keeps
serving.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("blazepose")

MSD_ALPHA = "0.5, 0.2, 0.4, 0.8, 0.3, 2.0"


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


def caption(client, path: Path, keyframes: int = 8, msd: bool = True, max_new_tokens: int = 6) -> tuple:
    from gradio_client import handle_file

    return client.predict(
        handle_file(str(path)),
        "Describe the person's movements in detail.",
        "blazepose",
        keyframes,
        msd,
        MSD_ALPHA,
        0.2,
        2.0,
        "reconstructed-v1",
        max_new_tokens,
        api_name="/caption",
    )


def test_the_api_has_one_public_endpoint_with_the_page_s_inputs(client):
    api = client.view_api(return_format="dict", print_info=False)
    assert list(api["named_endpoints"]) == ["/caption"] and not api["unnamed_endpoints"]
    endpoint = api["named_endpoints"]["/caption"]
    assert [p["parameter_name"] for p in endpoint["parameters"]] == [
        "video",
        "prompt",
        "backend",
        "num_keyframes",
        "msd_enabled",
        "msd_alpha",
        "msd_beta",
        "msd_theta",
        "msd_synergy",
        "max_new_tokens",
    ]
    assert len(endpoint["returns"]) == 8


def test_caption_endpoint_returns_every_output(client, synth_clip, space_model):
    clip, _ = synth_clip
    status, overlay, gallery, caption_msd, caption_plain, synergy, timeline, json_path = caption(client, clip)
    assert "Done: captioned by" in status
    assert Path(overlay).name.startswith("overlay") and Path(overlay).stat().st_size > 0
    assert len(gallery) == 8 and all(Path(item["image"]).is_file() for item in gallery)
    assert caption_msd and caption_plain  # highlighted spans, as the page shows them
    assert synergy is not None and timeline is not None
    record = json.loads(Path(json_path).read_text())
    assert record["model"] == str(space_model.path) and record["embedded_model"] is space_model.embedded
    assert "".join(span["token"] for span in caption_msd) == record["captions"]["with_msd"]["caption"]
    assert len(record["keyframe_indices"]) == 8 and record["summary"]["person_fraction"] > 0.5


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        ("text", "could not be read as a video: not a readable video"),
        ("empty", "could not be read as a video: file is empty"),
        ("one_frame", "The clip has only 1 frame; describing a motion needs at least 4 frames"),
    ],
)
def test_bad_uploads_are_refused_with_a_readable_message(client, bad_uploads, synth_clip, upload, words):
    status, *rest = caption(client, bad_uploads[upload], keyframes=2, max_new_tokens=2)
    assert status.startswith("**Cannot caption this video.**") and words in status, status
    assert rest[-1] is None  # no JSON for a refused request
    # the server keeps serving the next request
    assert "Done: captioned by" in caption(client, synth_clip[0], keyframes=2, max_new_tokens=2)[0]


def test_an_upload_over_the_size_limit_is_refused_before_it_is_sent(client, bad_uploads, server, synth_clip):
    with pytest.raises(ValueError, match="exceeds the maximum file size of 262144 bytes"):
        caption(client, bad_uploads["oversize"])
    assert "Done: captioned by" in caption(client, synth_clip[0], keyframes=2, max_new_tokens=2)[0]
