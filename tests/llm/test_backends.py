"""The backends: the HTTP client against loopback stub servers (errors, timeouts, bad JSON), callables, HF."""

from __future__ import annotations

import json

import pytest

from skillit.errors import LLMError, SkillitError
from skillit.llm.backends import (
    CallableBackend,
    HFCausalLMBackend,
    LLMAuthError,
    LLMConnectionError,
    LLMOutputError,
    LLMResponseError,
    OpenAIChatBackend,
    build_backend,
    user,
)
from tests.llm.stub_server import StubServer, first_then, free_port, replies, status


def client(url, tmp_path, **kwargs):
    kwargs.setdefault("backoff", 0.001)
    kwargs.setdefault("cache_dir", tmp_path / "cache")
    return OpenAIChatBackend(url, "stub-model", **kwargs)


def test_request_body_headers_and_choices(tmp_path, monkeypatch):
    monkeypatch.setenv("SKILLIT_LLM_API_KEY", "sk-test-123")
    with StubServer(replies(lambda body: [f"a{i}" for i in range(body["n"])])) as server:
        out = client(server.url, tmp_path).chat(user("hi"), temperature=0.5, max_tokens=7, n=2)
    assert out == ["a0", "a1"]
    body = server.requests[0]
    assert body == {"model": "stub-model", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.5,
                    "max_tokens": 7, "n": 2}
    assert server.headers[0]["Authorization"] == "Bearer sk-test-123"


def test_environment_gives_url_and_model(tmp_path, monkeypatch):
    with StubServer(replies(lambda body: body["model"])) as server:
        monkeypatch.setenv("SKILLIT_LLM_BASE_URL", server.url + "/")
        monkeypatch.setenv("SKILLIT_LLM_MODEL", "from-env")
        assert OpenAIChatBackend(cache_dir=False).ask("x") == "from-env"


def test_missing_url_or_model_is_a_clear_error():
    with pytest.raises(LLMError, match="SKILLIT_LLM_BASE_URL"):
        OpenAIChatBackend(model="m")
    with pytest.raises(LLMError, match="SKILLIT_LLM_MODEL"):
        OpenAIChatBackend("http://127.0.0.1:1/v1")


def test_cache_makes_a_rerun_free_and_never_stores_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("SKILLIT_LLM_API_KEY", "sk-secret")
    with StubServer(replies(lambda body: "cached")) as server:
        first = client(server.url, tmp_path)
        assert first.ask("q") == "cached" and first.calls == 1
        assert first.ask("q") == "cached" and first.calls == 1 and first.cache_hits == 1
        second = client(server.url, tmp_path)  # a new process would see the same files
        assert second.ask("q") == "cached" and second.calls == 0
        assert second.ask("q", temperature=0.3) == "cached" and second.calls == 1  # another request: asked
    assert len(server.requests) == 2
    stored = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*.json"))
    assert "sk-secret" not in stored and "cached" in stored


def test_server_ignoring_n_is_asked_again(tmp_path):
    with StubServer(replies(lambda body: ["only one"])) as server:
        out = client(server.url, tmp_path).chat(user("q"), n=3)
    assert out == ["only one"] * 3
    assert [r["n"] for r in server.requests] == [3, 2, 1]


def test_wrong_key_fails_at_once_with_one_message(tmp_path):
    with StubServer(status(401, '{"error": "invalid api key"}')) as server:
        with pytest.raises(LLMAuthError, match="rejected the API key.*SKILLIT_LLM_API_KEY"):
            client(server.url, tmp_path, api_key="wrong").ask("q")
    assert len(server.requests) == 1  # not retried


def test_not_found_names_the_base_url(tmp_path):
    with StubServer(status(404)) as server:
        with pytest.raises(LLMResponseError, match="ends with /v1"):
            client(server.url, tmp_path).ask("q")


def test_server_errors_are_retried_then_succeed(tmp_path):
    with StubServer(first_then(status(503), 2, replies(lambda body: "ok"))) as server:
        backend = client(server.url, tmp_path, max_retries=3)
        assert backend.ask("q") == "ok"
    assert len(server.requests) == 3


def test_rate_limit_honours_retry_after(tmp_path):
    with StubServer(first_then(status(429, headers={"Retry-After": "0"}), 1, replies(lambda body: "ok"))) as server:
        assert client(server.url, tmp_path, backoff=30.0).ask("q") == "ok"  # waited Retry-After (0 s), not 30 s
    assert len(server.requests) == 2


def test_persistent_server_error_gives_up_after_the_retries(tmp_path):
    with StubServer(status(500, "boom")) as server:
        with pytest.raises(LLMResponseError, match=r"after 3 tries \(last: HTTP 500: boom\)"):
            client(server.url, tmp_path, max_retries=2).ask("q")
    assert len(server.requests) == 3


