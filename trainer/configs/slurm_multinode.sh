#!/bin/bash
# Multi-node M-ACM fine-tuning: N nodes x 8 GPUs, DeepSpeed ZeRO-2, one `accelerate launch` per node.
#   sbatch --nodes=4 trainer/configs/slurm_multinode.sh
#SBATCH --job-name=macm-sft
#SBATCH --ntasks-per-node=1
#SBATCH --gres=gpu:8
#SBATCH --cpus-per-task=64
#SBATCH --exclusive
#SBATCH --output=logs/%x-%j.out
set -euo pipefail

MAIN_NODE=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
MAIN_PORT=${MAIN_PORT:-29500}
GPUS_PER_NODE=8
NUM_NODES=$SLURM_NNODES

srun bash -c "accelerate launch \
  --config_file trainer/configs/deepspeed_zero2.yaml \
  --num_machines $NUM_NODES \
  --num_processes $((NUM_NODES * GPUS_PER_NODE)) \
  --machine_rank \$SLURM_NODEID \
  --main_process_ip $MAIN_NODE \
  --main_process_port $MAIN_PORT \
  --rdzv_backend c10d \
  trainer/sft_macm.py --config trainer/configs/recipe_macm_qwen2_7b.yaml"
