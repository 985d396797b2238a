"""The HTML report's data and page template, without a database or a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from analytics_svc.queries import AnalyticsRange
from analytics_svc.reports import ReportData, html_report, render_html

SINCE = datetime(2026, 10, 5, 3, tzinfo=UTC)


def _usage(tenant: str, media_seconds: float) -> dict[str, object]:
    return {
        "bucket": SINCE,
        "tenant_id": tenant,
        "jobs_finished": 2,
        "jobs_completed": 1,
        "jobs_failed": 1,
        "media_seconds": media_seconds,
        "documents": 3,
        "clips": 4,
    }


def _data(tenant: str | None = None) -> ReportData:
    window = AnalyticsRange(SINCE, SINCE + timedelta(hours=3), "hour", tenant, "video" if tenant else None)
    usage = [_usage("a<b>", 90.0), _usage("c", 30.0), _usage("a<b>", 45.0)]
    return ReportData(window, usage, [], [], [])


def test_the_report_sums_usage_per_tenant_in_order_of_appearance() -> None:
    report = html_report(_data(), SINCE)
    assert report.scope == "all tenants"
    assert report.kind == ""
    assert report.totals["jobs finished"] == 6
    assert report.totals["media minutes"] == 2.75
    assert [t["tenant_id"] for t in report.per_tenant] == ["a<b>", "c"]
    assert report.per_tenant[0]["media_minutes"] == 2.25
    assert report.per_tenant[0]["clips"] == 8
    assert len(report.charts) == 4


def test_the_page_is_filled_and_escaped() -> None:
    page = render_html(_data("t<1>"), SINCE).decode()
    assert page.startswith("<!DOCTYPE html>\n")
    assert page.endswith("</body></html>\n")
    assert "$" not in page, "every template field is filled"
    assert "<title>clipsift usage report: tenant t&lt;1&gt;</title>" in page
    assert "<h1>clipsift usage report: tenant t&lt;1&gt;, job kind video</h1>" in page
    assert "<td>a&lt;b&gt;</td>" in page
    assert "<h2>Throughput per hour</h2>" in page
    assert "<tbody><tr><td>none</td></tr></tbody>" in page
    assert "body { font-family: sans-serif; margin: 2em; color: #222; }" in page
