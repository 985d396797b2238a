"""Transcript handling: words from the audio service, sentences, and text features."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .model import Sentence, Word

_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]]*$")
# A pause this long ends a sentence even without punctuation (tiny models drop punctuation).
_PAUSE_SENTENCE_BREAK = 1.2


def sentences(words: Sequence[Word]) -> list[Sentence]:
    """Split words into sentences at terminal punctuation or long pauses."""
    result: list[Sentence] = []
    current: list[Word] = []
    for index, word in enumerate(words):
        current.append(word)
        next_word = words[index + 1] if index + 1 < len(words) else None
        pause = next_word.start - word.end if next_word else 0.0
        if next_word is None or _SENTENCE_END.search(word.text) or pause >= _PAUSE_SENTENCE_BREAK:
            result.append(Sentence(tuple(current)))
            current = []
    return result


def normalise_word(text: str) -> str:
    return re.sub(r"[^\w']+", "", text.lower())


def plain_text(words: Iterable[Word]) -> str:
    return " ".join(w.text for w in words)
