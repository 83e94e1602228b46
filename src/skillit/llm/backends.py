"""One interface to a language model, three implementations.

Every LLM-side method in :mod:`skillit.llm` (Skill-Mix generation and grading, Instruct-SkillMix synthesis,
the STAT teacher) talks to a model through :class:`LLMBackend`::

    backend.chat(messages, temperature=0.0, max_tokens=512, n=1) -> list[str]   # n completions

``messages`` is the OpenAI chat list ``[{"role": "system"|"user"|"assistant", "content": str}, ...]``.

* :class:`OpenAIChatBackend`: any server speaking ``POST {base_url}/chat/completions`` (vLLM, llama.cpp's
  ``llama-server``, Ollama, hosted APIs). Standard library only (``urllib``), with retries and exponential
  back-off, a concurrency limit shared by all threads, and an on-disk cache keyed by a hash of the request, so
  rerunning a finished or interrupted job costs no calls.
* :class:`HFCausalLMBackend`: a local ``transformers`` causal LM from a path or a name you already have,
  loaded on first use.
* :class:`CallableBackend`: a Python function ``messages -> str`` (or a list of str): oracles for synthetic
  tasks, rule-based graders and tests.

Environment variables read by :class:`OpenAIChatBackend` (arguments win over them):

=========================  =====================================================================
``SKILLIT_LLM_BASE_URL``   server root including ``/v1``, e.g. ``http://localhost:8000/v1``
                           (fallback ``OPENAI_BASE_URL``)
``SKILLIT_LLM_MODEL``      model name the server knows (e.g. what ``GET /v1/models`` lists)
``SKILLIT_LLM_API_KEY``    bearer token (fallback ``OPENAI_API_KEY``); local servers usually need none
``SKILLIT_LLM_CACHE``      cache folder (default ``$SKILLIT_CACHE/llm`` or ``~/.cache/skillit/llm``)
=========================  =====================================================================

Retry rule: a connection failure, a timeout, HTTP 408/409/429/5xx or a reply that is not the expected JSON is
retried up to ``max_retries`` times, waiting ``min(max_backoff, backoff · 2^attempt)`` seconds (or the
server's ``Retry-After``) between tries; HTTP 400/401/403/404 fail at once, since repeating cannot help.
(Instruct-SkillMix's generator waited 10 s, doubling, for up to 10 failures; the defaults here are shorter
for local servers.) The API key is never part of the cache key or of any message.
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import torch

from skillit.errors import LLMError
from skillit.utils.io import atomic_write_json

Message = dict[str, str]
T = TypeVar("T")
R = TypeVar("R")

ENV_BASE_URL = "SKILLIT_LLM_BASE_URL"
ENV_MODEL = "SKILLIT_LLM_MODEL"
ENV_API_KEY = "SKILLIT_LLM_API_KEY"
ENV_CACHE = "SKILLIT_LLM_CACHE"


class LLMConnectionError(LLMError):
    """The server could not be reached or did not answer in time (after every retry)."""


class LLMAuthError(LLMError):
    """The server rejected the request's credentials (HTTP 401/403)."""


class LLMResponseError(LLMError):
    """The server answered, but not with a usable chat completion (bad status or malformed JSON)."""


class LLMOutputError(LLMError):
    """A model's text could not be parsed into what the method needs (a grade, a profile, a record)."""


def user(content: str) -> list[Message]:
    """A one-message conversation."""
    return [{"role": "user", "content": content}]


