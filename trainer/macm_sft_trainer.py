"""`SFTTrainer` with M-ACM's own loss: both pathways' caption losses, each logged."""

from __future__ import annotations

import torch
from trl import SFTTrainer

__all__ = ["MacmSFTTrainer"]


class MacmSFTTrainer(SFTTrainer):
    """
    TRL's `SFTTrainer`, with the loss taken from the model: M-ACM's forward decodes the visual and the motion
    pathway (as `config.loss_pathways` says) and returns their weighted mean, plus `visual_loss` and `motion_loss`,
    which are logged next to the visual pathway's token accuracy.
    """

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        mode = "train" if self.model.training else "eval"
        inputs = {**inputs, "use_cache": False}
        if num_items_in_batch is not None:
            inputs["num_items_in_batch"] = num_items_in_batch
        outputs = model(**inputs)
        loss = outputs.loss
        if num_items_in_batch is not None and self.args.average_tokens_across_devices:
            loss = loss * self.accelerator.num_processes  # DDP averages gradients; the token count spans all ranks

        for name in ("visual_loss", "motion_loss"):
            value = getattr(outputs, name, None)
            if value is not None:
                self._metrics[mode][name].append(self.accelerator.gather_for_metrics(value.detach()).mean().item())
        labels = inputs["labels"]
        with torch.no_grad():
            visual_logits = outputs.logits[: labels.shape[0], :-1]  # visual rows come first when both are decoded
            targets = labels[:, 1:]
            valid = targets != -100
            correct = (visual_logits.argmax(-1) == targets) & valid
            num_valid = self.accelerator.gather_for_metrics(valid.sum()).sum()
            num_correct = self.accelerator.gather_for_metrics(correct.sum()).sum()
        self._metrics[mode]["mean_token_accuracy"].append((num_correct / num_valid).item() if num_valid > 0 else 0.0)
        if mode == "train":
            tokens = self.accelerator.gather_for_metrics(inputs["attention_mask"].sum()).sum().item()
            self._total_train_tokens += tokens
            self._metrics[mode]["num_tokens"] = [self._total_train_tokens]
        return (loss, outputs) if return_outputs else loss
