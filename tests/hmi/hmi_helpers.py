"""Helpers of the HMI tests: source videos made on the spot, a canned OpenAI-compatible annotator, and a pose
backend without a model.

The person clips show SynthMotion's rendered humanoid (`macm.processing.synth`), which BlazePose finds with all 17
COCO keypoints, so the end-to-end tests run the real default pose path. The annotator is an `http.server` on
127.0.0.1 answering chat completions with a canned annotation that fits the windows the prompt asks for; a script
of behaviours (HTTP 500, malformed JSON, a reply slower than the client's timeout, a reply held until the test lets
it go) drives the failure tests.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import numpy as np

from macm.evaluation.judge import DIMENSIONS
from macm.processing.pose import COCO17_NAMES, PersonPose, PoseBackend
from macm.processing.synth.dataset import SynthConfig, generate_clip

FPS = 8
SIZE = 128


def write_video(path: Path, frames, fps: int = FPS) -> Path:
    """Encode RGB frames with libx264 (near-lossless) and return the path."""
    frames = list(frames)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "10", "preset": "ultrafast"})
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def humanoid(index: int, num_frames: int, size: int = SIZE) -> np.ndarray:
    """`(F, S, S, 3)` frames of SynthMotion clip `index`: a rendered humanoid performing scripted actions."""
    return generate_clip(index, SynthConfig(seed=7, size=size, frames=num_frames, fps=FPS)).rgb


def empty_scene(num_frames: int, size: int = SIZE) -> np.ndarray:
    ramp = np.linspace(60, 180, size, dtype=np.float32)
    image = np.stack([np.tile(ramp, (size, 1)), np.tile(ramp[:, None], (1, size)), np.full((size, size), 90.0)], -1)
    return np.repeat(image.astype(np.uint8)[None], num_frames, axis=0)


def make_sources(folder: Path) -> Path:
    """The source folder of the end-to-end tests (what the build should make of each file in the comment)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_video(folder / "dancer.mp4", humanoid(0, 24))  # 3 s, moving: accepted
    # two shots (a hard cut between two humanoid clips), 2.5 s each: two accepted clips
    write_video(folder / "two_shots.mp4", np.concatenate([humanoid(1, 20), humanoid(2, 20)]))
    write_video(folder / "still.mp4", np.repeat(humanoid(0, 24)[4:5], 20, axis=0))  # 2.5 s of one frame: static
    write_video(folder / "empty.mp4", empty_scene(20))  # 2.5 s, nobody: no_person
    write_video(folder / "short.mp4", humanoid(4, 10))  # 1.25 s: too short to be a clip
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 8)  # corrupt
    return folder


# ----------------------------------------------------------------------------------------------------------------
# Canned annotator
# ----------------------------------------------------------------------------------------------------------------


def canned_annotation(num_fine: int, num_contextual: int) -> dict:
    """A reply that fits the schema for a clip with these windows."""
    qa = []
    for dimension in DIMENSIONS:
        words = dimension.replace("_", " ")
        qa.append({"question": f"What about {words}?", "answer": f"Something about {words}.", "type": "open", "dimension": dimension})  # fmt: skip
        qa.append({"question": f"Is {words} visible?", "answer": "yes", "type": "true_false", "dimension": dimension})
    return {
        "fine": [f"In window {k}, the person lifts the left arm." for k in range(num_fine)],
        "contextual": [f"Over window {k}, the person warms up." for k in range(num_contextual)],
        "whole": "The person lifts the left arm, then bends forward and turns.",
        "qa": qa,
    }


class CannedServer:
    """An OpenAI-compatible chat completions server on 127.0.0.1.

    `script` lists behaviours for the first requests (then `default`): `"ok"`, `"500"`, `"400"`, `"malformed"`
    (content that is not JSON), `"schema"` (JSON without QA pairs), `"slow"` (answers after `slow_seconds`),
    `"hold"` (answers once `release` is set).
    """

    def __init__(self, script=(), default: str = "ok", slow_seconds: float = 1.5):
        self.script = list(script)
        self.default = default
        self.slow_seconds = slow_seconds
        self.requests: list[dict] = []
        self.release = threading.Event()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    number = len(server.requests)
                    server.requests.append(body)
                    behaviour = server.script[number] if number < len(server.script) else server.default
                server.answer(self, body, behaviour)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def answer(self, handler: BaseHTTPRequestHandler, body: dict, behaviour: str) -> None:
        if behaviour in ("500", "400"):
            return self._send(handler, int(behaviour), {"error": {"message": f"canned HTTP {behaviour}"}})
        if behaviour == "slow":
            time.sleep(self.slow_seconds)
        if behaviour == "hold":
            self.release.wait(timeout=60)
        text = body["messages"][1]["content"][0]["text"]
        num_fine, num_contextual = (int(n) for n in re.findall(r"list of exactly (\d+)", text))
        content = json.dumps(canned_annotation(num_fine, num_contextual))
        if behaviour == "malformed":
            content = "Sure! Here is the annotation: {fine: [oops"
        elif behaviour == "schema":
            content = json.dumps({**canned_annotation(num_fine, num_contextual), "qa": []})
        reply = {"id": "canned", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}  # fmt: skip
        self._send(handler, 200, reply)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout, killed)

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


# ----------------------------------------------------------------------------------------------------------------
# A pose backend without a model
# ----------------------------------------------------------------------------------------------------------------


class BrightFigureBackend(PoseBackend):
    """Reports one person whose box is the frame's bright pixels, with COCO-17 keypoints spread inside it.

    Keypoints follow the box (so a figure that moves moves them), all scored 0.9; a frame without bright pixels has
    nobody. Used where the tests are about the build's bookkeeping rather than pose estimation.
    """

    name = "bright-figure"
    keypoint_names = COCO17_NAMES
    _LAYOUT = np.array(
        [[0.5, 0.08], [0.45, 0.06], [0.55, 0.06], [0.4, 0.08], [0.6, 0.08], [0.3, 0.25], [0.7, 0.25], [0.25, 0.45],
         [0.75, 0.45], [0.2, 0.6], [0.8, 0.6], [0.38, 0.6], [0.62, 0.6], [0.38, 0.8], [0.62, 0.8], [0.38, 0.97],
         [0.62, 0.97]]
    )  # fmt: skip

    def detect(self, image: np.ndarray) -> list[PersonPose]:
        ys, xs = np.nonzero(image.mean(axis=2) > 200)
        if len(xs) < 20:
            return []
        x0, y0, x1, y1 = float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())
        points = self._LAYOUT * [x1 - x0, y1 - y0] + [x0, y0]
        keypoints = np.concatenate([points, np.full((17, 1), 0.9)], axis=1).astype(np.float32)
        return [PersonPose(keypoints=keypoints, bbox=np.array([x0, y0, x1, y1], np.float32), score=0.9)]


def bright_square_frames(num_frames: int, size: int = 96, moving: bool = True) -> np.ndarray:
    frames = np.full((num_frames, size, size, 3), 40, dtype=np.uint8)
    for n in range(num_frames):
        x = 10 + (3 * n if moving else 0)
        frames[n, 20:80, x : x + 30] = 255
    return frames
