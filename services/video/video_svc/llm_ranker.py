"""An optional second opinion on clip candidates from an LLM behind an OpenAI-compatible API.

The built-in scorer stays the source of quality; this ranker only re-judges its best few candidates
(llama.cpp server, vLLM, Ollama or a hosted API all speak ``/chat/completions``). Every failure —
timeout, connection, HTTP status, an answer that is not the JSON asked for — surfaces as one
``LlmUnavailable`` so the caller can fall back to the built-in order.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

MAX_REASON_CHARS = 200
_SCORE_SCALE = 10.0  # the model scores 0-10: small integers are what small models get right
_TOKENS_PER_CLIP = 80  # room for {"id", "score", "reason"} per clip, so a rambling model stops early
_ID_KEYS = ("id", "clip", "clipid", "clipnumber", "number")  # keys after _entries_in's normalising

_SYSTEM_PROMPT = """\
You judge moments of a long video as candidates for standalone short-form clips (Shorts, Reels, TikTok).
A good clip makes sense without the rest of the video: one complete thought, a concrete story or
specifics (numbers, names, examples), and a strong opening line that hooks a viewer.
Score low: housekeeping and meta talk (agenda, introductions, screen sharing, audio checks, "where was I",
"let's move on"), fragments that start or end mid-thought, and vague filler.
When the user states what they are looking for, favour clips that match it.
Answer only with JSON, one entry per clip:
{"clips": [{"id": <clip number>, "score": <0-10>, "reason": "<why, in one short sentence>"}]}"""


@dataclass(frozen=True)
class RankItem:
    index: int  # caller's id for the candidate
    start: float  # seconds in the source video
    end: float
    text: str  # the candidate clip's transcript
    score: float  # built-in score 0-100


@dataclass(frozen=True)
class LlmVerdict:
    scores: dict[int, float]  # RankItem.index -> 0..1
    reasons: dict[int, str]  # RankItem.index -> one short reason from the model
    model: str


class LlmUnavailable(Exception):
    """Timeout, connection error, HTTP error, or an answer that cannot be parsed; message says which."""


class LlmRanker:
    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "",
        timeout_seconds: float = 30.0,
        max_candidates: int = 8,
        max_text_chars: int = 1200,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout_seconds = timeout_seconds
        self.max_candidates = max_candidates
        self.max_text_chars = max_text_chars
        # llama.cpp (and vLLM, which ignores it) take a JSON schema inside json_object mode, which makes
        # even a 135M model answer in shape; OpenAI rejects the extra key, so a refusal turns it off.
        self._send_schema = True

    async def rerank(
        self,
        items: Sequence[RankItem],
        *,
        prompt: str = "",
        topic_keywords: Sequence[str] = (),
        language: str = "",
        genre: str = "",
    ) -> LlmVerdict:
        """Scores for (up to ``max_candidates`` of) ``items``, best-first as the caller ranked them."""
        sent = list(items[: self.max_candidates])
        if not sent:
            return LlmVerdict(scores={}, reasons={}, model=self.model)
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": _SYSTEM_PROMPT},
                {
                    "role": "user",
                    "content": self._user_message(sent, prompt, topic_keywords, language, genre),
                },
            ],
            "temperature": 0,
            "max_tokens": 32 + _TOKENS_PER_CLIP * len(sent),
            "response_format": _response_format(len(sent), with_schema=self._send_schema),
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            # httpx's timeout is per read/connect; asyncio.timeout bounds the whole exchange.
            async with asyncio.timeout(self.timeout_seconds):
                async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
                    response = await client.post(self.url, json=body, headers=headers)
                    if self._send_schema and _refuses_schema(response):
                        self._send_schema = False
                        body["response_format"] = _response_format(len(sent), with_schema=False)
                        response = await client.post(self.url, json=body, headers=headers)
        except TimeoutError as exc:
            raise LlmUnavailable(f"{self.url}: timed out after {self.timeout_seconds:g} s") from exc
        except httpx.TimeoutException as exc:
            raise LlmUnavailable(f"{self.url}: timed out after {self.timeout_seconds:g} s ({exc!r})") from exc
        except httpx.HTTPError as exc:
            raise LlmUnavailable(f"{self.url}: connection failed: {exc!r}") from exc
        if response.status_code >= 400:
            raise LlmUnavailable(f"{self.url}: HTTP {response.status_code}: {response.text[:200]!r}")
        try:
            answer = response.json()
            content = answer["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LlmUnavailable(f"{self.url}: bad answer: {response.text[:200]!r}") from exc
        # The model sees clips numbered 1..n (small numbers are what small models copy back right).
        by_number, reasons_by_number = _parse_clips(content if isinstance(content, str) else "", len(sent))
        scores = {sent[n - 1].index: score for n, score in by_number.items()}
        reasons = {sent[n - 1].index: reason for n, reason in reasons_by_number.items()}
        if not scores:
            raise LlmUnavailable(f"{self.url}: bad answer: no usable clip scores in {str(content)[:200]!r}")
        answered_model = answer.get("model")  # the server's name for what answered, when it says
        return LlmVerdict(
            scores=scores,
            reasons=reasons,
            model=answered_model if isinstance(answered_model, str) and answered_model else self.model,
        )

    def _user_message(
        self,
        items: Sequence[RankItem],
        prompt: str,
        topic_keywords: Sequence[str],
        language: str,
        genre: str,
    ) -> str:
        lines: list[str] = []
        if genre:
            lines.append(f"Video genre: {genre}.")
        if language:
            lines.append(f"Transcript language: {language}.")
        if prompt.strip():
            lines.append(f"The user is looking for: {prompt.strip()}")
        keywords = [k.strip() for k in topic_keywords if k.strip()]
        if keywords:
            lines.append(f"Topic keywords: {', '.join(keywords)}")
        if prompt.strip() or keywords:
            lines.append("Clips that match this deserve higher scores.")
        lines.append("")
        for number, item in enumerate(items, 1):
            text = " ".join(item.text.split())[: self.max_text_chars]
            lines.append(f"Clip {number}: {text}")
        lines.append("")
        lines.append("Score every clip 0-10 and answer with the JSON object.")
        return "\n".join(lines)


def _response_format(count: int, *, with_schema: bool) -> dict[str, Any]:
    if not with_schema:
        return {"type": "json_object"}
    clip = {
        "type": "object",
        "properties": {
            "id": {"enum": list(range(1, count + 1))},
            "score": {"enum": list(range(int(_SCORE_SCALE) + 1))},
            "reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON_CHARS},
        },
        "required": ["id", "score", "reason"],
        "additionalProperties": False,
    }
    clips = {"type": "array", "items": clip, "minItems": 1, "maxItems": count}
    schema = {
        "type": "object",
        "properties": {"clips": clips},
        "required": ["clips"],
        "additionalProperties": False,
    }
    return {"type": "json_object", "schema": schema}


def _refuses_schema(response: httpx.Response) -> bool:
    # OpenAI: 400 "Unknown parameter: 'response_format.schema'"; strict validators answer 422.
    return response.status_code in (400, 422) and "schema" in response.text.lower()


def _parse_clips(content: str, count: int) -> tuple[dict[int, float], dict[int, str]]:
    """Scores (0..1) and reasons by clip number (1..count) from the model's text; numbers that were
    not sent and junk entries are dropped, the first entry for a number wins."""
    scores: dict[int, float] = {}
    reasons: dict[int, str] = {}
    for entry in _clip_entries(content):
        number = _as_int(next((entry[k] for k in _ID_KEYS if k in entry), None))
        score = _as_float(entry.get("score"))
        if number is None or not 1 <= number <= count or number in scores or score is None:
            continue
        scores[number] = min(max(score, 0.0), _SCORE_SCALE) / _SCORE_SCALE
        reason = " ".join(str(entry.get("reason") or "").split())[:MAX_REASON_CHARS]
        if reason:
            reasons[number] = reason
    return scores, reasons


def _clip_entries(content: str) -> list[dict[str, Any]]:
    """Every JSON object in the text that looks like a clip entry (an id and a score), wherever it
    sits: past code fences and chatter, inside {"clips": [...]}, a bare list, or a lone object — and
    inside an answer cut off by max_tokens, whose complete entries still decode one by one."""
    entries: list[dict[str, Any]] = []
    decoder = json.JSONDecoder()
    position = content.find("{")
    while position >= 0:
        try:
            value, end = decoder.raw_decode(content, position)
        except ValueError:
            end = position + 1
        else:
            entries.extend(_entries_in(value))
        position = content.find("{", end)
    return entries


def _entries_in(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        # Small models mangle keys ("score:", "Clip_ID"): compare them by their letters only.
        entry = {re.sub(r"[^a-z]", "", str(key).lower()): item for key, item in value.items()}
        if "score" in entry and any(k in entry for k in _ID_KEYS):
            found.append(entry)
        for item in value.values():
            found.extend(_entries_in(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_entries_in(item))
    return found


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and (match := re.fullmatch(r"\s*(?:clip\s*)?#?(\d+)(?:\.0*)?\s*", value, re.I)):
        return int(match.group(1))  # "3", "3.0", "Clip 3", "#3"
    return None


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and (match := re.match(r"\s*(-?\d+(?:\.\d+)?)", value)):
        number = float(match.group(1))  # "7", "7/10"
    else:
        return None
    return number if math.isfinite(number) else None
