"""Write the Space's example clips into `examples/` (run once; the clips and `examples.json` are committed).

`python space/make_examples.py`: a few SynthMotion clips (what the embedded checkpoint knows) from the test split of
`macm synth --seed 0` (so not clips it was trained on), one or two steps each with distinct actions, and a scene
without anybody (the "no person found" notice).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import av
import numpy as np

from macm.processing.synth import SynthConfig, write_dataset

EXAMPLES = Path(__file__).resolve().parent / "examples"
NUM_GENERATED = 80
NUM_SYNTH_EXAMPLES = 4


def empty_scene(path: Path, seconds: float = 2.0, fps: int = 8, size: tuple[int, int] = (160, 96)) -> Path:
    """A slowly changing gradient: a video with nobody in it."""
    width, height = size
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "28", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        y, x = np.mgrid[0 : 1 : complex(0, height), 0 : 1 : complex(0, width)]
        for n in range(int(seconds * fps)):
            t = n / (seconds * fps)
            image = (255 * np.stack([np.full_like(x, 0.3 + 0.4 * t), y, (x + y) / 2], -1)).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def action_label(row: dict) -> str:
    """`"wave (left) · then kick (right)"`: the clip's actions in order."""
    names = [
        f"{a['name'].replace('_', ' ')}" + (f" ({a['side']})" if a["side"] != "center" else "") for a in row["actions"]
    ]
    return " · ".join(names)


def pick(rows: list[dict], count: int) -> list[dict]:
    """Clips of one or two actions whose first actions all differ, single-action clips first."""
    chosen, seen = [], set()
    for row in sorted(rows, key=lambda r: (len(r["actions"]), r["id"])):
        first = row["actions"][0]["name"]
        if len(row["actions"]) <= 2 and first not in seen:
            chosen.append(row)
            seen.add(first)
        if len(chosen) == count:
            break
    return chosen


def main() -> None:
    EXAMPLES.mkdir(exist_ok=True)
    for old in EXAMPLES.glob("*.mp4"):
        old.unlink()
    entries = []
    with tempfile.TemporaryDirectory() as folder:
        splits = write_dataset(folder, NUM_GENERATED, SynthConfig(seed=0), progress=False)
        for row in pick(splits["test"], NUM_SYNTH_EXAMPLES):
            name = f"{row['id']}.mp4"
            shutil.copyfile(Path(folder) / row["video"], EXAMPLES / name)
            entries.append({"file": name, "label": action_label(row), "caption": row["caption"], "id": row["id"]})
    empty_scene(EXAMPLES / "no_person.mp4")
    entries.append({"file": "no_person.mp4", "label": "no person", "caption": None, "id": None})
    (EXAMPLES / "examples.json").write_text(json.dumps(entries, indent=2) + "\n")
    for entry in entries:
        print(f"{entry['file']:28s} {(EXAMPLES / entry['file']).stat().st_size:6d} bytes  {entry['label']}")


if __name__ == "__main__":
    main()
