"""`load_hmi_split` reads a local folder's current rows, whatever `datasets` cached for a folder of that name."""

from __future__ import annotations

import json

from macm.trainer.data import load_hmi_split

CARD = """---
configs:
- config_name: default
  data_files:
  - split: train
    path: train/metadata.jsonl
---
"""


def _write_folder(root, captions):
    (root / "train").mkdir(parents=True, exist_ok=True)
    (root / "README.md").write_text(CARD)
    rows = [{"id": f"clip-{i}", "video": f"videos/clip-{i}.mp4", "caption": text} for i, text in enumerate(captions)]
    (root / "train" / "metadata.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_a_folder_rewritten_in_place_loads_its_new_rows(tmp_path):
    _write_folder(tmp_path / "clips", ["The person waves."])
    assert load_hmi_split(str(tmp_path / "clips"))[0]["caption"] == ["The person waves."]
    _write_folder(tmp_path / "clips", ["The person jumps.", "The person squats."])
    assert load_hmi_split(str(tmp_path / "clips"))[0]["caption"] == ["The person jumps.", "The person squats."]


def test_two_folders_of_the_same_name_keep_their_own_rows(tmp_path):
    _write_folder(tmp_path / "a" / "clips", ["The person nods."])
    _write_folder(tmp_path / "b" / "clips", ["The person kicks.", "The person claps."])
    assert load_hmi_split(str(tmp_path / "a" / "clips"))[0]["caption"] == ["The person nods."]
    assert len(load_hmi_split(str(tmp_path / "b" / "clips"))[0]) == 2
