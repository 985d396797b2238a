"""``clipsift compare``, ``clipsift index`` and ``clipsift dedup`` (text) against a live gateway with
the text service and its job worker."""

from __future__ import annotations

import asyncio

import pytest

from .conftest import _suite_module

pytestmark = pytest.mark.integration

compare_suite = _suite_module("services/gateway/tests/test_gateway_compare.py")
indexes_suite = _suite_module("services/gateway/tests/test_gateway_indexes.py")
APACHE, PARAGRAPH, _host = compare_suite.APACHE, compare_suite.PARAGRAPH, compare_suite._host
NAMES, TEXTS, _near, _rows = (
    indexes_suite.NAMES,
    indexes_suite.TEXTS,
    indexes_suite._near,
    indexes_suite._rows,
)


async def test_cli_compare_prints_passages_and_writes_the_html(platform, live_url, tmp_path, capsys):
    from clipsift_cli.main import build_parser

    host, at = _host()
    (tmp_path / "apache.txt").write_text(APACHE)
    (tmp_path / "host.txt").write_text(host)
    report = tmp_path / "report.html"
    args = build_parser().parse_args(
        [
            "compare",
            str(tmp_path / "apache.txt"),
            str(tmp_path / "host.txt"),
            "--html",
            str(report),
            "--gateway-url",
            f"http://{live_url}",
            "--api-key",
            platform.keys["acme"],
        ]
    )
    # The CLI's client is synchronous: run it off the loop that serves the gateway.
    assert await asyncio.to_thread(args.func, args) == 0
    out = capsys.readouterr().out
    start = APACHE.index(PARAGRAPH)
    assert out.startswith("1 shared passages of 8+ words;")
    assert f"apache.txt:{start}-{start + len(PARAGRAPH)}" in out
    assert f"host.txt:{at}-{at + len(PARAGRAPH)}" in out
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert '<mark id="b1"' in page


async def test_cli_index_add_query_and_dedup_csv(platform, live_url, tmp_path, capsys):
    from clipsift_cli.main import build_parser

    folder = tmp_path / "site"
    folder.mkdir()
    for name in NAMES:
        (folder / f"{name}.txt").write_text(TEXTS[name])
    probe = tmp_path / "probe.txt"
    probe.write_text(_near(TEXTS["GPL-2"]))
    connection = ["--gateway-url", f"http://{live_url}", "--api-key", platform.keys["acme"]]

    async def run(*argv: str) -> str:
        args = build_parser().parse_args([*argv, *connection])
        # The CLI's client is synchronous: run it off the loop that serves the gateway.
        assert await asyncio.to_thread(args.func, args) == 0
        return capsys.readouterr().out

    out = await run("index", "add", "site", str(folder), "--quiet")
    assert "index 'site': 5 added, 0 replaced, 5 documents in the index" in out
    out = await run("index", "query", "site", str(probe))
    assert out.startswith("1 near-duplicates of")
    assert "GPL-2.txt" in out
    rows = _rows(await run("index", "query", "site", str(probe), "--csv"))
    assert [(r["kind"], r["id"]) for r in rows] == [("near_duplicate", "GPL-2.txt")]
    out = await run("index", "list")
    assert out.startswith("site  5 documents  near-duplicate")
    (folder / "copy.txt").write_text(TEXTS["BSD"])
    dedup = _rows(await run("dedup", str(folder), "--csv", "--quiet"))
    assert [(r["a"], r["b"], r["exact"]) for r in dedup] == [("BSD.txt", "copy.txt", "true")]
    out = await run("index", "delete", "site")
    assert "deleted index 'site' and its 5 documents" in out
