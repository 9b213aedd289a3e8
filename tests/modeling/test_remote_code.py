"""A saved M-ACM folder loads through the Auto classes with trust_remote_code, away from the project's code."""

import json
import shutil

import pytest
import torch
from isolated import LOAD_AND_RUN_MODEL, run_isolated
from tiny_models import paired_inputs


@pytest.fixture(scope="module")
def saved_copy(tmp_path_factory, tiny_model, tiny_processor):
    saved = tmp_path_factory.mktemp("saved")
    tiny_model.save_pretrained(saved)
    tiny_processor.save_pretrained(saved)
    copy = tmp_path_factory.mktemp("elsewhere") / "macm-tiny"
    shutil.copytree(saved, copy)
    return copy


def test_auto_classes_load_in_isolation_and_match(saved_copy, tiny_model, tiny_processor, tmp_path):
    inputs = dict(paired_inputs(tiny_processor, ["Describe.", "Which foot steps first?"]))
    torch.save(inputs, tmp_path / "inputs.pt")
    run_isolated(
        LOAD_AND_RUN_MODEL, str(saved_copy), str(tmp_path / "inputs.pt"), str(tmp_path / "out.pt"), cwd=tmp_path
    )
    result = torch.load(tmp_path / "out.pt")
    assert (result["model"], result["processor"]) == ("MacmForConditionalGeneration", "MacmProcessor")
    with torch.no_grad():
        expected = tiny_model(**inputs, pathways="both").logits
    expected_ids = tiny_model.generate(**inputs, max_new_tokens=6, do_sample=False, msd=True)
    torch.testing.assert_close(result["logits"], expected, rtol=0, atol=0)
    torch.testing.assert_close(result["ids"], expected_ids, rtol=0, atol=0)
    assert result["prompt_len"] == tiny_processor.num_video_tokens(3)


def test_auto_map_and_refusal_without_trust_remote_code(saved_copy):
    from transformers import AutoModel

    config = json.loads((saved_copy / "config.json").read_text())
    assert config["auto_map"] == {
        "AutoConfig": "configuration_macm.MacmConfig",
        "AutoModel": "modeling_macm.MacmForConditionalGeneration",
        "AutoModelForImageTextToText": "modeling_macm.MacmForConditionalGeneration",
        "AutoProcessor": "processing_macm.MacmProcessor",
    }
    with pytest.raises(ValueError, match="trust_remote_code"):
        AutoModel.from_pretrained(saved_copy, trust_remote_code=False)


def test_device_map_loading(saved_copy, tiny_model):
    from transformers import AutoModel

    model = AutoModel.from_pretrained(saved_copy, trust_remote_code=True, device_map="cpu")
    for name, tensor in tiny_model.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], tensor, rtol=0, atol=0)


def test_generation_config_carries_the_msd_settings(saved_copy, tiny_model):
    from macm.modeling_macm.msd import MSD_GENERATION_FIELDS

    generation = json.loads((saved_copy / "generation_config.json").read_text())
    for name in MSD_GENERATION_FIELDS:
        assert generation[name] == getattr(tiny_model.config, name), name


def test_a_folder_saved_without_msd_generation_settings_writes_them_when_saved_again(saved_copy, tmp_path):
    from macm.modeling_macm import MacmForConditionalGeneration
    from macm.modeling_macm.msd import MSD_GENERATION_FIELDS

    older = shutil.copytree(saved_copy, tmp_path / "older")
    path = older / "generation_config.json"
    written = json.loads(path.read_text())
    path.write_text(json.dumps({k: v for k, v in written.items() if k not in MSD_GENERATION_FIELDS}))
    MacmForConditionalGeneration.from_pretrained(older).save_pretrained(tmp_path / "again")
    again = json.loads((tmp_path / "again" / "generation_config.json").read_text())
    assert {name: again[name] for name in MSD_GENERATION_FIELDS} == {
        name: written[name] for name in MSD_GENERATION_FIELDS
    }
