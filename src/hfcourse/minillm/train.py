"""Pretraining and SFT loops for minillm.

    python -m hfcourse.minillm.train pretrain --out runs/pretrain --minutes 12
    python -m hfcourse.minillm.train sft --init runs/pretrain --out runs/sft --minutes 5

Gradient accumulation (each micro-batch loss divided by the number of steps), cosine schedule with warmup,
gradient clipping, mixed precision (bf16 autocast on CPU; fp16 + GradScaler on CUDA), NaN/Inf detection that
stops with a diagnosis, checkpoint + resume, and a JSON-lines log (step, loss, lr, tokens/s, elapsed).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from .data import PretrainDataset, SFTDataset, masked_cross_entropy
from .model import MiniLLMConfig, MiniLLMForCausalLM


class NonFiniteLoss(RuntimeError):
    pass


@dataclass
class TrainConfig:
    batch_size: int = 32
    accumulation_steps: int = 2
    lr: float = 2e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 50
    max_steps: int = 10_000
    max_minutes: float = 10.0
    clip_norm: float = 1.0
    weight_decay: float = 0.01
    mixed_precision: str = "bf16"  # "bf16" (CPU/CUDA autocast), "fp16" (CUDA + GradScaler), "no"
    log_every: int = 10
    save_every: int = 200
    seed: int = 0


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warmup to cfg.lr, then cosine decay to cfg.lr · min_lr_ratio at max_steps."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def check_finite(model, loss: torch.Tensor, step: int, lr: float) -> None:
    """Stop with a diagnosis at the first NaN/Inf: which step, the loss, the lr, the first bad gradient."""
    bad_grads = [n for n, p in model.named_parameters() if p.grad is not None and not torch.isfinite(p.grad).all()]
    if torch.isfinite(loss) and not bad_grads:
        return
    raise NonFiniteLoss(f"non-finite values at step {step}: loss={loss.item()}, lr={lr:.3g}, "
                        f"first non-finite gradient: {bad_grads[0] if bad_grads else 'none (the loss itself)'}; "
                        "check for all-padding batches, a too high learning rate, or fp16 overflow")


def train(model: MiniLLMForCausalLM, dataset, cfg: TrainConfig, out: Path, log_name: str = "train_log.jsonl",
          resume: bool = True) -> dict:
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    device = next(model.parameters()).device
    out.mkdir(parents=True, exist_ok=True)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.95), weight_decay=cfg.weight_decay)
    use_fp16 = cfg.mixed_precision == "fp16" and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_fp16)
    autocast_dtype = torch.float16 if use_fp16 else torch.bfloat16
    autocast_on = cfg.mixed_precision in ("bf16", "fp16")
    step = 0
    state_file = out / "trainer_state.pt"
    if resume and state_file.exists():
        state = torch.load(state_file, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step = state["step"]
    loader = DataLoader(dataset, batch_size=cfg.batch_size, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(cfg.seed + step))
    log = open(out / log_name, "a", encoding="utf-8")
    start = time.perf_counter()
    tokens = 0
    model.train()
    batches = iter(loader)
    while step < cfg.max_steps and (time.perf_counter() - start) < cfg.max_minutes * 60:
        lr = lr_at(step, cfg)
        for group in opt.param_groups:
            group["lr"] = lr
        total = 0.0
        for _ in range(cfg.accumulation_steps):
            try:
                x, y, mask = next(batches)
            except StopIteration:
                batches = iter(loader)
                x, y, mask = next(batches)
            x, y, mask = x.to(device), y.to(device), mask.to(device)
            with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_on):
                logits = model(x).logits
                loss = masked_cross_entropy(logits, y, mask)
                if model.config.use_moe:
                    loss = loss + model.config.aux_loss_coef * model.aux_loss()
            # Each micro-batch contributes 1/k of the gradient, so k micro-batches equal one big batch.
            scaler.scale(loss / cfg.accumulation_steps).backward()
            total += loss.item() / cfg.accumulation_steps
            tokens += int(mask.sum())
        scaler.unscale_(opt)
        check_finite(model, torch.tensor(total), step, lr)
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_norm)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        step += 1
        if step % cfg.log_every == 0 or step == 1:
            elapsed = time.perf_counter() - start
            log.write(json.dumps({"step": step, "loss": round(total, 4), "lr": lr, "grad_norm": round(float(grad_norm), 4),
                                  "tokens_per_s": round(tokens / elapsed, 1), "elapsed_s": round(elapsed, 1)}) + "\n")
            log.flush()
        if step % cfg.save_every == 0:
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step}, state_file)
    log.close()
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step}, state_file)
    model.eval()
    return {"steps": step, "seconds": round(time.perf_counter() - start, 1), "target_tokens": tokens}


@torch.no_grad()
def perplexity(model, dataset, batch_size: int = 64, max_batches: int = 50) -> float:
    model.eval()
    total, count = 0.0, 0
    for i, (x, y, mask) in enumerate(DataLoader(dataset, batch_size=batch_size)):
        if i >= max_batches:
            break
        logits = model(x).logits
        n = mask.sum().item()
        total += masked_cross_entropy(logits, y, mask).item() * n
        count += n
    return math.exp(total / max(count, 1))


def main(argv=None) -> int:
    from . import corpus

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", choices=["pretrain", "sft"])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--init", type=Path, help="checkpoint to start from (sft)")
    ap.add_argument("--tokenizer", type=Path, help="tokenizer folder (default: --init, or train one)")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--accumulation-steps", type=int, default=2)
    # bf16 autocast is emulated (slow) on CPUs without AVX-512 BF16/AMX; fp32 ("no") is then faster.
    ap.add_argument("--precision", choices=["bf16", "fp16", "no"], default="no",
                    help="no = fp32 (default; fastest on CPUs without native bf16), bf16 autocast, fp16 + GradScaler (CUDA)")
    ap.add_argument("--max-steps", type=int, help="end of the cosine schedule (default: 2.5 steps/s × minutes)")
    ap.add_argument("--warmup-steps", type=int, default=50)
    ap.add_argument("--lr", type=float, help="peak learning rate (default: 2e-3 pretrain, 5e-4 sft)")
    args = ap.parse_args(argv)
    run = dict(batch_size=args.batch_size, accumulation_steps=args.accumulation_steps,
               mixed_precision=args.precision, max_steps=args.max_steps or int(args.minutes * 60 * 2.5))
    from transformers import AutoTokenizer

    if args.stage == "pretrain":
        tokenizer = AutoTokenizer.from_pretrained(args.tokenizer) if args.tokenizer else corpus.build_tokenizer()
        config = MiniLLMConfig(vocab_size=len(tokenizer), hidden_size=args.hidden, num_hidden_layers=args.layers,
                               num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=args.max_length * 2,
                               pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                               eos_token_id=tokenizer.eos_token_id)
        model = MiniLLMForCausalLM(config)
        train_set = PretrainDataset(corpus.pretrain_texts("train"), tokenizer, args.max_length)
        cfg = TrainConfig(max_minutes=args.minutes, lr=args.lr or 2e-3, warmup_steps=args.warmup_steps, **run)
    else:
        tokenizer = AutoTokenizer.from_pretrained(args.init)
        model = MiniLLMForCausalLM.from_pretrained(args.init)
        train_set = SFTDataset(corpus.sft_conversations("train"), tokenizer, args.max_length)
        cfg = TrainConfig(max_minutes=args.minutes, lr=args.lr or 5e-4, warmup_steps=min(args.warmup_steps, 20), **run)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "run.json").write_text(json.dumps({k: str(v) if isinstance(v, Path) else v
                                                   for k, v in vars(args).items()}, indent=1), encoding="utf-8")
    result = train(model, train_set, cfg, args.out)
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    (args.out / "trainer_state.pt").unlink(missing_ok=True)
    print(json.dumps({**result, "examples": len(train_set), "parameters": model.num_parameters()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
