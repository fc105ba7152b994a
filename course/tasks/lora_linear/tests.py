import copy

import torch
from peft import LoraConfig, get_peft_model
from torch import nn


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(6, 4)

    def forward(self, x):
        return self.proj(x)


def _pair(r=2, alpha=8):
    torch.manual_seed(0)
    net = _Net()
    peft_model = get_peft_model(copy.deepcopy(net), LoraConfig(r=r, lora_alpha=alpha, target_modules=["proj"],
                                                               lora_dropout=0.0))
    layer = peft_model.base_model.model.proj
    nn.init.normal_(layer.lora_B["default"].weight)  # non-zero B so that the LoRA path matters
    return net, layer, r, alpha


def test_matches_peft(mod):
    net, layer, r, alpha = _pair()
    mine = mod.LoRALinear(copy.deepcopy(net.proj), r, alpha)
    with torch.no_grad():
        mine.lora_A.weight.copy_(layer.lora_A["default"].weight)
        mine.lora_B.weight.copy_(layer.lora_B["default"].weight)
    x = torch.randn(3, 6)
    torch.testing.assert_close(mine(x), layer(x))


def test_starts_as_base(mod):
    base = nn.Linear(6, 4)
    x = torch.randn(2, 6)
    torch.testing.assert_close(mod.LoRALinear(base, 4, 16)(x), base(x))


def test_base_frozen(mod):
    layer = mod.LoRALinear(nn.Linear(6, 4), 2, 4)
    trainable = {n for n, p in layer.named_parameters() if p.requires_grad}
    assert trainable and all("lora" in n for n in trainable), f"trainable parameters: {sorted(trainable)}"
