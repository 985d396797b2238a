"""Reports over a range: CSV of one dataset, or a self-contained HTML page with SVG charts."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from html import escape
from importlib import resources
from string import Template
from typing import Any

from clipsift_common.errors import InvalidArgument

from .charts import horizontal_bars, time_series_bars
from .partitions import add_months
from .queries import AnalyticsRange, UsageQueries

DATASETS = ("usage", "throughput", "latency", "failures")
FORMATS = {"csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}
_LABELS = {"hour": "%d %H:00", "day": "%m-%d", "week": "%m-%d", "month": "%Y-%m", "all": "%Y-%m-%d"}


@dataclass(frozen=True)
class Rendered:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ReportData:
    window: AnalyticsRange
    usage: list[dict[str, Any]]
    throughput: list[dict[str, Any]]
    latency: list[dict[str, Any]]
    failures: list[dict[str, Any]]


def bucket_starts(window: AnalyticsRange) -> list[datetime]:
    """Every bucket start from the one holding ``since`` up to ``until`` (UTC), empty ones included."""
    if window.bucket == "all":
        return [window.since]
    at = window.since.astimezone(UTC)
    if window.bucket == "month":
        current = datetime(at.year, at.month, 1, tzinfo=UTC)
    else:
        current = datetime(at.year, at.month, at.day, tzinfo=UTC)
        if window.bucket == "hour":
            current = current.replace(hour=at.hour)
        elif window.bucket == "week":
            current -= timedelta(days=current.weekday())  # date_trunc('week') starts on Monday
    starts = []
    while current < window.until:
        starts.append(current)
        if window.bucket == "month":
            current = add_months(current, 1)
        else:
            current += {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}[
                window.bucket
            ]
    return starts


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def render_csv(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue().encode()


CSV_COLUMNS = {
    "usage": [
        "bucket",
        "tenant_id",
        "jobs_finished",
        "jobs_completed",
        "jobs_failed",
        "media_seconds",
        "documents",
        "clips",
    ],
    "throughput": [
        "bucket",
        "job_kind",
        "jobs_completed",
        "jobs_failed",
        "jobs_per_hour",
        "media_seconds_per_hour",
        "documents_per_hour",
    ],
    "latency": [
        "bucket",
        "job_kind",
        "step",
        "samples",
        "p50_seconds",
        "p90_seconds",
        "p99_seconds",
        "mean_seconds",
        "max_seconds",
    ],
    "failures": ["job_kind", "reason", "jobs", "last_seen", "example_job_id", "example_message"],
}


def _per_bucket(
    rows: list[dict[str, Any]], starts: list[datetime], field: str, scale: float = 1.0
) -> list[float]:
    totals: dict[datetime, float] = defaultdict(float)
    for row in rows:
        totals[row["bucket"]] += float(row[field]) / scale
    return [totals.get(start, 0.0) for start in starts]


def _table(columns: list[str], rows: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(row.get(c)))}</td>" for c in columns) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body or '<tr><td>none</td></tr>'}</tbody></table>"


_TENANT_COLUMNS = ["tenant_id", "jobs_completed", "jobs_failed", "media_minutes", "documents", "clips"]
_LATENCY_COLUMNS = ["job_kind", "step", "samples", "p50_seconds", "p90_seconds", "p99_seconds", "max_seconds"]
_FAILURE_COLUMNS = ["job_kind", "reason", "jobs", "last_seen", "example_job_id"]


@dataclass(frozen=True)
class HtmlReport:
    """What the HTML report shows, before it is escaped into the page template."""

    window: AnalyticsRange
    generated_at: datetime
    scope: str  # "tenant t1" or "all tenants"
    kind: str  # ", job kind video" or ""
    totals: dict[str, Any]  # headline figure name -> value
    charts: list[str]  # SVG markup
    per_tenant: list[dict[str, Any]]
    throughput: list[dict[str, Any]]
    latency: list[dict[str, Any]]
    failures: list[dict[str, Any]]


def html_report(data: ReportData, generated_at: datetime) -> HtmlReport:
    window = data.window
    return HtmlReport(
        window=window,
        generated_at=generated_at,
        scope=f"tenant {window.tenant_id}" if window.tenant_id else "all tenants",
        kind=f", job kind {window.job_kind}" if window.job_kind else "",
        totals=_totals(data.usage),
        charts=_charts(window, data.usage, data.latency),
        per_tenant=_per_tenant(data.usage),
        throughput=data.throughput,
        latency=data.latency,
        failures=data.failures,
    )


def _totals(usage: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "jobs finished": sum(r["jobs_finished"] for r in usage),
        "completed": sum(r["jobs_completed"] for r in usage),
        "failed": sum(r["jobs_failed"] for r in usage),
        "media minutes": round(sum(r["media_seconds"] for r in usage) / 60, 2),
        "documents scanned": sum(r["documents"] for r in usage),
        "clips produced": sum(r["clips"] for r in usage),
    }


def _per_tenant(usage: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Usage summed per tenant, in order of each tenant's first row."""
    per_tenant: dict[str, dict[str, Any]] = {}
    for row in usage:
        entry = per_tenant.setdefault(
            row["tenant_id"],
            {
                "tenant_id": row["tenant_id"],
                "jobs_completed": 0,
                "jobs_failed": 0,
                "media_minutes": 0.0,
                "documents": 0,
                "clips": 0,
            },
        )
        entry["jobs_completed"] += row["jobs_completed"]
        entry["jobs_failed"] += row["jobs_failed"]
        # Rounded at every row, unlike the totals: kept so the report reads as it always has.
        entry["media_minutes"] = round(entry["media_minutes"] + row["media_seconds"] / 60, 2)
        entry["documents"] += row["documents"]
        entry["clips"] += row["clips"]
    return list(per_tenant.values())


