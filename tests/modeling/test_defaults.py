"""Defaults the processing side needs before a checkpoint is loaded are the model config's own."""

from macm.modeling_macm import MacmConfig
from macm.modeling_macm.msd import DEFAULT_MSD_ALPHA, DEFAULT_MSD_BETA, DEFAULT_MSD_SYNERGY, DEFAULT_MSD_THETA
from macm.processing.keyframes import DEFAULT_NUM_KEYFRAMES
from macm.processing.motion_frames import MotionFrameSettings


def test_keyframe_and_motion_frame_defaults_are_the_configs():
    config = MacmConfig()
    assert config.num_keyframes == DEFAULT_NUM_KEYFRAMES
    settings = MotionFrameSettings()
    assert (settings.style, settings.alpha) == (config.motion_frame_style, config.motion_frame_alpha)


def test_msd_defaults_are_the_configs():
    config = MacmConfig()
    assert tuple(config.msd_alpha) == DEFAULT_MSD_ALPHA
    assert (config.msd_beta, config.msd_theta, config.msd_synergy) == (
        DEFAULT_MSD_BETA,
        DEFAULT_MSD_THETA,
        DEFAULT_MSD_SYNERGY,
    )
