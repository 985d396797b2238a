"""Reports over a range: CSV of one dataset, or a self-contained HTML page with SVG charts."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from html import escape
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


def render_html(data: ReportData, generated_at: datetime) -> bytes:
    window = data.window
    starts = bucket_starts(window)
    label = _LABELS[window.bucket]
    usage = data.usage
    totals = {
        "jobs finished": sum(r["jobs_finished"] for r in usage),
        "completed": sum(r["jobs_completed"] for r in usage),
        "failed": sum(r["jobs_failed"] for r in usage),
        "media minutes": round(sum(r["media_seconds"] for r in usage) / 60, 2),
        "documents scanned": sum(r["documents"] for r in usage),
        "clips produced": sum(r["clips"] for r in usage),
    }
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
        entry["media_minutes"] = round(entry["media_minutes"] + row["media_seconds"] / 60, 2)
        entry["documents"] += row["documents"]
        entry["clips"] += row["clips"]
    steps = data.latency
    charts = [
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
    scope = f"tenant {window.tenant_id}" if window.tenant_id else "all tenants"
    kind = f", job kind {window.job_kind}" if window.job_kind else ""
    summary = "".join(
        f"<div class='figure'><b>{escape(_cell(v))}</b><br>{escape(k)}</div>" for k, v in totals.items()
    )
    tenant_table = _table(
        ["tenant_id", "jobs_completed", "jobs_failed", "media_minutes", "documents", "clips"],
        list(per_tenant.values()),
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>clipsift usage report: {escape(scope)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; font-size: 13px; }}
.figure {{ display: inline-block; margin: 0 1.5em 1em 0; }}
.figure b {{ font-size: 1.6em; }}
svg {{ display: block; margin-bottom: 1.5em; }}
</style></head><body>
<h1>clipsift usage report: {escape(scope)}{escape(kind)}</h1>
<p>Period {escape(_cell(window.since))} to {escape(_cell(window.until))} (UTC), buckets of one
{escape(window.bucket)}; generated {escape(_cell(generated_at))}. Jobs count in the bucket in which they
finished.</p>
<div>{summary}</div>
{"".join(charts)}
<h2>Usage per tenant</h2>
{tenant_table}
<h2>Throughput per {escape(window.bucket)}</h2>
{_table(CSV_COLUMNS["throughput"], data.throughput)}
<h2>Latency per step (seconds)</h2>
{_table(["job_kind", "step", "samples", "p50_seconds", "p90_seconds", "p99_seconds", "max_seconds"], steps)}
<h2>Failures by reason</h2>
{_table(["job_kind", "reason", "jobs", "last_seen", "example_job_id"], data.failures)}
</body></html>
"""
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
