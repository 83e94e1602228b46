"""Fixtures of the LLM tests: no network; every server is a loopback stub started by the test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_llm_environment(monkeypatch, tmp_path):
    """Keep the user's LLM settings out of the tests and the request cache inside tmp_path."""
    for name in ("SKILLIT_LLM_BASE_URL", "SKILLIT_LLM_MODEL", "SKILLIT_LLM_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SKILLIT_LLM_CACHE", str(tmp_path / "llm-cache"))
