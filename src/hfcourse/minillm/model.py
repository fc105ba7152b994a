"""MiniLLM: a small decoder-only transformer written from first principles, as a transformers model.

    token ids ─ embed_tokens ─┬─ DecoderLayer × L ─ RMSNorm ─ lm_head (tied to embed_tokens) ─ logits
                              │   x = x + Attention(RMSNorm(x))      grouped-query attention, RoPE, KV cache
                              │   x = x + FeedForward(RMSNorm(x))    SwiGLU, or a top-k mixture of experts

Shapes use B = batch, T = new tokens, S = all key positions (cache + new), H = heads, K = kv heads,
D = head dim. Registered with AutoConfig / AutoModelForCausalLM when `hfcourse.minillm` is imported.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from transformers import GenerationMixin, PretrainedConfig, PreTrainedModel
from transformers.cache_utils import Cache, DynamicCache
from transformers.modeling_outputs import CausalLMOutputWithPast


class MiniLLMConfig(PretrainedConfig):
    model_type = "minillm"
    keys_to_ignore_at_inference = ["cache"]

    def __init__(self, vocab_size=6400, hidden_size=256, num_hidden_layers=4, num_attention_heads=8,
                 num_key_value_heads=2, intermediate_size=None, max_position_embeddings=512, rope_theta=10000.0,
                 rope_parameters=None, rms_norm_eps=1e-6, dropout=0.0, use_moe=False, num_experts=4,
                 num_experts_per_tok=2, aux_loss_coef=0.01, tie_word_embeddings=True, pad_token_id=0,
                 bos_token_id=1, eos_token_id=2, initializer_range=0.02, **kwargs):
        if hidden_size % num_attention_heads:
            raise ValueError(f"hidden_size ({hidden_size}) must be divisible by num_attention_heads ({num_attention_heads})")
        if num_attention_heads % num_key_value_heads:
            raise ValueError(f"num_attention_heads ({num_attention_heads}) must be a multiple of num_key_value_heads "
                             f"({num_key_value_heads})")
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads
        # SwiGLU has three matrices: ~8/3·d keeps the parameter count of a 4·d two-matrix MLP; round to 64.
        self.intermediate_size = intermediate_size or 64 * math.ceil(8 * hidden_size / 3 / 64)
        self.max_position_embeddings = max_position_embeddings
        self.rope_theta = rope_theta
        # transformers 5.x keeps every RoPE setting in one dict: {"rope_type": "default" | "yarn", "rope_theta": θ,
        # and for YaRN "factor": 4.0, "original_max_position_embeddings": 512}. (A legacy `rope_scaling` kwarg in
        # an old config.json is converted into this dict by PretrainedConfig.__init__.)
        self.rope_parameters = {"rope_type": "default", "rope_theta": rope_theta, **(rope_parameters or {})}
        self.rms_norm_eps = rms_norm_eps
        self.dropout = dropout
        self.use_moe = use_moe
        self.num_experts = num_experts
        self.num_experts_per_tok = num_experts_per_tok
        self.aux_loss_coef = aux_loss_coef
        self.initializer_range = initializer_range
        super().__init__(tie_word_embeddings=tie_word_embeddings, pad_token_id=pad_token_id, bos_token_id=bos_token_id,
                         eos_token_id=eos_token_id, **kwargs)


class RMSNorm(nn.Module):
    """x / sqrt(mean(x²) + eps) · weight — LayerNorm without centring and without bias."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()  # the statistics in fp32, whatever the compute dtype
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


def precompute_rope(head_dim: int, max_positions: int, theta: float = 10000.0, scaling: dict | None = None):
    """cos, sin tables of shape (max_positions, head_dim) for rotary position embeddings.

    Frequency i rotates by position·θ^(-2i/D). With YaRN-style scaling (`{"rope_type": "yarn", "factor": s,
    "original_max_position_embeddings": L}`), low-frequency dimensions (wavelength longer than L) are
    interpolated by 1/s, high-frequency ones are kept, with a linear ramp in between, so a model trained
    on length L can attend over s·L positions; the attention temperature is corrected by 0.1·ln(s) + 1.
    """
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))  # (D/2,)
    mscale = 1.0
    if scaling and scaling.get("rope_type", scaling.get("type")) == "yarn":
        factor = float(scaling["factor"])
        original = float(scaling["original_max_position_embeddings"])
        wavelength = 2 * math.pi / inv_freq
        low, high = original / 32.0, original / 1.0  # beta_fast = 32, beta_slow = 1 wavelengths
        ramp = ((wavelength - low) / (high - low)).clamp(0, 1)  # 0: keep (high freq), 1: interpolate
        inv_freq = inv_freq * (1 - ramp) + (inv_freq / factor) * ramp
        mscale = 0.1 * math.log(factor) + 1.0
    positions = torch.arange(max_positions, dtype=torch.float32)
    angles = torch.outer(positions, inv_freq)  # (P, D/2)
    emb = torch.cat([angles, angles], dim=-1)  # (P, D)
    return emb.cos() * mscale, emb.sin() * mscale


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    """q: (B, H, T, D), k: (B, K, T, D), cos/sin: (B, T, D) → rotated q, k."""
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)  # broadcast over heads
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """(B, K, S, D) → (B, K·n_rep, S, D): each kv head serves n_rep query heads (grouped-query attention)."""
    if n_rep == 1:
        return x
    b, k, s, d = x.shape
    return x[:, :, None, :, :].expand(b, k, n_rep, s, d).reshape(b, k * n_rep, s, d)


