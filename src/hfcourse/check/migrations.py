"""Old spellings that transformers 5.x removed or deprecated, with what replaced them.

Used for suggestions by the currency lint and for the prose check (inline code outside a migration note).
Each entry was checked against the installed libraries (see ../shared/CURRENCY.md); the decision whether a
name exists is always made against the installed package, this table only explains.

Severity: a removed spelling is an error; a deprecated one that still works in the installed version is a
warning (`torch_dtype=`: transformers 5.x pops it, logs "`torch_dtype` is deprecated! Use `dtype` instead!" and
uses it; `gradient_checkpointing_enable()` still exists beside `activation_checkpointing_enable()`).
"""

from __future__ import annotations

# keyword arguments: old → (new, version, status)
KWARGS = {
    "evaluation_strategy": ("eval_strategy", "v5.0", "removed"),
    "no_cuda": ("use_cpu", "v5.0", "removed"),
    "use_auth_token": ("token", "v5.0", "removed"),
    "use_flash_attention_2": ('attn_implementation="flash_attention_2"', "v5.0", "removed"),
    "load_in_8bit": ("quantization_config=BitsAndBytesConfig(load_in_8bit=True)", "v5.0", "removed"),
    "load_in_4bit": ("quantization_config=BitsAndBytesConfig(load_in_4bit=True)", "v5.0", "removed"),
    "torchscript": ("torch.compile / torch.export", "v5.0", "removed"),
    "torch_dtype": ("dtype", "v5.0", "deprecated"),
    "max_seq_length": ("max_length (TRL SFTConfig)", "trl 0.20", "removed"),
    "include_inputs_for_metrics": ('include_for_metrics=["inputs"]', "v5.0", "removed"),
    "tokenizer": ("processing_class", "v5.0", "removed"),  # Trainer(tokenizer=...)
    "penalty_alpha": ("a custom_generate repository (contrastive search left the library)", "v5.0", "removed"),
    "force_words_ids": ("a custom_generate repository (constrained beam search left the library)", "v5.0", "removed"),
}

# callables whose **kwargs hide the real signature: removed keywords are checked against KWARGS
KWARG_SENSITIVE_METHODS = {"from_pretrained", "generate", "pipeline", "Trainer", "SFTTrainer", "DPOTrainer"}
# `tokenizer=` is only removed for trainers; elsewhere (pipeline(tokenizer=...)) it is valid
TRAINER_ONLY_KWARGS = {"tokenizer"}
TRAINERS = {"Trainer", "Seq2SeqTrainer", "SFTTrainer", "DPOTrainer", "GRPOTrainer", "RewardTrainer"}

# method names removed from every receiver
METHODS = {
    "batch_encode_plus": ("tokenizer(list_of_texts, ...)", "v5.0"),
    "encode_plus": ("tokenizer(text, ...)", "v5.0"),
    "to_bettertransformer": ('attn_implementation="sdpa" (the default)', "v5.0"),
    "as_target_tokenizer": ("tokenizer(..., text_target=...)", "v5.0"),
    "to_legacy_cache": ("cache.layers[i].keys / .values", "v5.0"),
    "gradient_checkpointing_enable": ("activation_checkpointing_enable()", "v5 (deprecated, removed in v6)"),
}

# names removed from packages: suggestion for `from transformers import X`
NAMES = {
    "AdamW": "torch.optim.AdamW",
    "AutoModelWithLMHead": "AutoModelForCausalLM / AutoModelForMaskedLM / AutoModelForSeq2SeqLM",
    "AutoModelForVision2Seq": "AutoModelForImageTextToText",
    "TextDataset": "datasets.load_dataset('text', ...) + map",
    "LineByLineTextDataset": "datasets.load_dataset('text', ...) + map",
    "DataCollatorForWholeWordMask": "DataCollatorForLanguageModeling(whole_word_mask=True)",
    "DataCollatorForSOP": "a custom collator",
    "DataCollatorForCompletionOnlyLM": "SFTConfig(completion_only_loss=True) / assistant_only_loss",
    "BetterTransformer": 'attn_implementation="sdpa"',
}

TENSOR_TYPES_REMOVED = {"tf": "v5.0", "jax": "v5.0"}

# keywords removed from one particular callee whose **kwargs would otherwise swallow them
CALLEE_KWARGS = {
    ("load_dataset", "trust_remote_code"): ("remove it: dataset loading scripts are no longer supported "
                                            "(the argument is ignored with an error log)", "datasets 4.0"),
}

# pipeline tasks that transformers v5 removed → what to use instead (the decision that a task is gone is
# made against transformers.pipelines.SUPPORTED_TASKS of the installed version; this table only suggests)
PIPELINE_TASKS = {
    "summarization": 'pipeline("text-generation") with an instruction model and chat messages, '
                     "or AutoModelForSeq2SeqLM + generate()",
    "translation": 'pipeline("text-generation") with an instruction model, or AutoModelForSeq2SeqLM + generate()',
    "text2text-generation": "AutoModelForSeq2SeqLM + generate()",
    "question-answering": 'AutoModelForQuestionAnswering (start/end logits), or pipeline("text-generation")',
    "visual-question-answering": 'pipeline("image-text-to-text")',
    "conversational": 'pipeline("text-generation") with a list of chat messages',
}


def suggestion_for_task(task: str) -> str:
    key = "translation" if task.startswith("translation") else task
    return PIPELINE_TASKS.get(key, "")

# spellings flagged in prose (inline code) outside a migration note
PROSE = [
    r"\bevaluation_strategy\b", r"\buse_auth_token\b", r"\bbatch_encode_plus\b", r"\bencode_plus\b",
    r"\bto_bettertransformer\b", r"\bTFAutoModel\w*", r"\bFlaxAutoModel\w*", r"\buse_flash_attention_2\b",
    r"\bDataCollatorForWholeWordMask\b", r"\bTRANSFORMERS_CACHE\b", r"\bAutoModelWithLMHead\b",
    r"\bas_target_tokenizer\b", r"\bpenalty_alpha\b", r"\bforce_words_ids\b", r"\bno_cuda\b",
    r"\btorch_dtype\b", r"return_tensors\s*=\s*[\"'](?:tf|jax)[\"']", r"\bgradient_checkpointing_enable\b",
]
# of those, spellings that still work (deprecated, not removed): a warning in prose, like in code
PROSE_DEPRECATED = {r"\btorch_dtype\b", r"\bgradient_checkpointing_enable\b"}


def suggestion_for_kwarg(name: str) -> str:
    if name in KWARGS:
        new, version, status = KWARGS[name]
        return f"{status} in {version}; use {new}"
    return ""
