"""Importable callables for ``--backend python:tests.llm.oracles:<name>`` in the CLI tests."""

from __future__ import annotations


def echo_upper(messages):
    return messages[-1]["content"].upper()