class Attention(nn.Module):
    def __init__(self, config: MiniLLMConfig, layer_idx: int):
        super().__init__()
        self.layer_idx = layer_idx
        self.n_heads = config.num_attention_heads
        self.n_kv = config.num_key_value_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.q_proj = nn.Linear(config.hidden_size, self.n_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(config.hidden_size, self.n_kv * self.head_dim, bias=False)
        self.v_proj = nn.Linear(config.hidden_size, self.n_kv * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.n_heads * self.head_dim, config.hidden_size, bias=False)
        self.dropout = config.dropout

    def forward(self, x, cos, sin, mask, past_key_values: Cache | None = None):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)  # (B, H, T, D)
        k = self.k_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)  # (B, K, T, D)
        v = self.v_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)  # (B, K, T, D)
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        if past_key_values is not None:  # append this step's k, v; get everything seen so far
            k, v = past_key_values.update(k, v, self.layer_idx)  # (B, K, S, D)
        k, v = repeat_kv(k, self.n_heads // self.n_kv), repeat_kv(v, self.n_heads // self.n_kv)  # (B, H, S, D)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # (B, H, T, S)
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        probs = F.softmax(scores.float(), dim=-1).type_as(q)
        probs = F.dropout(probs, p=self.dropout, training=self.training)
        out = (probs @ v).transpose(1, 2).reshape(b, t, -1)  # (B, T, H·D)
        return self.o_proj(out)


class FeedForward(nn.Module):
    """SwiGLU: down(silu(gate(x)) · up(x))."""

    def __init__(self, config: MiniLLMConfig):
        super().__init__()
        self.gate_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.up_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.down_proj = nn.Linear(config.intermediate_size, config.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class MoEFeedForward(nn.Module):
    """Top-k mixture of SwiGLU experts with a load-balancing auxiliary loss.

    aux = E · Σ_e f_e · P_e, where f_e is the fraction of routing slots sent to expert e and P_e the mean
    router probability of e; it equals its minimum, 1, when routing is uniform.
    """

    def __init__(self, config: MiniLLMConfig):
        super().__init__()
        self.top_k = config.num_experts_per_tok
        self.n_experts = config.num_experts
        self.router = nn.Linear(config.hidden_size, config.num_experts, bias=False)
        self.experts = nn.ModuleList(FeedForward(config) for _ in range(config.num_experts))
        self.aux_loss = torch.tensor(0.0)

    def route(self, x):
        """x: (N, C) → router probs (N, E), top-k weights (N, k) renormalised, top-k expert ids (N, k)."""
        probs = F.softmax(self.router(x).float(), dim=-1)
        weights, experts = probs.topk(self.top_k, dim=-1)
        return probs, (weights / weights.sum(-1, keepdim=True)).type_as(x), experts

    def forward(self, x):
        shape = x.shape
        flat = x.reshape(-1, shape[-1])  # (N, C)
        probs, weights, experts = self.route(flat)
        out = torch.zeros_like(flat)
        for e, expert in enumerate(self.experts):
            rows, slot = (experts == e).nonzero(as_tuple=True)
            if rows.numel():
                out.index_add_(0, rows, expert(flat[rows]) * weights[rows, slot, None])
        fraction = F.one_hot(experts, self.n_experts).float().sum(1).mean(0) / self.top_k  # (E,)
        self.aux_loss = self.n_experts * (fraction * probs.mean(0)).sum()
        return out.view(shape)


class DecoderLayer(nn.Module):
    def __init__(self, config: MiniLLMConfig, layer_idx: int):
        super().__init__()
        self.input_norm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.self_attn = Attention(config, layer_idx)
        self.post_attention_norm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.mlp = MoEFeedForward(config) if config.use_moe else FeedForward(config)

    def forward(self, x, cos, sin, mask, past_key_values=None):
        x = x + self.self_attn(self.input_norm(x), cos, sin, mask, past_key_values)
        return x + self.mlp(self.post_attention_norm(x))


class MiniLLMPreTrainedModel(PreTrainedModel):
    config_class = MiniLLMConfig
    base_model_prefix = "model"
    _no_split_modules = ["DecoderLayer"]
    _supports_cache_class = True

    def _init_weights(self, module):
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=std)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=std)
        elif isinstance(module, RMSNorm):
            nn.init.ones_(module.weight)
        elif isinstance(module, MiniLLMModel):
            # rope tables are non-persistent buffers (not in the checkpoint): rebuild them after loading
            cos, sin = module.rope_tables()
            with torch.no_grad():
                module.rope_cos.copy_(cos)
                module.rope_sin.copy_(sin)


