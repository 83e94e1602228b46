"""Fine-tuning with a target skill on real data through a stock transformers.Trainer.

The Natural Instructions subset (/work/shared/data/natural_instructions: 4 task categories as skills, fields
skill, prompt, answer), a byte-level BPE trained in-process on its texts, a tiny GPT-2 trained from scratch.
"""

from __future__ import annotations

import numpy as np
import pytest
from transformers import Trainer

from skillit.graph import builtin_graph
from skillit.integrations.hf import SkillMixingCallback, SkillMixingDataset, train_hf_tokenizer
from skillit.policy import SkillIt, TargetOnly
from skillit.skills.io import load_skills
from skillit.trainer import encode_example
from tests.conftest import SHARED_DATA

NI = SHARED_DATA / "natural_instructions"
TARGET = "Stance Detection"
pytestmark = pytest.mark.skipif(not (NI / "train.jsonl").is_file(), reason="the shared NI data is not present")


@pytest.fixture(scope="module")
def ni():
    skills = load_skills(NI / "train.jsonl", NI / "test.jsonl", prompt_field="prompt", answer_field="answer",
                         separator=" ", max_validation=6)
    texts = [skills[n].train.get(i).text for n in skills.train_names for i in range(skills[n].train.size)]
    tokenizer = train_hf_tokenizer(texts, vocab_size=1000)
    longest = max(len(encode_example(tokenizer, e)[0]) for s in skills.skills for e in s.validation)
    longest = max(longest, *(len(encode_example(tokenizer, skills[n].train.get(i))[0])
                             for n in skills.train_names for i in range(skills[n].train.size)))
    return skills, tokenizer, longest


def finetune(ni, policy, gpt2_factory, trainer_args):
    skills, tokenizer, longest = ni
    draws = []
    dataset = SkillMixingDataset(skills, tokenizer, seed=0, max_length=longest,
                                 on_draw=lambda n, r, pairs: draws.extend(name for name, _ in pairs))
    mixing = SkillMixingCallback(dataset, policy, round_steps=4, eval_every=4, setting="finetune",
                                 target_skills=[TARGET], eval_batch_size=8)
    model = gpt2_factory(tokenizer, n_positions=longest)
    Trainer(model=model, args=trainer_args(max_steps=12, per_device_train_batch_size=4), train_dataset=dataset,
            data_collator=dataset.collate, callbacks=[mixing]).train()
    return mixing.records, draws


def test_skill_it_finetunes_for_a_target_skill_on_natural_instructions(ni, gpt2_factory, trainer_args):
    skills, tokenizer, longest = ni
    assert skills.train_names == ["Stance Detection", "Sentiment Analysis", "Text Matching", "Question Generation"]
    assert tokenizer.vocab_size == 1000 and 100 < longest < 400  # definitions make prompts long
    records, draws = finetune(ni, SkillIt(builtin_graph("ni-finetune"), eta=2.0, window=3), gpt2_factory, trainer_args)
    assert [r["step"] for r in records] == [0, 4, 8, 12]
    assert set(records[0]["losses"]) == set(skills.train_names)  # every skill is evaluated, the target is the objective
    assert records[-1]["losses"][TARGET] < records[0]["losses"][TARGET]  # training from scratch: the loss falls
    first = np.array(list(records[0]["weights"].values()))
    later = np.array(list(records[-1]["weights"].values()))
    assert np.abs(first - later).max() > 1e-3  # the target's loss moves the mixture between rounds
    assert len(draws) == sum(records[-1]["examples_seen"].values()) == 12 * 4
    for name, count in records[-1]["examples_seen"].items():
        assert draws.count(name) == count


def test_target_only_trains_on_the_target_alone(ni, gpt2_factory, trainer_args):
    records, draws = finetune(ni, TargetOnly(), gpt2_factory, trainer_args)
    assert set(draws) == {TARGET}
    assert records[-1]["weights"][TARGET] == 1.0
