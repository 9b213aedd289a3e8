import torch
from tiny_models import paired_inputs, tiny_macm


def test_one_step_updates_projectors_and_lm_but_not_frozen_tower(tiny_processor):
    model = tiny_macm(seed=2).train()
    model.model.vision_tower.requires_grad_(False)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    inputs = paired_inputs(tiny_processor, ["Describe.", "Which knee bends?"])
    labels = inputs["input_ids"].masked_fill(inputs["attention_mask"] == 0, -100)
    model(**inputs, labels=labels).loss.backward()
    optimizer.step()

    changed = {name for name, p in model.named_parameters() if not torch.equal(p, before[name])}
    tower = {name for name in before if name.startswith("model.vision_tower.")}
    assert tower and not (changed & tower)
    for prefix in ("model.multi_modal_projector.", "model.motion_projector.", "model.language_model.", "lm_head."):
        assert any(name.startswith(prefix) for name in changed), prefix
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == changed
