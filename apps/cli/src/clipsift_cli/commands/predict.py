"""``clipsift predict NAME TEXT...``: labels of texts by the deployed model NAME."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..client import ApiError
from ._common import Subcommands, add_connection, connect, read_text


def cmd_predict(args: argparse.Namespace) -> int:
    client = connect(args)
    texts = list(args.texts)
    if args.file:
        texts += [line for line in read_text(args.file).splitlines() if line.strip()]
    if not texts:
        raise ApiError("no texts: pass them as arguments or --file (one per line)")
    result = client.predict(args.model, texts)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    for text, prediction in zip(texts, result["predictions"], strict=True):
        excerpt = text if len(text) <= 60 else text[:57] + "..."
        print(f"{prediction['label']}\t{prediction['score']:.3f}\t{excerpt}")
    return 0


def register(commands: Subcommands) -> None:
    predict = commands.add_parser("predict", help="classify texts with a deployed model")
    predict.add_argument("model")
    predict.add_argument("texts", nargs="*", help="texts to classify")
    predict.add_argument("--file", type=Path, help="also classify each non-empty line of this file")
    predict.add_argument("--json", action="store_true")
    add_connection(predict)
    predict.set_defaults(func=cmd_predict)