def test_malformed_json_is_retried_then_reported(tmp_path):
    malformed = lambda number, body: (200, b"{not json", {})  # noqa: E731
    with StubServer(malformed) as server:
        with pytest.raises(LLMResponseError, match="malformed reply"):
            client(server.url, tmp_path, max_retries=1).ask("q")
    assert len(server.requests) == 2
    wrong_shape = lambda number, body: (200, json.dumps({"choices": [{"text": "legacy"}]}).encode(), {})  # noqa: E731
    with StubServer(first_then(wrong_shape, 1, replies(lambda body: "fine"))) as server:
        assert client(server.url, tmp_path, max_retries=1).ask("q2") == "fine"


def test_timeout_is_a_connection_error(tmp_path):
    with StubServer(replies(lambda body: "late"), delay=1.0) as server:
        with pytest.raises(LLMConnectionError, match=r"no reply within 0.2 s"):
            client(server.url, tmp_path, timeout=0.2, max_retries=1).ask("q")


def test_unreachable_server(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(LLMConnectionError, match="cannot reach .* after 2 tries.*is the server running"):
        client(url, tmp_path, max_retries=1).ask("q")


def test_errors_are_skillit_errors():
    assert issubclass(LLMAuthError, SkillitError) and issubclass(LLMOutputError, LLMError)


def test_concurrency_limit_and_order(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    with StubServer(replies(lambda body: body["messages"][0]["content"].upper()), delay=0.1) as server:
        backend = client(server.url, tmp_path, concurrency=2)
        with ThreadPoolExecutor(max_workers=6) as pool:  # six caller threads ...
            out = list(pool.map(backend.ask, [f"q{i}" for i in range(6)]))
        assert out == [f"Q{i}" for i in range(6)]
        assert server.max_in_flight == 2  # ... but at most two requests in flight
        assert list(backend.map(backend.ask, ["a", "b", "c"])) == ["A", "B", "C"]  # map keeps input order


def test_callable_backend():
    calls = []

    def oracle(messages):
        calls.append(messages)
        return messages[-1]["content"][::-1]

    backend = CallableBackend(oracle)
    assert backend.chat(user("abc"), n=2) == ["cba", "cba"] and len(calls) == 2
    assert CallableBackend(lambda m: ["x", "y", "z"]).chat(user("q"), n=2) == ["x", "y"]
    with pytest.raises(LLMOutputError, match="expected str"):
        CallableBackend(lambda m: 3).ask("q")
    with pytest.raises(LLMError, match="role"):
        backend.chat([{"content": "no role"}])


def test_build_backend_kinds(tmp_path):
    assert build_backend("python:tests.llm.oracles:echo_upper").ask("hi") == "HI"
    with pytest.raises(LLMError, match="cannot import"):
        build_backend("python:tests.llm.oracles:nothing_here")
    with pytest.raises(LLMError, match="unknown backend"):
        build_backend("grpc")
    assert isinstance(build_backend("hf", model=str(tmp_path)), HFCausalLMBackend)


def test_hf_backend_loads_lazily_and_decodes_new_tokens(tmp_path):
    transformers = pytest.importorskip("transformers")
    from skillit.integrations.hf import train_hf_tokenizer

    tokenizer = train_hf_tokenizer(["user: hello there\nassistant: general kenobi"] * 20, vocab_size=300)
    config = transformers.GPT2Config(vocab_size=tokenizer.vocab_size, n_positions=64, n_embd=16, n_layer=1, n_head=2,
                                     bos_token_id=tokenizer.bos_id, eos_token_id=tokenizer.eos_id)
    transformers.GPT2LMHeadModel(config).save_pretrained(tmp_path / "tiny")
    tokenizer.tokenizer.save_pretrained(tmp_path / "tiny")
    backend = HFCausalLMBackend(tmp_path / "tiny")
    assert backend._model is None
    first = backend.chat(user("hello"), max_tokens=5)
    assert backend._model is not None and len(first) == 1 and isinstance(first[0], str)
    assert backend.chat(user("hello"), max_tokens=5) == first  # greedy: deterministic
    assert len(backend.chat(user("hello"), max_tokens=3, n=2, temperature=1.0)) == 2
    with pytest.raises(LLMError, match="cannot load"):
        HFCausalLMBackend(tmp_path / "missing").ask("x")


def test_map_keeps_results_before_a_failure():
    seen = []

    def step(i):
        if i == 3:
            raise LLMOutputError("bad item")
        return i

    backend = CallableBackend(lambda m: "x", concurrency=2)
    started = []

    def tracked(i):
        started.append(i)
        return step(i)

    with pytest.raises(LLMOutputError):
        for value in backend.map(tracked, range(100)):
            seen.append(value)
    assert seen == [0, 1, 2]
    assert max(started) < 10  # a bounded window: the items after the failure were never started
