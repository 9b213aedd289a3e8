"""The accelerate configs parse and name only options accelerate knows."""

from pathlib import Path

import pytest
import yaml
from accelerate.commands.config.config_args import ClusterConfig, load_config_from_file
from accelerate.utils import DistributedType

CONFIGS = Path(__file__).resolve().parents[2] / "trainer" / "configs"


@pytest.mark.parametrize(
    ("name", "kind", "processes"),
    [
        ("cpu_2proc.yaml", DistributedType.MULTI_CPU, 2),
        ("deepspeed_zero2.yaml", DistributedType.DEEPSPEED, 8),
        ("deepspeed_zero3.yaml", DistributedType.DEEPSPEED, 8),
        ("fsdp.yaml", DistributedType.FSDP, 8),
    ],
)
def test_accelerate_config_parses(name, kind, processes):
    config = load_config_from_file(str(CONFIGS / name))
    assert isinstance(config, ClusterConfig)
    assert config.distributed_type == kind and config.num_processes == processes
    raw = yaml.safe_load((CONFIGS / name).read_text())
    assert set(raw) <= set(ClusterConfig.__dataclass_fields__), set(raw) - set(ClusterConfig.__dataclass_fields__)


def _launch_options() -> set[str]:
    from accelerate.commands.launch import launch_command_parser

    return {action.dest for action in launch_command_parser()._actions}


@pytest.mark.parametrize(
    ("name", "section"),
    [
        ("deepspeed_zero2.yaml", "deepspeed_config"),
        ("deepspeed_zero3.yaml", "deepspeed_config"),
        ("fsdp.yaml", "fsdp_config"),
    ],
)
def test_plugin_options_are_accelerate_launch_options(name, section):
    """Each key of a config's plugin section becomes an `accelerate launch --KEY` option: it must exist."""
    options = set(yaml.safe_load((CONFIGS / name).read_text())[section])
    assert options and options <= _launch_options(), options - _launch_options()


def test_recipe_parses_with_the_script_parser():
    from trl import ModelConfig, SFTConfig, TrlParser

    from macm.trainer import sft_macm as module

    parser = TrlParser((module.MacmScriptArguments, SFTConfig, ModelConfig))
    script_args, training_args, model_args = parser.parse_args_and_config(
        ["--config", str(CONFIGS / "recipe_macm_qwen2_7b.yaml"), "--output_dir", "/tmp/unused", "--bf16", "false"]
    )
    assert script_args.qa_ratio == 0.2 and script_args.loss_pathways == "both" and script_args.num_frames == 16
    assert training_args.activation_checkpointing and training_args.learning_rate == 1e-5
    assert model_args.model_name_or_path == "./macm-qwen2-7b-init"
