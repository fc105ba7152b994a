import torch
from transformers import AutoModelForCausalLM


@torch.no_grad()
def generate(model_dir, input_ids, max_new_tokens, do_sample=False, temperature=1.0, top_k=0, seed=None):
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    if seed is not None:
        torch.manual_seed(seed)
    ids = input_ids  # (1, t)
    for _ in range(max_new_tokens):
        logits = model(ids).logits[:, -1, :]  # (1, vocab); no cache: short and explicit
        if do_sample:
            logits = logits / temperature
            if top_k > 0:
                kth = torch.topk(logits, top_k).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            nxt = torch.multinomial(logits.softmax(-1), 1)
        else:
            nxt = logits.argmax(-1, keepdim=True)
        ids = torch.cat([ids, nxt], dim=-1)
    return ids
