"""
Fine-tune M-ACM with TRL's SFTTrainer on HMI-format data (captions and a share of the QA pairs).

8xA100, DeepSpeed ZeRO-2 (the paper's scale; see trainer/configs/recipe_macm_qwen2_7b.yaml):

    accelerate launch --config_file trainer/configs/deepspeed_zero2.yaml trainer/sft_macm.py \
        --config trainer/configs/recipe_macm_qwen2_7b.yaml

Two CPU processes (gloo), e.g. to check a set-up:

    accelerate launch --config_file trainer/configs/cpu_2proc.yaml trainer/sft_macm.py \
        --model_name_or_path ./macm-tiny --dataset_name ./synthmotion --output_dir ./runs/tiny \
        --per_device_train_batch_size 2 --max_steps 20 --use_cpu

Multi-node: trainer/configs/slurm_multinode.sh. Resume: `--resume_from_checkpoint last` (or a checkpoint path).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from transformers.trainer_utils import get_last_checkpoint
from trl import ModelConfig, ScriptArguments, SFTConfig, TrlParser, get_peft_config

logger = logging.getLogger(__name__)


@dataclass
class MacmScriptArguments(ScriptArguments):
    qa_ratio: float = field(default=0.2, metadata={"help": "Share of QA pairs mixed with the captions (paper: 0.2)."})
    caption_question: str = field(
        default="Describe the person's movements in detail.", metadata={"help": "Instruction paired with captions."}
    )
    num_frames: int | None = field(
        default=None, metadata={"help": "Keyframes (and motion frames) per clip (default: the model's num_keyframes)."}
    )
    joint_noise: float = field(
        default=0.0,
        metadata={"help": "Joints motion encoder: position noise on ground-truth keypoints, in body heights."},
    )
    estimator_residuals: str | None = field(
        default=None,
        metadata={
            "help": "Joints motion encoder: a pose estimator's recorded errors (`python -m macm.trainer.estimator_noise`)"
            " replayed on a share of the clips instead of the Gaussian noise."
        },
    )
    estimator_share: float = field(
        default=0.5,
        metadata={"help": "Share of clips given the recorded estimator errors (with estimator_residuals)."},
    )
    estimator_match: str = field(
        default="clip",
        metadata={
            "help": "How recorded errors are picked: `clip` (one recorded clip, frame by frame) or `pose` (per frame, "
            "from the recorded frames of the nearest true poses).",
            "choices": ["clip", "pose"],
        },
    )
    loss_pathways: str | None = field(
        default=None, metadata={"help": "both, visual or motion (default: the model config's `loss_pathways`)."}
    )
    freeze_vision_tower: bool = field(default=True, metadata={"help": "Keep the shared vision tower frozen."})
    freeze_projectors: bool = field(default=False, metadata={"help": "Freeze the visual and motion projectors."})
    freeze_language_model: bool = field(default=False, metadata={"help": "Freeze the LLM and LM head."})
    freeze_motion_encoder: bool = field(
        default=False, metadata={"help": "Freeze the joints motion encoder (e.g. after `motion_pretrain`)."}
    )
    init_from_config: bool = field(
        default=False,
        metadata={"help": "Randomly initialise the model from the folder's config.json (training from scratch)."},
    )


def load_model_and_processor(script_args: MacmScriptArguments, model_args: ModelConfig):
    from macm.modeling_macm import MacmConfig, MacmForConditionalGeneration, MacmProcessor

    path, revision = model_args.model_name_or_path, model_args.model_revision
    # The folder maps AutoProcessor to its own code; the local class loads it without asking.
    processor = MacmProcessor.from_pretrained(path, revision=revision, trust_remote_code=True)
    if script_args.init_from_config:
        config = MacmConfig.from_pretrained(path, revision=revision)
        if model_args.attn_implementation:
            config._attn_implementation = model_args.attn_implementation
        model = MacmForConditionalGeneration(config)
    else:
        model = MacmForConditionalGeneration.from_pretrained(
            path,
            revision=revision,
            dtype=model_args.dtype or "auto",
            attn_implementation=model_args.attn_implementation,
        )
    if script_args.loss_pathways is not None:
        model.config.loss_pathways = script_args.loss_pathways
        model.config.validate_macm_fields()
    return model, processor


def main(script_args: MacmScriptArguments, training_args: SFTConfig, model_args: ModelConfig) -> None:
    from datasets import Dataset

    from macm.trainer.collator import MacmCollator
    from macm.trainer.data import build_sft_samples, load_hmi_split
    from macm.trainer.estimator_noise import EstimatorNoise
    from macm.trainer.freezing import apply_freezing
    from macm.trainer.macm_sft_trainer import MacmSFTTrainer

    ################
    # Model
    ################
    model, processor = load_model_and_processor(script_args, model_args)
    apply_freezing(
        model,
        vision_tower=script_args.freeze_vision_tower,
        projectors=script_args.freeze_projectors,
        language_model=script_args.freeze_language_model,
        motion_encoder=script_args.freeze_motion_encoder,
    )
    peft_config = get_peft_config(model_args)
    if peft_config is not None:
        # LoRA on the LLM; both projectors stay fully trainable and are saved with the adapter
        peft_config.modules_to_save = ["multi_modal_projector", "motion_projector"]

    ################
    # Dataset
    ################
    rows, root = load_hmi_split(script_args.dataset_name, script_args.dataset_train_split, script_args.dataset_config)
    samples = build_sft_samples(rows, script_args.qa_ratio, training_args.seed, script_args.caption_question)
    train_dataset = Dataset.from_list(samples)
    eval_dataset = None
    if training_args.eval_strategy != "no":
        eval_rows, _ = load_hmi_split(
            script_args.dataset_name, script_args.dataset_test_split, script_args.dataset_config
        )
        eval_dataset = Dataset.from_list(
            build_sft_samples(eval_rows, script_args.qa_ratio, training_args.seed, script_args.caption_question)
        )

    ################
    # Training
    ################
    estimator_noise = EstimatorNoise.load(script_args.estimator_residuals) if script_args.estimator_residuals else None
    training_args.remove_unused_columns = False  # the collator needs the media fields
    training_args.dataset_kwargs = {"skip_prepare_dataset": True}
    trainer = MacmSFTTrainer(
        model=model,
        args=training_args,
        data_collator=MacmCollator(
            processor,
            root,
            script_args.num_frames or model.config.num_keyframes,
            training_args.max_length,
            motion_encoder=model.config.motion_encoder,
            joint_noise=script_args.joint_noise,
            estimator_noise=estimator_noise,
            estimator_share=script_args.estimator_share,
            estimator_match=script_args.estimator_match,
        ),
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=processor,
        peft_config=peft_config,
    )
    resume = training_args.resume_from_checkpoint
    if resume in ("last", "True", "true"):
        resume = get_last_checkpoint(training_args.output_dir)
        logger.info("Resuming from %s", resume or "scratch (no checkpoint yet)")
    trainer.train(resume_from_checkpoint=resume)

    if peft_config is None:
        trainer.save_model(training_args.output_dir)  # gathers ZeRO-3 / FSDP shards; writes the processor too
    elif trainer.accelerator.is_main_process:
        # a plain M-ACM folder (LoRA merged), loadable with AutoModel(..., trust_remote_code=True)
        trainer.model.merge_and_unload().save_pretrained(training_args.output_dir)
        processor.save_pretrained(training_args.output_dir)
    trainer.accelerator.wait_for_everyone()


if __name__ == "__main__":
    parser = TrlParser((MacmScriptArguments, SFTConfig, ModelConfig))
    main(*parser.parse_args_and_config())
