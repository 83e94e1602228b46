import pytest
import torch

from skillit.errors import DataError
from skillit.model import GPT, CharTokenizer, GPTConfig, WordTokenizer, tokenizer_from_state


def test_char_tokenizer_round_trip_and_specials():
    tok = CharTokenizer.from_texts(["ab=1", "c=!a"])
    assert tok.vocab_size == 3 + len(set("ab=1c!"))
    ids = tok.encode("c=!a")
    assert tok.decode(ids) == "c=!a" and min(ids) >= 3
    assert tok.decode([tok.bos_id, *ids, tok.eos_id, tok.pad_id]) == "c=!a"
    with pytest.raises(DataError, match="'z'.*not in the vocabulary"):
        tok.encode("z")
    assert tokenizer_from_state(tok.state_dict()).encode("ab") == tok.encode("ab")


def test_word_tokenizer_keeps_spaces_so_prompt_plus_answer_concatenates():
    tok = WordTokenizer.from_texts(["Input: a b Output: yes", "Output: no"])
    prompt, answer = "Input: a b Output:", " yes"
    assert tok.encode(prompt) + tok.encode(answer) == tok.encode(prompt + answer)
    assert tok.decode(tok.encode(prompt + answer)) == prompt + answer


def test_gpt_is_causal_and_returns_logits():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16))
    x = torch.randint(0, 11, (2, 6))
    out = model(input_ids=x).logits
    assert out.shape == (2, 6, 11)
    changed = x.clone()
    changed[:, 4:] = (changed[:, 4:] + 1) % 11
    # positions before the change see the same prefix, so their logits are identical
    assert torch.allclose(model(input_ids=changed).logits[:, :4], out[:, :4], atol=1e-6)
    with pytest.raises(ValueError, match="block_size"):
        model(input_ids=torch.zeros((1, 9), dtype=torch.long))


def test_embeddings_are_untied_by_default_and_can_be_tied():
    untied = GPT(GPTConfig(vocab_size=7, block_size=4, n_layer=1, n_head=1, n_embd=8))
    tied = GPT(GPTConfig(vocab_size=7, block_size=4, n_layer=1, n_head=1, n_embd=8, tie_embeddings=True))
    assert untied.lm_head.weight is not untied.wte.weight
    assert tied.lm_head.weight is tied.wte.weight
    assert tied.num_parameters() == untied.num_parameters() - 7 * 8


def test_word_tokenizer_splits_punctuation_and_folds_one_space_into_the_next_word():
    """Spaces were tokens and punctuation stuck to words ('bathroom.' != 'bathroom'), doubling counts and
    vocabularies (issue 14, item 2)."""
    from skillit.utils.text import word_units

    assert word_units("Is it a bathroom?") == ["Is", " it", " a", " bathroom", "?"]
    assert word_units("the bathroom. A bathroom, no") == ["the", " bathroom", ".", " A", " bathroom", ",", " no"]
    assert word_units("a  b\nc ") == ["a", " ", " b", "\n", "c", " "]  # other whitespace: units of its own
    assert word_units("-29") == ["-", "29"]
    tok = WordTokenizer.from_texts(["the bathroom.", "a bathroom, yes"])
    assert tok.vocab_size == 3 + len({"the", " bathroom", ".", "a", ",", " yes"})
    for text in ["the bathroom.", "a bathroom, yes", "a bathroom."]:
        assert tok.decode(tok.encode(text)) == text


class _DuckTokenizer:
    """The four attributes and two methods HFTokenizer reads from a Hugging Face tokenizer, nothing more."""

    eos_token_id, bos_token_id, pad_token_id = 7, None, None

    def __len__(self):
        return 9

    def encode(self, text, add_special_tokens=True):
        assert add_special_tokens is False  # skillit adds bos/eos itself
        return [ord(c) - ord("a") for c in text]

    def decode(self, ids, skip_special_tokens=False):
        assert skip_special_tokens is True
        return "".join(chr(i + ord("a")) for i in ids)


def test_hf_tokenizer_needs_no_transformers_and_falls_back_to_eos():
    # one class for the Trainer integration and the grafting commands (model.tokenizer imports no transformers)
    from skillit.model.tokenizer import HFTokenizer, Tokenizer

    tok = HFTokenizer(_DuckTokenizer())
    assert isinstance(tok, Tokenizer)
    assert (tok.eos_id, tok.bos_id, tok.pad_id, tok.vocab_size) == (7, 7, 7, 9)
    assert tok.encode("bad") == [1, 0, 3] and tok.decode([1, 0, 3]) == "bad"
    missing = _DuckTokenizer()
    missing.eos_token_id = None
    with pytest.raises(DataError, match="has no eos token"):
        HFTokenizer(missing)


def test_hf_tokenizer_refuses_a_wrapped_or_skillit_tokenizer_and_names_the_fix():
    from skillit.model.tokenizer import CharTokenizer, HFTokenizer

    wrapped = HFTokenizer(_DuckTokenizer())
    with pytest.raises(DataError, match=r"already an HFTokenizer \(train_hf_tokenizer returns one\); use it as it is"):
        HFTokenizer(wrapped)
    with pytest.raises(DataError, match=r"the CharTokenizer given has no eos_token_id, bos_token_id, pad_token_id, "
                                        r"__len__\. A tokenizer that already has skillit's contract"):
        HFTokenizer(CharTokenizer("ab"))