class LLMBackend(ABC):
    """What every backend provides: ``chat`` returns ``n`` completions of a conversation."""

    name: str = "llm"
    concurrency: int = 1  # how many items pipelines may run at once through this backend

    @abstractmethod
    def chat(self, messages: Sequence[Message], *, temperature: float = 0.0, max_tokens: int = 512,
             n: int = 1) -> list[str]:
        """``n`` completions (strings) of ``messages``."""

    def ask(self, prompt: str, **kwargs: Any) -> str:
        """The first completion of a single user message."""
        return self.chat(user(prompt), **kwargs)[0]

    def map(self, function: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``function`` over ``items``, up to ``concurrency`` at a time, results in input order.

        Each result is yielded as soon as it and all earlier ones are done, so a caller that writes them one
        by one keeps everything finished before a failure. At most ``2 × concurrency`` items are started
        ahead; after a failure (or when the caller stops) the items not yet started are cancelled, and those
        in flight finish into the request cache.
        """
        if self.concurrency <= 1:
            yield from map(function, items)
            return
        iterator = iter(items)
        pool = ThreadPoolExecutor(max_workers=self.concurrency)
        pending: deque[Future[R]] = deque(pool.submit(function, item)
                                           for item in itertools.islice(iterator, 2 * self.concurrency))
        try:
            while pending:
                result = pending.popleft().result()
                for item in itertools.islice(iterator, 1):
                    pending.append(pool.submit(function, item))
                yield result
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name}


def _check_messages(messages: Sequence[Message]) -> list[Message]:
    out = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            raise LLMError(f"message {i} must be a dict with 'role' and 'content', got {message!r:.80}")
        out.append({"role": str(message["role"]), "content": str(message["content"])})
    if not out:
        raise LLMError("a chat request needs at least one message")
    return out


def default_cache_dir() -> Path:
    """``$SKILLIT_LLM_CACHE``, else ``$SKILLIT_CACHE/llm``, else ``~/.cache/skillit/llm``."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE])
    root = os.environ.get("SKILLIT_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "skillit") / "llm"


class OpenAIChatBackend(LLMBackend):
    """A client for an OpenAI-compatible ``/chat/completions`` endpoint (see the module docstring).

    Args:
        base_url: server root including ``/v1`` (default ``$SKILLIT_LLM_BASE_URL`` / ``$OPENAI_BASE_URL``).
        model: model name (default ``$SKILLIT_LLM_MODEL``).
        api_key: bearer token (default ``$SKILLIT_LLM_API_KEY`` / ``$OPENAI_API_KEY``; none is fine).
        timeout: seconds to wait for one HTTP reply.
        max_retries: retries after the first try (so ``max_retries + 1`` tries at most).
        backoff, max_backoff: the first wait and the cap of the doubling waits, in seconds.
        concurrency: requests in flight at once, over all threads using this backend.
        cache_dir: folder of the request cache; ``None`` = :func:`default_cache_dir`; ``False`` = no cache.
        extra_body: extra JSON fields sent with every request (e.g. ``{"top_p": 0.95}``); part of the cache key.
    """

    name = "openai"

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 120.0,
        max_retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        concurrency: int = 4,
        cache_dir: str | Path | None | bool = None,
        extra_body: dict[str, Any] | None = None,
    ):
        base_url = base_url or os.environ.get(ENV_BASE_URL) or os.environ.get("OPENAI_BASE_URL")
        model = model or os.environ.get(ENV_MODEL)
        if not base_url:
            raise LLMError(
                f"no server given: pass --base-url or set {ENV_BASE_URL}, e.g. http://localhost:8000/v1 "
                "(vLLM), http://localhost:8080/v1 (llama-server) or http://localhost:11434/v1 (Ollama)"
            )
        if not model:
            raise LLMError(f"no model given: pass --model or set {ENV_MODEL} (the name the server serves)")
        if concurrency < 1 or max_retries < 0 or timeout <= 0:
            raise LLMError(f"need concurrency >= 1, max_retries >= 0 and timeout > 0 (got {concurrency}, "
                           f"{max_retries}, {timeout})")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key if api_key is not None else (
            os.environ.get(ENV_API_KEY) or os.environ.get("OPENAI_API_KEY") or "")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.concurrency = concurrency
        self.extra_body = dict(extra_body or {})
        self.cache_dir = None if cache_dir is False else Path(cache_dir) if cache_dir not in (None, True) else default_cache_dir()
        self._slots = threading.BoundedSemaphore(concurrency)
        self.calls = 0  # HTTP requests actually sent (cache hits excluded), for tests and cost reports
        self.cache_hits = 0
        self._count_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "base_url": self.base_url, "model": self.model}

    # ---- cache ----------------------------------------------------------------------------------
    def _key(self, body: dict[str, Any], draw: int) -> str:
        keyed = {"url": self.url, "body": body, "draw": draw}  # never the API key
        return hashlib.sha256(json.dumps(keyed, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def _cache_path(self, key: str) -> Path | None:
        return None if self.cache_dir is None else self.cache_dir / key[:2] / f"{key}.json"

    def _cached(self, key: str) -> list[str] | None:
        path = self._cache_path(key)
        if path is None or not path.is_file():
            return None
        try:
            choices = json.loads(path.read_text(encoding="utf-8"))["choices"]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged entry is simply asked again
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            return None
        return choices

    def _store(self, key: str, body: dict[str, Any], choices: list[str]) -> None:
        path = self._cache_path(key)
        if path is not None:
            atomic_write_json(path, {"request": body, "choices": choices})

    # ---- requests -------------------------------------------------------------------------------
    def chat(self, messages: Sequence[Message], *, temperature: float = 0.0, max_tokens: int = 512,
             n: int = 1) -> list[str]:
        if n < 1:
            raise LLMError(f"n must be >= 1, got {n}")
        body = {"model": self.model, "messages": _check_messages(messages), "temperature": float(temperature),
                "max_tokens": int(max_tokens), "n": int(n), **self.extra_body}
        out: list[str] = []
        draw = 0
        while len(out) < n:  # some servers ignore n > 1: ask again for the rest (a new cache entry each)
            request = {**body, "n": n - len(out)}
            key = self._key(request, draw)
            choices = self._cached(key)
            if choices is None:
                choices = self._post(request)
                self._store(key, request, choices)
            else:
                with self._count_lock:
                    self.cache_hits += 1
            out.extend(choices)
            draw += 1
        return out[:n]

    def _post(self, body: dict[str, Any]) -> list[str]:
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        last = ""
        unreachable = False
        wait = 0.0
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(wait)
            wait = min(self.max_backoff, self.backoff * 2**attempt)  # before the next try, unless Retry-After
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with self._slots:
                    with self._count_lock:
                        self.calls += 1
                    with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                        raw = reply.read()
            except urllib.error.HTTPError as exc:
                detail = _excerpt(exc.read() if exc.fp is not None else b"")
                if exc.code in (401, 403):
                    raise LLMAuthError(
                        f"{self.url} rejected the API key (HTTP {exc.code}: {detail}); set {ENV_API_KEY} to a "
                        "key this server accepts"
                    ) from None
                if exc.code == 404:
                    raise LLMResponseError(
                        f"{self.url} answered HTTP 404 ({detail}); check that --base-url ends with /v1 and that "
                        f"the server serves model {self.model!r}"
                    ) from None
                if exc.code in (408, 409, 429) or exc.code >= 500:
                    last = f"HTTP {exc.code}: {detail}"
                    retry_after = exc.headers.get("Retry-After") if exc.headers else None
                    if retry_after and retry_after.strip().isdigit():
                        wait = min(self.max_backoff, float(retry_after))
                    continue
                raise LLMResponseError(f"{self.url} refused the request (HTTP {exc.code}: {detail})") from None
            except (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                last = f"{type(reason).__name__}: {reason}" if not isinstance(reason, str) else reason
                if isinstance(reason, (TimeoutError, socket.timeout)) or "timed out" in str(reason):
                    last = f"no reply within {self.timeout:g} s"
                unreachable = True
                continue
            unreachable = False
            choices = _parse_completion(raw)
            if choices is None:
                last = f"malformed reply (not a chat completion): {_excerpt(raw)}"
                continue
            return choices
        tries = f"{self.max_retries + 1} tr{'y' if self.max_retries == 0 else 'ies'}"
        if unreachable:
            raise LLMConnectionError(
                f"cannot reach {self.url} after {tries} ({last}); is the server running, and is "
                f"--base-url / {ENV_BASE_URL} right?"
            )
        raise LLMResponseError(f"{self.url} gave no usable answer after {tries} (last: {last})")


def _excerpt(raw: bytes, limit: int = 200) -> str:
    text = raw.decode("utf-8", errors="replace").strip().replace("\n", " ")
    return (text[:limit] + "…") if len(text) > limit else (text or "empty body")


def _parse_completion(raw: bytes) -> list[str] | None:
    """``choices[i].message.content`` of a chat-completion JSON, or ``None`` if the reply is not one."""
    try:
        payload = json.loads(raw)
        choices = payload["choices"]
        texts = [choice["message"]["content"] for choice in choices]
    except (ValueError, KeyError, TypeError):
        return None
    if not texts or not all(isinstance(t, str) for t in texts):
        return None
    return texts


class CallableBackend(LLMBackend):
    """A Python function as a model: ``function(messages) -> str | list[str]``.

    A function returning one string is called ``n`` times for ``n`` completions. Use it for oracles on
    synthetic tasks (whose answers are known by construction), rule-based graders and tests.
    """

    def __init__(self, function: Callable[[list[Message]], str | Sequence[str]], *, name: str = "callable",
                 concurrency: int = 1):
        if not callable(function):
            raise LLMError(f"CallableBackend needs a callable, got {type(function).__name__}")
        self.function = function
        self.name = name
        self.concurrency = concurrency
        self.calls = 0

    def chat(self, messages: Sequence[Message], *, temperature: float = 0.0, max_tokens: int = 512,
             n: int = 1) -> list[str]:
        messages = _check_messages(messages)
        out: list[str] = []
        while len(out) < n:
            self.calls += 1
            reply = self.function(messages)
            if isinstance(reply, str):
                out.append(reply)
            elif isinstance(reply, Sequence) and all(isinstance(r, str) for r in reply) and reply:
                out.extend(reply)
            else:
                raise LLMOutputError(f"backend {self.name!r} returned {type(reply).__name__}; expected str or list of str")
        return out[:n]


class HFCausalLMBackend(LLMBackend):
    """A local Hugging Face causal LM (``transformers``), loaded on the first call.

    Args:
        model: a local path or a name already in your Hugging Face cache (nothing is downloaded here unless
            your ``transformers`` settings allow it).
        device: ``"cpu"``, ``"cuda"``, ...
        dtype: e.g. ``"bfloat16"``; default: the checkpoint's.
        chat_template: use the tokenizer's chat template when it has one (else ``role: content`` lines).
    """

    name = "hf"

    def __init__(self, model: str | Path, *, device: str = "cpu", dtype: str | None = None, chat_template: bool = True):
        self.model_name = str(model)
        self.device = device
        self.dtype = dtype
        self.use_chat_template = chat_template
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model_name}

    def _load(self) -> None:
        if self._model is not None:
            return
        try:
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - transformers is an optional extra
            raise LLMError(f"the hf backend needs transformers: pip install transformers (or the hf extra: "
                           f"pip install -e '.[hf]' in a skillit clone) ({exc})") from None
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.model_name)
            kwargs = {"torch_dtype": getattr(torch, self.dtype)} if self.dtype else {}
            model = AutoModelForCausalLM.from_pretrained(self.model_name, **kwargs)
        except (OSError, ValueError) as exc:
            raise LLMError(f"cannot load Hugging Face model {self.model_name!r}: {exc}") from None
        model.to(self.device).eval()
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._tokenizer, self._model = tokenizer, model

    def _prompt(self, messages: list[Message]) -> str:
        tokenizer = self._tokenizer
        if self.use_chat_template and getattr(tokenizer, "chat_template", None):
            return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant:"

    def chat(self, messages: Sequence[Message], *, temperature: float = 0.0, max_tokens: int = 512,
             n: int = 1) -> list[str]:
        messages = _check_messages(messages)
        with self._lock:  # one generate at a time on one model
            self._load()
            tokenizer, model = self._tokenizer, self._model
            encoded = tokenizer(self._prompt(messages), return_tensors="pt", add_special_tokens=False).to(self.device)
            sample = temperature > 0
            with torch.no_grad():
                output = model.generate(
                    **encoded, max_new_tokens=max_tokens, do_sample=sample, num_return_sequences=n,
                    pad_token_id=tokenizer.pad_token_id, **({"temperature": temperature} if sample else {}),
                )
        start = encoded["input_ids"].shape[1]  # (n, prompt + new) -> the new tokens only
        return [tokenizer.decode(row[start:], skip_special_tokens=True) for row in output]


def build_backend(
    kind: str = "openai",
    *,
    base_url: str | None = None,
    model: str | None = None,
    cache_dir: str | Path | None | bool = None,
    concurrency: int = 4,
    timeout: float = 120.0,
    max_retries: int = 5,
    backoff: float = 1.0,
) -> LLMBackend:
    """A backend from command-line style options.

    ``kind`` is ``openai`` (an OpenAI-compatible server), ``hf`` (``model`` = a local path or cached name) or
    ``python:package.module:function`` (a :class:`CallableBackend` over an importable function).
    """
    if kind == "openai":
        return OpenAIChatBackend(base_url, model, timeout=timeout, max_retries=max_retries, backoff=backoff,
                                 concurrency=concurrency, cache_dir=cache_dir)
    if kind == "hf":
        if not model:
            raise LLMError("the hf backend needs --model (a local path or a cached model name)")
        return HFCausalLMBackend(model)
    if kind.startswith("python:"):
        target = kind[len("python:"):]
        module_name, _, attr = target.partition(":")
        if not module_name or not attr:
            raise LLMError(f"--backend {kind!r}: write python:package.module:function")
        try:
            function = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise LLMError(f"--backend {kind!r}: cannot import {target} ({exc})") from None
        return CallableBackend(function, name=target, concurrency=concurrency)
    raise LLMError(f"unknown backend {kind!r}; choices: openai, hf, python:package.module:function")