def _charts(window: AnalyticsRange, usage: list[dict[str, Any]], steps: list[dict[str, Any]]) -> list[str]:
    starts = bucket_starts(window)
    label = _LABELS[window.bucket]
    return [
        time_series_bars(
            f"Jobs finished per {window.bucket}",
            starts,
            {
                "completed": _per_bucket(usage, starts, "jobs_completed"),
                "failed": _per_bucket(usage, starts, "jobs_failed"),
            },
            "jobs",
            label,
        ),
        time_series_bars(
            f"Media minutes processed per {window.bucket}",
            starts,
            {"media minutes": _per_bucket(usage, starts, "media_seconds", 60.0)},
            "minutes",
            label,
        ),
        time_series_bars(
            f"Documents scanned and clips produced per {window.bucket}",
            starts,
            {
                "documents": _per_bucket(usage, starts, "documents"),
                "clips": _per_bucket(usage, starts, "clips"),
            },
            "count",
            label,
        ),
        horizontal_bars(
            "Latency per step (whole period)",
            [f"{r['job_kind']} / {r['step']}" for r in steps],
            {"p50": [r["p50_seconds"] for r in steps], "p90": [r["p90_seconds"] for r in steps]},
            "seconds",
        ),
    ]


@cache
def _page_template() -> Template:
    return Template(
        resources.files("analytics_svc").joinpath("templates/report.html").read_text(encoding="utf-8")
    )


def render_html(data: ReportData, generated_at: datetime) -> bytes:
    report = html_report(data, generated_at)
    window = report.window
    page = _page_template().substitute(
        scope=escape(report.scope),
        kind=escape(report.kind),
        since=escape(_cell(window.since)),
        until=escape(_cell(window.until)),
        bucket=escape(window.bucket),
        generated_at=escape(_cell(report.generated_at)),
        summary="".join(
            f"<div class='figure'><b>{escape(_cell(v))}</b><br>{escape(k)}</div>"
            for k, v in report.totals.items()
        ),
        charts="".join(report.charts),
        tenant_table=_table(_TENANT_COLUMNS, report.per_tenant),
        throughput_table=_table(CSV_COLUMNS["throughput"], report.throughput),
        latency_table=_table(_LATENCY_COLUMNS, report.latency),
        failures_table=_table(_FAILURE_COLUMNS, report.failures),
    )
    return page.encode()


class ReportRenderer:
    def __init__(self, queries: UsageQueries) -> None:
        self.queries = queries

    async def collect(self, window: AnalyticsRange) -> ReportData:
        return ReportData(
            window=window,
            usage=await self.queries.usage(window),
            throughput=await self.queries.throughput(window),
            latency=await self.queries.latency(replace(window, bucket="all")),
            failures=await self.queries.failures(window),
        )

    async def render(self, window: AnalyticsRange, fmt: str, dataset: str = "") -> Rendered:
        """The report as bytes with a file name and content type; bad format/dataset -> InvalidArgument."""
        if fmt not in FORMATS:
            raise InvalidArgument(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        stem = _stem(window)
        if fmt == "csv":
            dataset = dataset or "usage"
            if dataset not in DATASETS:
                raise InvalidArgument(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
            rows = await getattr(self.queries, dataset)(window)
            return Rendered(f"{stem}-{dataset}.csv", FORMATS["csv"], render_csv(rows, CSV_COLUMNS[dataset]))
        if dataset:
            raise InvalidArgument("dataset applies to csv reports only; the html report shows every dataset")
        data = await self.collect(window)
        return Rendered(f"{stem}.html", FORMATS["html"], render_html(data, datetime.now(UTC)))


def _stem(window: AnalyticsRange) -> str:
    scope = window.tenant_id or "all-tenants"
    since, until = window.since.astimezone(UTC), window.until.astimezone(UTC)
    return f"clipsift-{scope}-{since:%Y%m%dT%H%M}-{until:%Y%m%dT%H%M}"
