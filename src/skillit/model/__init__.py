"""Tiny models and tokenizers for CPU-scale experiments; any causal LM with the same call contract works."""

from skillit.utils.lazy import lazy_names

# name -> the module that defines it: imported on first use (PEP 562), so that the config schema can import
# skillit.model.config (torch-free) without importing torch
_LAZY: dict[str, str] = {
    **dict.fromkeys(("GPT", "CausalLMOutput"), "skillit.model.gpt"),
    "GPTConfig": "skillit.model.config",
    **dict.fromkeys(("CharTokenizer", "HFTokenizer", "Tokenizer", "WordTokenizer", "tokenizer_from_state"),
                    "skillit.model.tokenizer"),
}
__getattr__, __dir__ = lazy_names(__name__, _LAZY, cache=True)

__all__ = ["GPT", "CausalLMOutput", "CharTokenizer", "GPTConfig", "HFTokenizer", "Tokenizer", "WordTokenizer",
           "tokenizer_from_state"]
