"""Blending an LLM's judgement into the built-in score.

The built-in score picks a shortlist of non-overlapping candidates; the model scores each one
for the request's prompt; each shortlisted clip's total becomes a weighted mean of the two, the
model's share shown as one more component (``llm``) with its reason. Whatever goes wrong with
the model, the job goes on with the built-in ranking and says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from clipsift_common.contracts import ClipOptions

from .candidates import Candidate, pick_non_overlapping
from .llm_ranker import LlmRanker, LlmUnavailable, RankItem
from .model import ScoreBreakdown


@dataclass(frozen=True)
class Reranked:
    chosen: list[tuple[float, Candidate]] = field(default_factory=list)  # best first
    breakdowns: dict[int, ScoreBreakdown] = field(default_factory=dict)  # id(candidate) -> blended score
    model: str = ""
    warning: str = ""  # set when the model was not used


async def rerank_with_llm(
    llm: LlmRanker,
    ranked: Sequence[tuple[ScoreBreakdown, Candidate]],
    options: ClipOptions,
    language: str,
    *,
    shortlist_size: int,
    weight: float,
) -> Reranked:
    shortlist = pick_non_overlapping([(b.total, c) for b, c in ranked], max(shortlist_size, options.count))
    builtin = {id(c): b for b, c in ranked}
    items = [
        RankItem(index=i, start=c.start, end=c.end, text=" ".join(s.text for s in c.sentences), score=total)
        for i, (total, c) in enumerate(shortlist)
    ]
    try:
        verdict = await llm.rerank(
            items,
            prompt=options.prompt,
            topic_keywords=options.topic_keywords,
            language=language,
            genre=options.genre,
        )
    except LlmUnavailable as exc:
        return Reranked(
            warning=f"the LLM ranker was not used ({exc}); clips are ranked by the built-in score"
        )
    if not verdict.scores:
        return Reranked(warning="the LLM ranker scored no clip; clips are ranked by the built-in score")
    breakdowns = {}
    for i, (_, candidate) in enumerate(shortlist):
        score = builtin[id(candidate)]
        if i in verdict.scores:
            score = blend(score, verdict.scores[i], verdict.reasons.get(i, ""), weight)
        breakdowns[id(candidate)] = score
    chosen = sorted(((breakdowns[id(c)].total, c) for _, c in shortlist), key=lambda item: -item[0])
    return Reranked(chosen=chosen, breakdowns=breakdowns, model=verdict.model)


def blend(score: ScoreBreakdown, judgement: float, reason: str, weight: float) -> ScoreBreakdown:
    """The built-in score with the model's judgement (0..1) as one more weighted component."""
    weights = {name: round(w * (1 - weight), 4) for name, w in score.weights.items()} | {"llm": weight}
    total = (1 - weight) * score.total + weight * 100.0 * judgement
    why = f"llm: {reason}" if reason else f"llm: judged {judgement:.2f}"
    return ScoreBreakdown(
        total=round(total, 2),
        components=score.components | {"llm": round(judgement, 4)},
        weights=weights,
        reasons=[*score.reasons, why],
    )
