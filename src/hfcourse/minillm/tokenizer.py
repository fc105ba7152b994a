"""A byte-level BPE tokenizer (vocab 6400) trained on the course's Chinese corpora, saved in HF format."""

from __future__ import annotations

from collections.abc import Iterable

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]  # ids 0 (pad), 1 (bos), 2 (eos)
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def train_tokenizer(texts: Iterable[str], vocab_size: int = 6400):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    assert [tok.token_to_id(t) for t in SPECIAL] == [0, 1, 2]
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=SPECIAL[0], unk_token=SPECIAL[0],
                                 bos_token=SPECIAL[1], eos_token=SPECIAL[2], model_max_length=512)
    hf.chat_template = CHAT_TEMPLATE
    return hf
