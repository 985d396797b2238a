"""Dataset parsing and checks (CSV and JSONL), and the deterministic stratified split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clipsift_common.errors import InvalidArgument, ResourceExhausted
from training_svc.dataset import load_dataset
from training_svc.settings import DatasetLimits
from training_svc.split import split_dataset

from .conftest import DATA

LIMITS = DatasetLimits(min_examples_per_class=2)


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_csv_and_jsonl_parse_to_the_same_rows_and_hash(tmp_path: Path) -> None:
    csv_data = load_dataset(DATA / "topics.csv", "csv", DatasetLimits())
    assert len(csv_data) == 36
    assert csv_data.labels == ["computing", "cooking", "sport"]
    assert csv_data.counts == {"computing": 12, "cooking": 12, "sport": 12}
    assert csv_data.examples[1].text == "Our goalkeeper saved a penalty in the final minute of extra time."
    lines = [json.dumps({"label": e.label, "text": e.text}) for e in csv_data.examples]
    jsonl = load_dataset(_write(tmp_path, "d.jsonl", "\n".join(lines) + "\n\n"), "jsonl", DatasetLimits())
    assert jsonl.examples == csv_data.examples
    assert jsonl.sha256 == csv_data.sha256
    changed = load_dataset(
        _write(tmp_path, "e.jsonl", "\n".join(lines[1:] + lines[:1])), "jsonl", DatasetLimits()
    )
    assert changed.sha256 != csv_data.sha256, "row order is part of the data"


def test_csv_columns_in_any_order_with_bom_quotes_and_crlf(tmp_path: Path) -> None:
    content = (
        '\ufeffLabel, Text\r\nspam,"Buy now, cheap"\r\nham,"See you at ""noon"""\r\nspam,Win\r\nham,Hi\r\n'
    )
    dataset = load_dataset(_write(tmp_path, "d.csv", content), "csv", LIMITS)
    assert [(e.text, e.label) for e in dataset.examples] == [
        ("Buy now, cheap", "spam"),
        ('See you at "noon"', "ham"),
        ("Win", "spam"),
        ("Hi", "ham"),
    ]


def test_integer_labels_in_jsonl_become_strings(tmp_path: Path) -> None:
    rows = [{"text": f"t{i}", "label": i % 2} for i in range(4)]
    dataset = load_dataset(_write(tmp_path, "d.jsonl", "\n".join(map(json.dumps, rows))), "jsonl", LIMITS)
    assert dataset.labels == ["0", "1"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("d.csv", "text,label\na,x\n,y\n", "line 3: empty text"),
        ("d.csv", "text,label\na,x\nb,\n", "line 3: empty label"),
        ("d.csv", "text,label\na,x\n\nb,y\n", "line 3: empty row"),
        ("d.csv", "text,label\na,x,extra\n", "line 2: 3 fields, the header has 2"),
        ("d.csv", "text,label,lang\na,x,en\n", "unknown 'lang'"),
        ("d.csv", "text\na\n", "missing 'label'"),
        ("d.csv", "text,text\na,b\n", "repeated column names"),
        ("d.csv", 'text,label\n"unterminated,x\n', "not valid CSV"),
        ("d.jsonl", '{"text": "a", "label": "x"}\n[1, 2]\n', "line 2: not a JSON object"),
        ("d.jsonl", '{"text": "a", "label": "x"}\n{"text": "a"\n', "line 2: not a JSON object"),
        ("d.jsonl", '{"text": "a", "label": "x", "id": 3}\n', "line 1: unknown 'id'"),
        ("d.jsonl", '{"text": 5, "label": "x"}\n', "'text' must be a string"),
        ("d.jsonl", '{"text": "a", "label": [1]}\n', "'label' must be a string or an integer"),
        ("d.jsonl", '{"text": "a", "label": "x"}\n{"text": "b", "label": "x"}\n', "single class ('x')"),
        ("d.csv", "\n\n  \n", "the dataset is empty"),
        ("d.csv", "text,label\n", "the dataset has no rows"),
    ],
)
def test_bad_datasets_say_what_is_wrong(tmp_path: Path, name: str, content: str, message: str) -> None:
    fmt = "csv" if name.endswith(".csv") else "jsonl"
    with pytest.raises(InvalidArgument) as raised:
        load_dataset(_write(tmp_path, name, content), fmt, LIMITS)
    assert message in str(raised.value)


