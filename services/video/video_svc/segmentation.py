"""Topic segmentation of a transcript: where one thought ends and the next begins.

TextTiling (Hearst, 1997) on sentence embeddings: at every gap between two sentences, compare
the few sentences before with the few after; a gap whose similarity dips well below the peaks
on either side is a topic boundary. Depths, not just yes/no, so that a clip can be told how
sharply it is cut off from its neighbours.
"""

from __future__ import annotations

import numpy as np

# Sentences on each side of a gap that are compared (a thought spans a few sentences).
WINDOW = 3


def gap_similarities(embeddings: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Cosine similarity of the ``window`` sentences before each gap with those after it."""
    count = len(embeddings)
    result = np.ones(max(0, count - 1), dtype=np.float32)
    for gap in range(count - 1):
        before = embeddings[max(0, gap + 1 - window) : gap + 1].sum(axis=0)
        after = embeddings[gap + 1 : gap + 1 + window].sum(axis=0)
        norm = float(np.linalg.norm(before) * np.linalg.norm(after))
        result[gap] = float(before @ after) / norm if norm > 0 else 0.0
    return result


def depth_scores(similarities: np.ndarray) -> np.ndarray:
    """How far each gap's similarity lies below the highest peaks to its left and right."""
    depths = np.zeros_like(similarities)
    for gap, value in enumerate(similarities):
        # Climb only while the curve rises: a peak behind a deeper valley belongs to another topic.
        i = gap
        while i > 0 and similarities[i - 1] >= similarities[i]:
            i -= 1
        left = similarities[i]
        j = gap
        while j + 1 < len(similarities) and similarities[j + 1] >= similarities[j]:
            j += 1
        right = similarities[j]
        depths[gap] = (left - value) + (right - value)
    return depths


def boundary_strengths(embeddings: np.ndarray) -> np.ndarray:
    """Per gap, in [0, 1]: 1 is a clear change of topic, 0 the same thought going on.

    A depth counts relative to the talk's own depths (mean minus half a standard deviation is
    Hearst's cut-off), so a talk that wanders everywhere does not find a boundary at every gap.
    """
    if len(embeddings) < 2:
        return np.zeros(0, dtype=np.float32)
    depths = depth_scores(gap_similarities(embeddings))
    cutoff = max(float(depths.mean() - depths.std() / 2), 0.02)
    scale = max(float(depths.max()), cutoff * 2)
    return np.clip((depths - cutoff) / (scale - cutoff), 0.0, 1.0).astype(np.float32)
