"""minillm: a from-scratch MiniMind-style LLM (tokenizer, data, model, training, generation).

Importing this package registers `minillm` with AutoConfig and AutoModelForCausalLM, so a saved checkpoint
loads with `AutoModelForCausalLM.from_pretrained(path)`.
"""

from transformers import AutoConfig, AutoModelForCausalLM

from .model import (Attention, FeedForward, MiniLLMConfig, MiniLLMForCausalLM, MoEFeedForward, RMSNorm,
                    apply_rotary_pos_emb, precompute_rope, repeat_kv)

AutoConfig.register("minillm", MiniLLMConfig, exist_ok=True)
AutoModelForCausalLM.register(MiniLLMConfig, MiniLLMForCausalLM, exist_ok=True)

__all__ = ["Attention", "FeedForward", "MiniLLMConfig", "MiniLLMForCausalLM", "MoEFeedForward", "RMSNorm",
           "apply_rotary_pos_emb", "precompute_rope", "repeat_kv"]
