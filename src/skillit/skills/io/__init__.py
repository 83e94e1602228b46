"""Your own data as skills: JSONL, Parquet and Hugging Face ``datasets`` sources (map-style or streaming).

    from skillit.skills.io import load_skills
    skills = load_skills("train.jsonl", "test.jsonl", skill="skill", prompt_field="prompt", answer_field="answer")

``DataSpec`` declares the options once (the ``data`` task's params, ``load_spec``, ``inspect_spec``,
``skillit data inspect``). See docs/data.md for the options, the streaming design and ``skillit data inspect``.
"""

from skillit.skills.io.inspect import DataReport, SkillReport, inspect_data, inspect_spec
from skillit.skills.io.loader import DatasetSource, is_held_out, load_skills, load_spec
from skillit.skills.io.records import Fields, open_rows
from skillit.skills.io.shards import ShardSource, default_cache_dir
from skillit.skills.io.spec import DataSpec

__all__ = [
    "DataReport",
    "DataSpec",
    "DatasetSource",
    "Fields",
    "ShardSource",
    "SkillReport",
    "default_cache_dir",
    "inspect_data",
    "inspect_spec",
    "is_held_out",
    "load_skills",
    "load_spec",
    "open_rows",
]
