"""Named skills, each with a training source and/or a fixed validation set.

Skill order is explicit: it is the order of ``SkillSet.skills`` and it is the order of every weight vector,
graph row and loss vector skillit produces. Nothing is ever sorted by name behind your back (the reference
code's alphabetical contract, skillit.md §3.5).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from skillit.errors import SkillError, did_you_mean
from skillit.skills.example import Example
from skillit.skills.sources import ListSource, TrainSource


@dataclass
class Skill:
    """One skill.

    Attributes:
        name: unique name; used everywhere instead of an index.
        train: where training examples come from, or ``None`` for an evaluation-only skill
            (the out-of-domain setting).
        validation: the fixed held-out examples on which loss and accuracy are measured, or ``None``
            for a skill that is trained on but never evaluated.
        natural_weight: the skill's share of the "natural" training pool (e.g. LEGO's 1:1:1:3:5).
            The ``random`` baseline samples in proportion to it. ``None`` means: use the pool size.
    """

    name: str
    train: TrainSource | None = None
    validation: list[Example] | None = None
    natural_weight: float | None = None

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise SkillError(f"a skill needs a non-empty string name, got {self.name!r}")
        if self.train is None and self.validation is None:
            raise SkillError(f"skill {self.name!r} has neither training data nor a validation set")
        if self.validation is not None:
            self.validation = list(self.validation)
            if not self.validation:
                raise SkillError(
                    f"skill {self.name!r} has an empty validation set; give it examples or pass "
                    "validation=None to make it a training-only skill"
                )
            for example in self.validation:
                if example.skill != self.name:
                    raise SkillError(
                        f"validation example of skill {example.skill!r} found in skill {self.name!r}"
                    )
        if self.natural_weight is not None and not self.natural_weight > 0:
            raise SkillError(f"skill {self.name!r}: natural_weight must be > 0, got {self.natural_weight}")


@dataclass
class SkillSet:
    """An ordered collection of skills.

    ``train_names`` are the skills that can be sampled for training (rows of a skills graph);
    ``eval_names`` are the skills with a validation set (candidate columns).
    """

    skills: list[Skill]
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.skills = list(self.skills)
        if not self.skills:
            raise SkillError("a SkillSet needs at least one skill")
        seen: set[str] = set()
        for skill in self.skills:
            if skill.name in seen:
                raise SkillError(f"skill name {skill.name!r} appears twice; skill names must be unique")
            seen.add(skill.name)
        self._by_name = {skill.name: skill for skill in self.skills}

    # ---- construction helpers -------------------------------------------------------------------
    @classmethod
    def from_examples(
        cls,
        train: Iterable[Example],
        validation: Iterable[Example] = (),
        order: Sequence[str] | None = None,
    ) -> SkillSet:
        """Group in-memory examples by their ``skill`` field.

        Skill order is ``order`` if given, else the order of first appearance in ``train`` then ``validation``.
        """
        train_by: dict[str, list[Example]] = {}
        val_by: dict[str, list[Example]] = {}
        names: list[str] = []
        for bucket, examples in ((train_by, train), (val_by, validation)):
            for example in examples:
                if example.skill not in train_by and example.skill not in val_by:
                    names.append(example.skill)
                bucket.setdefault(example.skill, []).append(example)
        if order is not None:
            unknown = [name for name in order if name not in train_by and name not in val_by]
            if unknown:
                raise SkillError(f"skills {unknown} named in `order` have no examples")
            names = list(order)
        skills = [
            Skill(
                name=name,
                train=ListSource(train_by[name]) if name in train_by else None,
                validation=val_by.get(name),
            )
            for name in names
        ]
        return cls(skills)

    # ---- views ----------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [skill.name for skill in self.skills]

    @property
    def train_names(self) -> list[str]:
        return [skill.name for skill in self.skills if skill.train is not None]

    @property
    def eval_names(self) -> list[str]:
        return [skill.name for skill in self.skills if skill.validation is not None]

    def __getitem__(self, name: str) -> Skill:
        try:
            return self._by_name[name]
        except KeyError:
            raise SkillError(f"unknown skill {name!r}; {did_you_mean(name, self.names)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self.skills)

    def check_names(self, names: Sequence[str], *, role: str, where: str = "") -> None:
        """Raise a clear :class:`SkillError` if any of ``names`` is not a skill of the given role.

        ``role`` is ``"train"``, ``"eval"`` or ``"any"``; ``where`` says where the names came from.
        """
        valid = {"train": self.train_names, "eval": self.eval_names, "any": self.names}[role]
        place = f" in {where}" if where else ""
        for name in names:
            if name not in valid:
                what = {"train": "training skill", "eval": "evaluation skill", "any": "skill"}[role]
                raise SkillError(f"unknown {what} {name!r}{place}; {did_you_mean(name, valid)}")

    def natural_proportions(self) -> list[float]:
        """Each training skill's share of the natural pool, in ``train_names`` order (sums to 1).

        Uses ``natural_weight`` where every training skill has one, else finite pool sizes, else uniform.
        """
        train = [self[name] for name in self.train_names]
        if all(skill.natural_weight is not None for skill in train):
            raw = [float(skill.natural_weight) for skill in train]  # type: ignore[arg-type]
        elif all(skill.train is not None and skill.train.size is not None for skill in train):
            raw = [float(skill.train.size) for skill in train]  # type: ignore[union-attr,arg-type]
        else:
            raw = [1.0] * len(train)
        total = sum(raw)
        return [value / total for value in raw]

    def select(self, train: Sequence[str] | None = None, eval: Sequence[str] | None = None) -> SkillSet:
        """A new SkillSet restricted to the given training and evaluation skills (order kept as given).

        ``None`` keeps all skills of that role. A skill in ``train`` keeps its validation set only if it is
        also in ``eval``, so the result evaluates exactly ``eval``.
        """
        train_list = list(self.train_names if train is None else train)
        eval_list = list(self.eval_names if eval is None else eval)
        self.check_names(train_list, role="train", where="the selected training skills")
        self.check_names(eval_list, role="eval", where="the selected evaluation skills")
        order: list[str] = list(train_list) + [name for name in eval_list if name not in train_list]
        skills = []
        for name in order:
            original = self[name]
            skills.append(
                Skill(
                    name=name,
                    train=original.train if name in train_list else None,
                    validation=original.validation if name in eval_list else None,
                    natural_weight=original.natural_weight if name in train_list else None,
                )
            )
        return SkillSet(skills, metadata=dict(self.metadata))
