"""`macm.trainer.pose_pretrain`: joint targets per patch, and a tower that learns to find the joints."""

from __future__ import annotations

import json

import torch

from macm.trainer.pose_pretrain import joint_patch_targets, main


def test_joint_patch_targets_name_the_patch_and_the_offset_inside_it():
    pixels = torch.tensor([[[0.0, 0.0], [17.0, 40.0], [95.99, 95.99], [-3.0, 10.0], [50.0, 96.0]]])
    cell, offset, inside = joint_patch_targets(pixels, size=96, patch=16)
    assert cell.tolist() == [[0, 2 * 6 + 1, 35, 0, 5 * 6 + 3]]  # row-major over the 6 x 6 patch grid
    assert torch.allclose(offset[0, 1], torch.tensor([1 / 16 - 0.5, 8 / 16 - 0.5]))
    assert inside.tolist() == [[True, True, True, False, False]]  # off-frame joints are not scored


def test_pretraining_changes_only_the_tower_and_saves_a_loadable_folder(tmp_path, capsys):
    from macm.modeling_macm import MacmForConditionalGeneration
    from macm.processing.synth import SynthConfig, write_dataset
    from macm.trainer.init_from_scratch import main as init_main

    write_dataset(tmp_path / "synth", 16, SynthConfig(seed=11, size=64, test_fraction=0.3), progress=False)
    init_main(
        ["--synthmotion", "--out", str(tmp_path / "init"), "--image-size", "64", "--vision-hidden", "32",
         "--vision-layers", "1", "--text-hidden", "32", "--text-layers", "1", "--num-keyframes", "4"]
    )  # fmt: skip
    capsys.readouterr()
    main(["--model", str(tmp_path / "init"), "--data", str(tmp_path / "synth"), "--out", str(tmp_path / "pose"),
          "--steps", "30"])  # fmt: skip
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(report["joint_patch_accuracy"]) == {"visual", "motion"}
    assert all(0.0 <= value <= 1.0 for value in report["joint_patch_accuracy"].values())

    before = MacmForConditionalGeneration.from_pretrained(tmp_path / "init").state_dict()
    after = MacmForConditionalGeneration.from_pretrained(tmp_path / "pose").state_dict()
    changed = {name for name in before if not torch.equal(before[name], after[name])}
    assert changed and all(name.startswith("model.vision_tower.") for name in changed), sorted(changed)[:5]
    assert (tmp_path / "pose" / "tokenizer.json").exists()