def test_many_bad_rows_are_summarised(tmp_path: Path) -> None:
    content = "text,label\n" + "".join(f"t{i},\n" for i in range(12)) + "a,x\nb,y\n"
    with pytest.raises(InvalidArgument) as raised:
        load_dataset(_write(tmp_path, "d.csv", content), "csv", LIMITS)
    assert str(raised.value).startswith("12 bad rows: line 2: empty label; line 3: empty label")
    assert "(and 7 more)" in str(raised.value)


def test_too_few_examples_per_class_names_the_classes(tmp_path: Path) -> None:
    rows = [("a", 5), ("b", 5), ("c", 2), ("d", 1)]
    content = "text,label\n" + "".join(f"{label}{i},{label}\n" for label, n in rows for i in range(n))
    with pytest.raises(InvalidArgument) as raised:
        load_dataset(_write(tmp_path, "d.csv", content), "csv", DatasetLimits(min_examples_per_class=3))
    assert "'d' has 1, 'c' has 2" in str(raised.value)
    assert "at least 3" in str(raised.value)


def test_limits(tmp_path: Path) -> None:
    content = "text,label\n" + "".join(f"t{i},{i % 2}\n" for i in range(10))
    path = _write(tmp_path, "d.csv", content)
    with pytest.raises(ResourceExhausted, match="more than 9 rows"):
        load_dataset(path, "csv", DatasetLimits(max_dataset_rows=9, min_examples_per_class=2))
    with pytest.raises(ResourceExhausted, match="the limit is 2"):
        load_dataset(_write(tmp_path, "e.csv", "text,label\nabc,x\n"), "csv", DatasetLimits(max_text_chars=2))
    three = "text,label\n" + "".join(f"t{i},{i % 3}\n" for i in range(9))
    with pytest.raises(ResourceExhausted, match="3 classes; the limit is 2"):
        load_dataset(
            _write(tmp_path, "f.csv", three), "csv", DatasetLimits(max_classes=2, min_examples_per_class=2)
        )
    with pytest.raises(InvalidArgument, match="not UTF-8"):
        load_dataset(_write(tmp_path, "g.csv", b"text,label\n\xe9t\xe9,x\n"), "csv", LIMITS)


def test_split_is_stratified_deterministic_and_complete() -> None:
    dataset = load_dataset(DATA / "topics.csv", "csv", DatasetLimits())
    first = split_dataset(dataset, 0.25, seed=13)
    again = split_dataset(dataset, 0.25, seed=13)
    assert first == again
    assert sorted(first.train + first.validation, key=dataset.examples.index) == dataset.examples
    assert {label: sum(e.label == label for e in first.validation) for label in dataset.labels} == {
        "computing": 3,
        "cooking": 3,
        "sport": 3,
    }
    assert split_dataset(dataset, 0.25, seed=14).validation != first.validation
    # Order kept inside each part.
    positions = [dataset.examples.index(e) for e in first.train]
    assert positions == sorted(positions)


def test_split_keeps_one_example_each_side_for_tiny_classes(tmp_path: Path) -> None:
    content = "text,label\na1,a\na2,a\nb1,b\nb2,b\nb3,b\nb4,b\nb5,b\nb6,b\nb7,b\nb8,b\n"
    dataset = load_dataset(_write(tmp_path, "d.csv", content), "csv", LIMITS)
    split = split_dataset(dataset, 0.9, seed=1)
    assert sum(e.label == "a" for e in split.train) == 1
    assert sum(e.label == "a" for e in split.validation) == 1
    assert sum(e.label == "b" for e in split.train) == 1
