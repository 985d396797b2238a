"""Labelled talks for bench/clip_judgement.py: does the clip job pick the strong moments?

Each talk is one language and one espeak-ng voice, six or seven passages of 55-80 words (~20-30 s of
speech each), written for this bench and labelled by reading them. The stories are invented:
the names, places and figures make them concrete, not true. The talks live in
bench/data/clip_judgement_talks.yaml; this module holds the rules they follow and checks them.

- ``strong``: one self-contained story (who, where, when, how many; setup, turn, outcome) with
  none of the curiosity words a hype-word scorer rewards (``HYPE_WORDS``).
- ``meta``: housekeeping (can you hear me, screen sharing, slides, recording, breaks, Q&A).
- ``stuffed``: the same housekeeping stuffed with hype words ("the best secret of the agenda is the
  coffee break"): the trap for a scorer that counts words instead of reading.
- ``ramble``: filler and disfluencies with nothing specific in them.

Talk ``<lang>-1`` holds 3 strong passages and one weak passage of each kind; ``<lang>-2`` holds
3 strong, 1 meta, 2 stuffed and 1 ramble. Every talk has 3 strong passages, so 3 clips can all be
strong. Each talk spells its own interleaved order, so strong
passages sit at the start, the middle and the end in different talks, next to stuffed ones or not
(a scorer's taste for a position does not pass for judgement).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

STRONG, META, STUFFED, RAMBLE = "strong", "meta", "stuffed", "ramble"
LABELS = (STRONG, META, STUFFED, RAMBLE)
MIN_WORDS, MAX_WORDS = 55, 80

# Words (lowercase prefixes of a word, matched at its start) that strong passages must avoid and
# stuffed passages must be full of.
HYPE_WORDS = {
    "en": ["secret", "never", "best", "why", "most important", "first", "lesson", "mistake", "truth",
           "imagine", "ultimate", "biggest"],
    "es": ["secreto", "nunca", "mejor", "por qué", "lo más importante", "primer", "lección", "error",
           "verdad", "imagina", "definitivo"],
    "de": ["geheimnis", "niemals", "beste", "warum", "das wichtigste", "erste", "lektion", "fehler",
           "wahrheit", "stellt euch vor", "ultimative"],
    "fr": ["secret", "jamais", "meilleur", "pourquoi", "le plus important", "premi", "leçon", "erreur",
           "vérité", "imaginez", "ultime"],
    "pt": ["segredo", "nunca", "melhor", "por quê", "porquê", "o mais importante", "primeir", "lição",
           "erro", "verdade", "imagin", "definitivo"],
}  # fmt: skip


@dataclass(frozen=True)
class Talk:
    id: str
    language: str  # ISO 639-1, what the transcript should be detected as
    voice: str  # espeak-ng -v (language voice, optionally +variant)
    speed: int  # espeak-ng -s, words per minute
    pitch: int  # espeak-ng -p, 0-99 (50 is espeak's default)
    segments: tuple[tuple[str, str], ...]  # (label, text), in spoken order


def _talk(
    id: str,
    language: str,
    voice: str,
    speed: int,
    pitch: int,
    order: str,
    *,
    strong: list[str],
    meta: list[str],
    stuffed: list[str],
    ramble: list[str],
) -> Talk:
    """``order`` spells the spoken order, one letter per passage: S strong, m meta, b stuffed
    (bait), r ramble; each kind's passages are taken in the order they are listed."""
    kinds = {"S": (STRONG, iter(strong)), "m": (META, iter(meta)), "b": (STUFFED, iter(stuffed)),
             "r": (RAMBLE, iter(ramble))}  # fmt: skip
    segments = tuple((kinds[c][0], next(kinds[c][1])) for c in order)
    if len(segments) != len(strong) + len(meta) + len(stuffed) + len(ramble):
        raise ValueError(f"{id}: order {order!r} leaves passages out")
    return Talk(id, language, voice, speed, pitch, segments)


def _load(path: Path) -> list[Talk]:
    talks = yaml.safe_load(path.read_text(encoding="utf-8"))["talks"]
    return [
        _talk(
            t["id"], t["language"], t["voice"], t["speed"], t["pitch"], t["order"],
            strong=t[STRONG], meta=t[META], stuffed=t[STUFFED], ramble=t[RAMBLE],
        )
        for t in talks
    ]  # fmt: skip


TALKS = _load(Path(__file__).resolve().parent / "data" / "clip_judgement_talks.yaml")


def hype_words(text: str, language: str) -> list[str]:
    """The hype words of ``language`` that start a word of ``text``."""
    lowered = text.lower()
    return [w for w in HYPE_WORDS[language] if re.search(r"(?<!\w)" + re.escape(w), lowered)]


def check() -> Counter[tuple[str, str]]:
    """Raises on a passage that breaks the rules above; returns the count per (language, label)."""
    counts: Counter[tuple[str, str]] = Counter()
    for talk in TALKS:
        for label, text in talk.segments:
            words = len(text.split())
            if not MIN_WORDS <= words <= MAX_WORDS:
                raise ValueError(f"{talk.id}: {words} words in {text[:40]!r}")
            found = hype_words(text, talk.language)
            if label == STRONG and found:
                raise ValueError(f"{talk.id}: strong passage has hype words {found}: {text[:40]!r}")
            if label == STUFFED and len(found) < 5:
                raise ValueError(f"{talk.id}: stuffed passage has only {found}: {text[:40]!r}")
            counts[talk.language, label] += 1
    return counts


if __name__ == "__main__":
    for (language, label), n in sorted(check().items()):
        print(language, label, n)
