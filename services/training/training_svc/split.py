"""Deterministic, stratified train/validation split.

Each class is split on its own (so every class appears in both parts), by a shuffle seeded with
the seed and the label: the same dataset and seed always give the same split, on any machine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .dataset import Dataset, Example


@dataclass(frozen=True)
class Split:
    train: list[Example]
    validation: list[Example]


def split_dataset(dataset: Dataset, validation_fraction: float, seed: int) -> Split:
    """About ``validation_fraction`` of each class for validation (at least one example, and at
    least one left for training); both parts keep the dataset's row order."""
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    by_label: dict[str, list[int]] = {label: [] for label in dataset.labels}
    for index, example in enumerate(dataset.examples):
        by_label[example.label].append(index)
    held_out: set[int] = set()
    for label, indices in by_label.items():
        # A str seed is hashed with SHA-512 by random.Random: stable across processes and machines.
        random.Random(f"{seed}/{label}").shuffle(indices)
        count = min(len(indices) - 1, max(1, round(len(indices) * validation_fraction)))
        held_out.update(indices[:count])
    train = [e for i, e in enumerate(dataset.examples) if i not in held_out]
    validation = [e for i, e in enumerate(dataset.examples) if i in held_out]
    return Split(train, validation)
