"""Streaming loads: per-skill shards on disk, O(skills) memory, reads by position, cache, atomicity."""

from __future__ import annotations

import json
import pickle
import tracemalloc

import numpy as np
import pytest

from skillit.errors import DataError
from skillit.sampler import MixtureSampler
from skillit.skills import Example
from skillit.skills.io import ShardSource, load_skills
from tests.conftest import SHARED_DATA

GSM8K = SHARED_DATA / "gsm8k"
needs_data = pytest.mark.skipif(not GSM8K.is_dir(), reason="../shared/data is not beside the repository")


def all_examples(source):
    return [source.get(i) for i in range(source.size)]


@needs_data
def test_streamed_gsm8k_equals_the_in_memory_load(tmp_path):
    options = dict(separator=" ", holdout=0.1, holdout_seed=3, max_validation=20)
    memory = load_skills(GSM8K / "train.jsonl", **options)
    stream = load_skills(GSM8K / "train.jsonl", streaming=True, cache_dir=tmp_path, **options)
    assert stream.names == memory.names
    for name in memory.names:
        assert isinstance(stream[name].train, ShardSource) and stream[name].train.ordered
        assert stream[name].validation == memory[name].validation
        assert 0 < len(memory[name].validation) <= 20
        assert all_examples(stream[name].train) == all_examples(memory[name].train)
    assert len(memory["steps_2"].validation) == 20
    assert stream.metadata["alphabet"] == memory.metadata["alphabet"]


@needs_data
def test_shards_are_cached_by_file_and_options(tmp_path):
    first = load_skills(GSM8K / "test.jsonl", streaming=True, cache_dir=tmp_path, separator=" ")
    folders = sorted(tmp_path.iterdir())
    assert len(folders) == 1 and (folders[0] / "manifest.json").is_file()
    stamp = (folders[0] / "manifest.json").stat().st_mtime_ns
    again = load_skills(GSM8K / "test.jsonl", streaming=True, cache_dir=tmp_path, separator=" ")
    assert (folders[0] / "manifest.json").stat().st_mtime_ns == stamp  # reused, not rebuilt
    assert all_examples(again["steps_7"].train) == all_examples(first["steps_7"].train)
    load_skills(GSM8K / "test.jsonl", streaming=True, cache_dir=tmp_path, separator="\n")
    assert len(list(tmp_path.iterdir())) == 2  # other options, other shards


def test_random_access_resume_and_pickling(tmp_path):
    rows = [{"skill": f"s{i % 7}", "prompt": f"q{i}", "answer": f"a{i}"} for i in range(700)]
    source = load_skills(rows, streaming=True, cache_dir=tmp_path)["s3"].train
    assert source.size == 100
    expected = [Example(f"q{7 * j + 3}", f"a{7 * j + 3}", "s3") for j in range(100)]
    assert all_examples(source) == expected  # sequential: one readline each
    assert [source.get(i) for i in (57, 3, 99, 0, 58)] == [expected[i] for i in (57, 3, 99, 0, 58)]  # random access
    resumed = pickle.loads(pickle.dumps(source))  # a fresh reader starts at any position (resume by position)
    assert resumed.get(42) == expected[42] and resumed.get(43) == expected[43]
    with pytest.raises(IndexError):
        source.get(100)


