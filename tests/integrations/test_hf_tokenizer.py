"""HFTokenizer: skillit's tokenizer contract over a Hugging Face fast tokenizer trained in-process."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from skillit.errors import DataError
from skillit.integrations.hf import HFTokenizer, train_hf_tokenizer
from skillit.model.tokenizer import Tokenizer as TokenizerContract
from skillit.skills import Example
from skillit.trainer import encode_example

TEXTS = ["Input: the movie was great\nOutput: POS", "Input: dull and slow\nOutput: NEG", "a=1, b=-a, c=+b; c? -1"] * 20


def test_trained_tokenizer_keeps_the_contract_and_round_trips():
    tok = train_hf_tokenizer(TEXTS, vocab_size=300)
    assert isinstance(tok, TokenizerContract)
    assert (tok.pad_id, tok.bos_id, tok.eos_id) == (0, 1, 2)
    assert tok.vocab_size == len(tok.tokenizer) > 256  # the 256 byte symbols, 3 specials, some merges
    for text in TEXTS[:3] + ["unseen wörds ✓ and symbols {}"]:  # byte-level: anything encodes
        ids = tok.encode(text)
        assert 0 not in ids and 1 not in ids and 2 not in ids  # no special token added
        assert tok.decode(ids) == text
    # skillit wraps prompt + answer in bos/eos itself; the answer's tokens are its own
    ids, start, end = encode_example(tok, Example("Input: dull and slow\nOutput:", " NEG", "s"))
    assert ids[0] == tok.bos_id and ids[-1] == tok.eos_id and tok.decode(ids[start:end]) == " NEG"


def test_training_is_deterministic():
    a, b = train_hf_tokenizer(TEXTS, vocab_size=280), train_hf_tokenizer(TEXTS, vocab_size=280)
    assert a.tokenizer.get_vocab() == b.tokenizer.get_vocab()
    assert a.encode(TEXTS[0]) == b.encode(TEXTS[0])


def _gpt2_style(**specials):
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel()
    backend.add_special_tokens(["<|endoftext|>"])
    return PreTrainedTokenizerFast(tokenizer_object=backend, **specials)


def test_a_tokenizer_with_only_eos_pads_and_starts_with_eos():
    tok = HFTokenizer(_gpt2_style(eos_token="<|endoftext|>"))
    assert tok.pad_id == tok.bos_id == tok.eos_id == tok.tokenizer.convert_tokens_to_ids("<|endoftext|>")


def test_a_tokenizer_without_eos_is_refused():
    with pytest.raises(DataError, match="has no eos token"):
        HFTokenizer(_gpt2_style())


def test_empty_texts_are_refused():
    with pytest.raises(DataError, match="at least one text"):
        train_hf_tokenizer([])


def test_the_trainer_log_names_each_record_field_in_the_singular():
    from skillit.integrations.hf import _log_values

    record = {"losses": {"a": 1.5}, "accuracies": {"a": 0.25}, "weights": {"a": 0.75}, "examples_seen": {"a": 12}}
    assert _log_values(record) == {"skillit/loss/a": 1.5, "skillit/accuracy/a": 0.25, "skillit/weight/a": 0.75,
                                   "skillit/examples/a": 12.0}


def test_wrapping_a_trained_tokenizer_again_is_refused_with_the_fix():
    with pytest.raises(DataError, match=r"already an HFTokenizer \(train_hf_tokenizer returns one\); use it as it is, "
                                        r"or wrap the Hugging Face tokenizer itself"):
        HFTokenizer(train_hf_tokenizer(TEXTS, vocab_size=280))
