import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillit.errors import DataError, PolicyError
from skillit.sampler import MixtureSampler, largest_remainder


def draw_round(sampler, weights, n_batches, scope=None):
    sampler.start_round(weights, n_batches, scope)
    return [sampler.next_batch() for _ in range(n_batches)]


def test_largest_remainder_counts():
    assert largest_remainder(np.array([0.5, 0.25, 0.25]), 10).tolist() == [5, 3, 2]  # tie → lower index
    assert largest_remainder(np.array([1 / 3] * 3), 10).tolist() == [4, 3, 3]
    assert largest_remainder(np.array([0.0, 1.0]), 7).tolist() == [0, 7]


def test_quota_mode_gives_exact_counts_per_round():
    sampler = MixtureSampler([None, None, None], batch_size=8, seed=0)
    batches = draw_round(sampler, [0.5, 0.25, 0.25], 4)
    skills = [s for batch in batches for s, _ in batch]
    assert np.bincount(skills, minlength=3).tolist() == [16, 8, 8]
    assert sampler.examples_seen().tolist() == [16, 8, 8]


def test_streams_are_read_in_increasing_order_without_gaps():
    sampler = MixtureSampler([None, None], batch_size=4, seed=3)
    seen = {0: [], 1: []}
    for _ in range(3):
        for batch in draw_round(sampler, [0.3, 0.7], 5):
            for s, i in batch:
                seen[s].append(i)
    for s in (0, 1):
        assert seen[s] == list(range(len(seen[s])))


def test_finite_pools_cover_each_epoch_exactly_once():
    sampler = MixtureSampler([5, 7], batch_size=6, seed=1)
    drawn = {0: [], 1: []}
    for batch in draw_round(sampler, [0.5, 0.5], 10):  # 30 per skill = 6 epochs of skill 0
        for s, i in batch:
            drawn[s].append(i)
    for s, size in ((0, 5), (1, 7)):
        full = len(drawn[s]) // size
        for e in range(full):
            assert sorted(drawn[s][e * size : (e + 1) * size]) == list(range(size))
    # epochs are shuffled differently
    assert drawn[0][:5] != drawn[0][5:10]


def test_same_seed_same_batches_other_seed_different():
    a = draw_round(MixtureSampler([10, None], 4, seed=7), [0.5, 0.5], 5)
    b = draw_round(MixtureSampler([10, None], 4, seed=7), [0.5, 0.5], 5)
    c = draw_round(MixtureSampler([10, None], 4, seed=8), [0.5, 0.5], 5)
    assert a == b and a != c


def test_iid_mode_draws_skills_independently():
    sampler = MixtureSampler([None, None], batch_size=100, seed=0, mode="iid")
    skills = [s for batch in draw_round(sampler, [0.2, 0.8], 20) for s, _ in batch]
    share = np.mean(np.array(skills) == 1)
    assert 0.77 < share < 0.83 and share != 0.8  # random, not an exact quota


@settings(max_examples=25, deadline=None)
@given(
    cut=st.integers(0, 11),
    mode=st.sampled_from(["quota", "iid"]),
    weights=st.lists(st.floats(0.01, 1.0), min_size=3, max_size=3),
)
def test_state_round_trip_mid_round_continues_identically(cut, mode, weights):
    w = np.array(weights) / sum(weights)
    pools = [4, None, 9]

    def run(resume_at=None):
        sampler = MixtureSampler(pools, 6, seed=11, mode=mode)
        out = []
        for r in range(3):
            sampler.start_round(w if r != 1 else w[::-1] / w.sum(), 4)
            for _ in range(4):
                if resume_at is not None and len(out) == resume_at:
                    state = sampler.state_dict()
                    sampler = MixtureSampler(pools, 6, seed=11, mode=mode)
                    sampler.load_state_dict(state)
                out.append(sampler.next_batch())
        return out, sampler.examples_seen().tolist()

    assert run() == run(resume_at=cut)


def test_ranks_draw_disjoint_shares_of_the_same_global_plan():
    single = MixtureSampler([6, None], batch_size=8, seed=5)
    ranks = [MixtureSampler([6, None], batch_size=8, seed=5, world_size=2, rank=r) for r in (0, 1)]
    for sampler in [single, *ranks]:
        sampler.start_round([0.4, 0.6], 3)
    for _ in range(3):
        whole = single.next_batch()
        shares = [r.next_batch() for r in ranks]
        assert len(shares[0]) == len(shares[1]) == 4
        assert sorted(shares[0] + shares[1]) == sorted(whole)
        assert shares[0] == whole[0::2] and shares[1] == whole[1::2]
    with pytest.raises(DataError, match="not divisible"):
        MixtureSampler([None], batch_size=5, world_size=2)


def test_scope_restricts_examples_and_zero_weight_skills():
    sampler = MixtureSampler([10, 10], batch_size=5, seed=0)
    batches = draw_round(sampler, [0.4, 0.6], 4, scope={0: [2, 7], 1: [0, 1, 3]})
    for batch in batches:
        for s, i in batch:
            assert i in ({0: [2, 7], 1: [0, 1, 3]}[s])
    with pytest.raises(PolicyError, match="no admitted example"):
        draw_round(MixtureSampler([10, 10], 5), [0.5, 0.5], 1, scope={0: [1]})


def test_exhausted_policies():
    stop = MixtureSampler([3, None], batch_size=4, exhausted="stop", names=["small", "big"])
    draw_round(stop, [0.5, 0.5], 1)  # 2 of 3 drawn
    with pytest.raises(DataError, match="skill 'small' is exhausted.*'cycle'.*'drop'"):
        stop.start_round([0.5, 0.5], 1)
    drop = MixtureSampler([3, None], batch_size=4, exhausted="drop")
    first = draw_round(drop, [0.5, 0.5], 2)  # asks 4 of skill 0, only 3 exist → 1 moves to skill 1
    counts = np.bincount([s for b in first for s, _ in b], minlength=2)
    assert counts.tolist() == [3, 5]
    second = draw_round(drop, [0.9, 0.1], 2)
    assert all(s == 1 for b in second for s, _ in b)
    everything = MixtureSampler([2], batch_size=2, exhausted="drop")
    draw_round(everything, [1.0], 1)
    with pytest.raises(DataError, match="exhausted"):
        everything.start_round([1.0], 1)


def test_bad_weights_and_mismatched_state_are_errors():
    sampler = MixtureSampler([None, None], 2)
    with pytest.raises(PolicyError, match="probability vector"):
        sampler.start_round([0.5, 0.6], 1)
    with pytest.raises(PolicyError):
        sampler.start_round([float("nan"), 1.0], 1)
    state = MixtureSampler([None, None], 2, seed=1).state_dict()
    with pytest.raises(DataError, match="seed=1"):
        MixtureSampler([None, None], 2, seed=2).load_state_dict(state)


def test_sampler_never_touches_the_global_rng():
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    draw_round(MixtureSampler([5, None], 4, mode="iid"), [0.5, 0.5], 3)
    assert np.random.random() == expected
