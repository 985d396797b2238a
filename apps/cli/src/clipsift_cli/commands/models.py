"""``clipsift models [list | show NAME | deploy | undeploy | rollback NAME]``: the tenant's models."""

from __future__ import annotations

import argparse
import json

from ..client import ApiError
from ._common import Subcommands, add_connection, connect


def cmd_models(args: argparse.Namespace) -> int:
    client = connect(args)
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


def register(commands: Subcommands) -> None:
    models = commands.add_parser(
        "models", help="list models, show one's versions, or deploy / undeploy / roll back"
    )
    models.add_argument(
        "action", nargs="?", choices=["list", "show", "deploy", "undeploy", "rollback"], default="list"
    )
    models.add_argument("name", nargs="?")
    models.add_argument("--version", type=int, help="version to deploy or roll back to")
    models.add_argument("--json", action="store_true")
    add_connection(models)
    models.set_defaults(func=cmd_models)
