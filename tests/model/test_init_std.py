import torch

from skillit.model import GPT, GPTConfig


def _model(**kw):
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=13, block_size=8, n_layer=2, n_head=2, n_embd=32, **kw))


def test_default_init_std_is_gpt2s_002_and_unchanged():
    model = _model()
    assert model.config.init_std == 0.02
    assert abs(model.wte.weight.std().item() - 0.02) < 0.004
    assert abs(model.blocks[0].attn.qkv.weight.std().item() - 0.02) < 0.002
    # residual projections keep GPT-2's 1/sqrt(2 n_layer) scaling
    assert abs(model.blocks[0].attn.proj.weight.std().item() - 0.01) < 0.002
    assert torch.count_nonzero(model.blocks[0].attn.qkv.bias) == 0


def test_init_std_scales_every_matrix_and_embedding_by_the_same_factor():
    base, big = _model(), _model(init_std=0.1)
    # same RNG draws, 5x the std: every >=2-d parameter is exactly 5x the default one
    for (name, p), (_, q) in zip(base.named_parameters(), big.named_parameters()):
        if p.dim() >= 2:
            assert torch.allclose(q, 5 * p, rtol=1e-4, atol=1e-7), name
        else:
            assert torch.equal(p, q), name  # LayerNorm weights/biases and linear biases are untouched
