"""Labelled datasets: CSV or JSONL with a ``text`` and a ``label`` per row, parsed and checked.

Every check names what is wrong and where (line numbers are 1-based lines of the file), so a user
can fix the file: empty rows or fields, unknown or missing columns, a single class, too few
examples of a class, a file over a limit. The parsed rows hash to the same SHA-256 whichever
format carried them, so the registry can tell which data a model version learned from.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from clipsift_common.errors import InvalidArgument, ResourceExhausted

from .settings import DatasetLimits

DatasetFormat = Literal["csv", "jsonl"]
COLUMNS = ("text", "label")
# Row problems reported in one error message; a file with thousands of bad rows needs only a sample.
_MAX_REPORTED = 5


@dataclass(frozen=True)
class Example:
    text: str
    label: str


@dataclass(frozen=True)
class Dataset:
    examples: list[Example]
    # Sorted: the class index of a label is its position here, the same for every run on the data.
    labels: list[str]
    counts: dict[str, int]
    sha256: str

    def __len__(self) -> int:
        return len(self.examples)


class _RowErrors:
    """Collects per-row problems and raises them together (the first few, and how many in all)."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.total = 0

    def add(self, line: int, problem: str) -> None:
        self.total += 1
        if len(self.messages) < _MAX_REPORTED:
            self.messages.append(f"line {line}: {problem}")

    def raise_if_any(self) -> None:
        if self.total:
            more = f" (and {self.total - len(self.messages)} more)" if self.total > len(self.messages) else ""
            raise InvalidArgument(f"{self.total} bad rows: " + "; ".join(self.messages) + more)


def load_dataset(path: Path, fmt: DatasetFormat, limits: DatasetLimits) -> Dataset:
    """Parse and check the dataset file at ``path``; ``InvalidArgument`` or ``ResourceExhausted`` say
    what is wrong."""
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"the dataset is not UTF-8 text (byte {exc.start})") from None
    # Trailing blank lines are how editors end files, not empty rows.
    content = content.rstrip("\r\n\t ")
    if not content:
        raise InvalidArgument("the dataset is empty")
    rows = _csv_rows(content) if fmt == "csv" else _jsonl_rows(content)
    return check_examples(rows, limits)


def check_examples(rows: Iterator[tuple[int, str, str]], limits: DatasetLimits) -> Dataset:
    """Check ``(line, text, label)`` rows against ``limits`` and build the dataset."""
    errors = _RowErrors()
    examples: list[Example] = []
    digest = hashlib.sha256()
    for line, raw_text, raw_label in rows:
        text, label = raw_text.strip(), raw_label.strip()
        if not text and not label:
            errors.add(line, "empty row")
            continue
        if not text:
            errors.add(line, "empty text")
            continue
        if not label:
            errors.add(line, "empty label")
            continue
        if len(text) > limits.max_text_chars:
            raise ResourceExhausted(
                f"line {line}: the text has {len(text)} characters; the limit is {limits.max_text_chars}"
            )
        if len(label) > limits.max_label_chars:
            errors.add(line, f"label of {len(label)} characters (the limit is {limits.max_label_chars})")
            continue
        if len(examples) >= limits.max_dataset_rows:
            raise ResourceExhausted(f"the dataset has more than {limits.max_dataset_rows} rows (the limit)")
        examples.append(Example(text, label))
        digest.update(json.dumps([text, label], ensure_ascii=False).encode())
        digest.update(b"\n")
    errors.raise_if_any()
    if not examples:
        raise InvalidArgument("the dataset has no rows")
    counts = Counter(example.label for example in examples)
    labels = sorted(counts)
    if len(labels) == 1:
        raise InvalidArgument(
            f"the dataset has a single class ({labels[0]!r}): a classifier needs at least two labels"
        )
    if len(labels) > limits.max_classes:
        raise ResourceExhausted(f"the dataset has {len(labels)} classes; the limit is {limits.max_classes}")
    scarce = sorted(
        (count, label) for label, count in counts.items() if count < limits.min_examples_per_class
    )
    if scarce:
        listed = ", ".join(f"{label!r} has {count}" for count, label in scarce[:_MAX_REPORTED])
        raise InvalidArgument(
            f"too few examples per class: {listed} "
            f"(each class needs at least {limits.min_examples_per_class} to train and validate)"
        )
    return Dataset(examples, labels, {label: counts[label] for label in labels}, digest.hexdigest())


def _check_columns(found: list[str], where: str) -> None:
    unknown = [name for name in found if name not in COLUMNS]
    missing = [name for name in COLUMNS if name not in found]
    problems = []
    if unknown:
        problems.append("unknown " + ", ".join(repr(name) for name in unknown))
    if missing:
        problems.append("missing " + ", ".join(repr(name) for name in missing))
    if problems:
        raise InvalidArgument(
            f"{where}: {' and '.join(problems)} (the columns must be exactly 'text' and 'label')"
        )


def _csv_rows(content: str) -> Iterator[tuple[int, str, str]]:
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise InvalidArgument(f"line 1: not valid CSV ({exc})") from None
    names = [name.strip().lower() for name in header]
    if len(set(names)) != len(names):
        raise InvalidArgument(f"line 1: repeated column names in the header {header!r}")
    _check_columns(names, "line 1 (the header)")
    text_at, label_at = names.index("text"), names.index("label")
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not field.strip() for field in row):
                yield line, "", ""
                continue
            if len(row) != len(names):
                raise InvalidArgument(f"line {line}: {len(row)} fields, the header has {len(names)}")
            yield line, row[text_at], row[label_at]
    except csv.Error as exc:
        raise InvalidArgument(f"line {reader.line_num}: not valid CSV ({exc})") from None


def _jsonl_rows(content: str) -> Iterator[tuple[int, str, str]]:
    for line, raw in enumerate(content.split("\n"), start=1):
        if not raw.strip():
            yield line, "", ""
            continue
        try:
            row = json.loads(raw)
        except ValueError:
            raise InvalidArgument(f"line {line}: not a JSON object") from None
        if not isinstance(row, dict):
            raise InvalidArgument(f"line {line}: not a JSON object")
        _check_columns(list(row), f"line {line}")
        text, label = row["text"], row["label"]
        if not isinstance(text, str):
            raise InvalidArgument(f"line {line}: 'text' must be a string")
        # Integer class ids are common in exported datasets; they become their decimal string.
        if isinstance(label, int) and not isinstance(label, bool):
            label = str(label)
        if not isinstance(label, str):
            raise InvalidArgument(f"line {line}: 'label' must be a string or an integer")
        yield line, text, label
