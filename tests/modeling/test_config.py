import pytest
from tiny_models import text_config, tiny_macm_config, vision_config

from macm.modeling_macm import MacmConfig


def test_config_from_two_dicts():
    config = MacmConfig(
        text_config=text_config(), vision_config=vision_config(), video_token_id=300, motion_token_id=301
    )
    assert config.text_config.model_type == "qwen2"
    assert config.vision_config.model_type == "siglip_vision_model"
    assert config.msd_alpha == [0.5, 0.2, 0.4, 0.8, 0.3, 2.0]
    assert (config.msd_beta, config.msd_theta, config.loss_pathways) == (0.2, 2.0, "both")


def test_default_config_is_llava_onevision_sized():
    config = MacmConfig()
    assert config.vision_config.image_size == 384 and config.vision_config.patch_size == 14
    assert config.video_token_id == 151647


def test_config_round_trip(tmp_path):
    config = tiny_macm_config(msd_beta=0.3, msd_terms=["L1", "L4"], loss_pathways="motion")
    config.save_pretrained(tmp_path)
    loaded = MacmConfig.from_pretrained(tmp_path)
    assert loaded.msd_beta == 0.3 and loaded.msd_terms == ["L1", "L4"] and loaded.loss_pathways == "motion"
    assert loaded.text_config.hidden_size == config.text_config.hidden_size


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"loss_pathways": "audio"}, "loss_pathways='audio'"),
        ({"motion_token_id": 999}, "motion_token_id=999"),
        ({"video_token_id": 5, "motion_token_id": 5}, "motion_token_id=5"),
        ({"vision_feature_select_strategy": "cls"}, "vision_feature_select_strategy='cls'"),
        ({"motion_frame_alpha": 1.5}, "motion_frame_alpha=1.5"),
        ({"motion_frame_style": "capsules"}, "motion_frame_style='capsules'"),
        ({"motion_encoder": "imu"}, "motion_encoder='imu'"),
        ({"motion_encoder_hidden_size": 130, "motion_encoder_heads": 4}, "motion_encoder_hidden_size=130"),
        ({"msd_beta": -0.1}, "`beta`"),
        ({"msd_alpha": [1.0, 2.0]}, "`alpha`"),
        ({"msd_synergy": "magic"}, "msd_synergy='magic'"),
        ({"msd_terms": ["L9"]}, "`terms`"),
    ],
)
def test_config_validation_names_field_and_value(overrides, field):
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("(", r"\(")):
        tiny_macm_config(**overrides)
