"""Tiny models and tokenizers for CPU-scale experiments; any causal LM with the same call contract works."""

from skillit.model.gpt import GPT, CausalLMOutput, GPTConfig
from skillit.model.tokenizer import CharTokenizer, HFTokenizer, Tokenizer, WordTokenizer, tokenizer_from_state

__all__ = ["GPT", "CausalLMOutput", "CharTokenizer", "GPTConfig", "HFTokenizer", "Tokenizer", "WordTokenizer",
           "tokenizer_from_state"]
