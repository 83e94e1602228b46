"""The sampler: mixture weights in, deterministic and resumable batches of (skill, example) out."""

from skillit.sampler.mixture_sampler import MixtureSampler, largest_remainder

__all__ = ["MixtureSampler", "largest_remainder"]