def test_a_failed_stream_leaves_no_shards(tmp_path):
    def rows():
        yield {"skill": "a", "prompt": "p", "answer": "1"}
        yield {"skill": "a", "prompt": "p", "answer": ""}

    with pytest.raises(DataError, match="train data example 1: skill 'a' has an empty 'answer'"):
        load_skills(rows(), cache_dir=tmp_path / "cache")
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"skill": "a", "prompt": "p", "answer": "1"}) + "\n{oops\n")
    with pytest.raises(DataError, match=rf"{path}:2: invalid JSON"):
        load_skills(path, streaming=True, cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_streaming_memory_is_per_skill_not_per_example(tmp_path):
    """20 000 examples over 20 skills: the streamed load holds a few KB per skill, the list load every example."""

    def rows(n=20_000):
        for i in range(n):
            yield {"skill": f"skill{i % 20}", "prompt": "x" * 40 + str(i), "answer": "y" * 40}

    tracemalloc.start()
    streamed = load_skills(rows(), cache_dir=tmp_path)
    stream_current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    listed = load_skills(list(rows()))
    list_current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert sum(s.train.size for s in streamed.skills) == sum(s.train.size for s in listed.skills) == 20_000
    assert stream_current < 20 * 4096  # what the loaded skill set keeps: O(skills)
    assert list_current > 20_000 * 80  # each example's text in memory: O(examples)


def test_ordered_pools_need_no_permutation_and_exhaust_like_any_pool():
    """An ordered pool (a shard) maps stream position q to q mod N; cycle/drop/stop behave as for a shuffled pool."""
    sampler = MixtureSampler([3, None], batch_size=4, seed=0, ordered=[True, False], names=["shard", "stream"])
    sampler.start_round([0.5, 0.5], n_batches=2)
    drawn = [pair for _ in range(2) for pair in sampler.next_batch()]
    assert [i for s, i in drawn if s == 0] == [0, 1, 2, 0]  # file order, then the next epoch from the start
    assert [i for s, i in drawn if s == 1] == [0, 1, 2, 3]
    assert sampler._perm_cache == {}  # no O(N) permutation was made
    stop = MixtureSampler([3, None], batch_size=4, seed=0, exhausted="stop", ordered=[True, False], names=["shard", "s"])
    with pytest.raises(DataError, match="skill 'shard' is exhausted: its pool has 3 examples.*'cycle'.*'drop'"):
        stop.start_round([0.5, 0.5], n_batches=2)
    drop = MixtureSampler([3, None], batch_size=4, seed=0, exhausted="drop", ordered=[True, False])
    drop.start_round([0.5, 0.5], n_batches=2)
    pairs = [pair for _ in range(2) for pair in drop.next_batch()]
    assert sorted(i for s, i in pairs if s == 0) == [0, 1, 2] and len(pairs) == 8
    state = drop.state_dict()
    again = MixtureSampler([3, None], batch_size=4, seed=0, exhausted="drop", ordered=[True, False])
    again.load_state_dict(state)
    assert np.array_equal(again.examples_seen(), drop.examples_seen())
    with pytest.raises(DataError, match="ordered has 1 entries for 2 skills"):
        MixtureSampler([3, None], batch_size=4, ordered=[True])


def test_training_on_streamed_shards_resumes_without_loss_or_repeat(tmp_path, tiny_model_factory):
    """Interrupted in step 7 and resumed from the step-6 checkpoint with freshly loaded shards: same draws, records."""
    from skillit.model import CharTokenizer
    from skillit.policy import Stratified
    from skillit.trainer import TrainConfig, TrainerCallback, train

    rows = [{"skill": f"s{i % 3}", "prompt": f"{i}+{i % 7}=", "answer": str(i + i % 7)} for i in range(60)]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    def load():  # every call builds new ShardSources (the second and third reuse the cached shards)
        return load_skills(path, streaming=True, cache_dir=tmp_path / "cache", holdout=0.2, holdout_seed=1)

    class Draws(TrainerCallback):
        def __init__(self, stop_at=None):
            self.pairs, self.stop_at = [], stop_at

        def on_batch(self, step, round_index, pairs):
            self.pairs.append((step, list(pairs)))

        def on_step_end(self, step, loss):
            if step == self.stop_at:
                raise KeyboardInterrupt

    skills = load()
    tokenizer = CharTokenizer(skills.metadata["alphabet"])
    config = TrainConfig(steps=12, batch_size=8, round_steps=4, eval_every=3, lr=1e-3, warmup_steps=0,
                         checkpoint_every=3)
    full_draws = Draws()
    full = train(tiny_model_factory(tokenizer), tokenizer, skills, Stratified(), config, callbacks=[full_draws])
    assert sum(full.records[-1]["examples_seen"].values()) == 96 > sum(s.train.size for s in skills.skills)  # cycled

    with pytest.raises(KeyboardInterrupt):
        train(tiny_model_factory(tokenizer), tokenizer, load(), Stratified(), config, callbacks=[Draws(stop_at=7)],
              checkpoint_dir=tmp_path / "ckpt")
    resumed_draws = Draws()
    resumed = train(tiny_model_factory(tokenizer, seed=9), tokenizer, load(), Stratified(), config,
                    callbacks=[resumed_draws], checkpoint_dir=tmp_path / "ckpt", resume=True)
    strip = lambda rs: [{k: v for k, v in r.items() if not k.endswith("seconds")} for r in rs]  # noqa: E731
    assert strip(resumed.records) == strip(full.records)
    assert resumed_draws.pairs == [(step, pairs) for step, pairs in full_draws.pairs if step > 6]