def build_mask(attention_mask, t: int, s: int, device) -> torch.Tensor:
    """(B, 1, T, S) bool: query i (absolute position s - t + i) may see key j ≤ its own position, and only
    keys that are not padding."""
    q_pos = torch.arange(s - t, s, device=device)[:, None]  # (T, 1)
    causal = torch.arange(s, device=device)[None, :] <= q_pos  # (T, S)
    mask = causal[None, None]
    if attention_mask is not None:
        mask = mask & attention_mask[:, None, None, :s].bool()
    return mask  # masked scores get finfo.min (not -inf), so a fully padded row stays finite


class MiniLLMModel(MiniLLMPreTrainedModel):
    def __init__(self, config: MiniLLMConfig):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size, config.pad_token_id)
        self.layers = nn.ModuleList(DecoderLayer(config, i) for i in range(config.num_hidden_layers))
        self.norm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        cos, sin = self.rope_tables()
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.post_init()

    def rope_tables(self):
        c = self.config
        rope = c.rope_parameters
        scaling = rope if rope.get("rope_type") == "yarn" else None
        # As in transformers, max_position_embeddings is the length after YaRN extension (factor × original).
        return precompute_rope(c.hidden_size // c.num_attention_heads, c.max_position_embeddings, rope["rope_theta"],
                               scaling)

    def get_input_embeddings(self):
        return self.embed_tokens

    def set_input_embeddings(self, value):
        self.embed_tokens = value

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, cache=None,
                inputs_embeds=None, use_cache=None, **kwargs):
        # transformers 5.24 names the KV cache `cache` (generate passes it so); `past_key_values` is its old name
        past_key_values = cache if cache is not None else kwargs.get("past_key_values")
        x = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds  # (B, T, C)
        b, t, _ = x.shape
        if use_cache and past_key_values is None:
            past_key_values = DynamicCache(config=self.config)
        past = past_key_values.get_seq_length() if past_key_values is not None else 0
        if position_ids is None:
            position_ids = torch.arange(past, past + t, device=x.device)[None].expand(b, t)
        cos, sin = self.rope_cos[position_ids], self.rope_sin[position_ids]  # (B, T, D)
        mask = build_mask(attention_mask, t, past + t, x.device)
        for layer in self.layers:
            x = layer(x, cos.type_as(x), sin.type_as(x), mask, past_key_values)
        return self.norm(x), past_key_values


class MiniLLMForCausalLM(MiniLLMPreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"lm_head.weight": "model.embed_tokens.weight"}

    def __init__(self, config: MiniLLMConfig):
        super().__init__(config)
        self.model = MiniLLMModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.model.embed_tokens

    def get_output_embeddings(self):
        return self.lm_head

    def aux_loss(self) -> torch.Tensor:
        return sum((l.mlp.aux_loss for l in self.model.layers if isinstance(l.mlp, MoEFeedForward)),
                   torch.tensor(0.0))

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, cache=None,
                inputs_embeds=None, labels=None, loss_mask=None, use_cache=None, logits_to_keep=0, **kwargs):
        """labels are the targets aligned with input_ids (shifted inside, HF convention, -100 ignored);
        loss_mask (same shape as labels) additionally selects which target positions count."""
        cache = cache if cache is not None else kwargs.get("past_key_values")  # the pre-5.24 name
        hidden, cache = self.model(input_ids, attention_mask, position_ids, cache, inputs_embeds, use_cache)
        if logits_to_keep:
            hidden = hidden[:, -logits_to_keep:]
        logits = self.lm_head(hidden)  # (B, T, V)
        loss = None
        if labels is not None:
            targets = labels[:, 1:]
            keep = targets != -100
            if loss_mask is not None:
                keep = keep & loss_mask[:, 1:].bool()
            per_token = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.size(-1)),
                                        targets.clamp_min(0).reshape(-1), reduction="none")
            # The guard against an all-padding batch: divide by at least 1, never by 0.
            loss = (per_token * keep.reshape(-1)).sum() / keep.sum().clamp_min(1)
            if self.config.use_moe:
                loss = loss + self.config.aux_loss_coef * self.aux_loss()
        return CausalLMOutputWithPast(loss=loss, logits=logits, cache=cache if use_cache else None)
