"""The command line against a live gateway: `clipsift train` (progress bars, metrics, --deploy),
`clipsift predict` and `clipsift models`."""

from __future__ import annotations

import asyncio

import pytest

from clipsift_cli.client import ApiError
from clipsift_cli.main import build_parser

from .conftest import training_suite

DATA, ModelsPlatform, read_examples = (
    training_suite.DATA,
    training_suite.ModelsPlatform,
    training_suite.read_examples,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def _cli(platform: ModelsPlatform, *argv: str) -> int:
    command, *rest = argv
    args = build_parser().parse_args(
        [command, *rest, "--gateway-url", f"http://{platform.live_url}", "--api-key", platform.keys["acme"]]
    )
    return int(await asyncio.to_thread(args.func, args))


async def test_train_predict_models(
    models_platform: ModelsPlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await _cli(models_platform, "train", str(DATA / "topics.csv"), "--name", "topics", "--deploy")
    assert code == 0
    out, err = capsys.readouterr()
    assert "topics v1: accuracy" in out
    assert "confusion (rows: true" in out
    assert "deployed: clipsift predict topics" in out
    assert "train:" in err, "a progress bar for the training step"
    assert "loss=" in err

    held_out = read_examples(DATA / "heldout.csv")
    assert await _cli(models_platform, "predict", "topics", *(e.text for e in held_out)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(held_out)
    predicted = [line.split("\t")[0] for line in lines]
    assert sum(p == e.label for p, e in zip(predicted, held_out, strict=True)) > len(held_out) * 2 / 3

    assert await _cli(models_platform, "models") == 0
    assert "topics" in capsys.readouterr().out
    assert await _cli(models_platform, "models", "show", "topics") == 0
    assert capsys.readouterr().out.startswith("* v1")
    assert await _cli(models_platform, "models", "undeploy", "topics") == 0
    assert "topics is not deployed (before: v1)" in capsys.readouterr().out
    with pytest.raises(ApiError, match="HTTP 404"):
        await _cli(models_platform, "predict", "nothing-here", "text")
