"""Skills: named groups of data, each with a training source and a fixed validation set."""

from skillit.skills.example import Example
from skillit.skills.skillset import Skill, SkillSet
from skillit.skills.sources import GeneratedSource, ListSource, TrainSource

__all__ = ["Example", "GeneratedSource", "ListSource", "Skill", "SkillSet", "TrainSource"]
