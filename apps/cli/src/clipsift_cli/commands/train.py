"""``clipsift train DATA --name NAME``: fine-tune a text classifier, with its metrics (and --deploy)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..client import ApiError
from ._common import Subcommands, add_connection, connect, follow


def cmd_train(args: argparse.Namespace) -> int:
    client = connect(args)
    if not args.data.is_file():
        raise ApiError(f"{args.data} does not exist")
    options = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "max_length": args.max_length,
        "validation_fraction": args.validation_fraction,
        "seed": args.seed,
    }
    job = client.submit_training(args.data, args.name, options)
    print(f"job {job['id']}: {job['message']}", file=sys.stderr)
    final = follow(client, job["id"], args.quiet)
    if final is None or final["type"] != "completed":
        raise ApiError(f"training failed: {final['message'] if final else 'no events received'}")
    result = client.result(job["id"])
    if args.deploy:
        client.model_action(args.name, "deploy", result["version"])
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    _print_metrics(result)
    if args.deploy:
        print(f'deployed: clipsift predict {args.name} "text"')
    return 0


def _print_metrics(result: dict[str, Any]) -> None:
    metrics = result["metrics"]
    print(
        f"{result['model']} v{result['version']}: accuracy {metrics['accuracy']:.3f}, macro-F1 "
        f"{metrics['macro_f1']:.3f} on {result['validation_examples']} validation examples "
        f"({result['train_examples']} trained, {result['train_seconds']:.1f}s on {result['device']})"
    )
    labels = metrics["labels"]
    width = max(8, *(len(label) for label in labels))
    print(f"  {'label':<{width}}  precision  recall     f1  support")
    for label in labels:
        row = metrics["per_class"][label]
        print(
            f"  {label:<{width}}  {row['precision']:9.3f}  {row['recall']:6.3f}  {row['f1']:5.3f}  "
            f"{row['support']:7d}"
        )
    print("  confusion (rows: true, columns: predicted, in the order above)")
    for label, row in zip(labels, metrics["confusion_matrix"], strict=True):
        print(f"  {label:<{width}}  " + " ".join(f"{n:5d}" for n in row))


def register(commands: Subcommands) -> None:
    train = commands.add_parser("train", help="fine-tune a text classifier on a labelled dataset")
    train.add_argument("data", type=Path, help=".csv (header text,label) or .jsonl ({text, label} per line)")
    train.add_argument("--name", required=True, help="model name (a new version if it exists)")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--learning-rate", type=float)
    train.add_argument("--max-length", type=int, help="tokens per text")
    train.add_argument("--validation-fraction", type=float)
    train.add_argument("--seed", type=int)
    train.add_argument("--deploy", action="store_true", help="deploy the new version once trained")
    train.add_argument("--json", action="store_true", help="print the version and its metrics as JSON")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    add_connection(train)
    train.set_defaults(func=cmd_train)
