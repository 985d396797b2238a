// Usage chart: an inline SVG of jobs per kind, stacked by status. The chart reads one neutral shape
// (UsageData below); each analytics endpoint gets a small adapter into it, so a richer endpoint
// replaces the source without touching the drawing.

import { api } from "./api.js";
import { h, replace, svg } from "./dom.js";

/**
 * @typedef {{status: string, value: number}} Segment
 * @typedef {{label: string, total: number, segments: Segment[]}} Bar
 * @typedef {{title: string, unit: string, bars: Bar[], statuses: string[], note: string}} UsageData
 */

export const STATUS_ORDER = ["completed", "failed", "running", "requested"];

/** Adapter for GET /v1/analytics/summary: rows of (job kind, status, jobs, events). */
export const summarySource = {
  path(days) {
    const query = new URLSearchParams();
    if (days) query.set("since", new Date(Date.now() - days * 86_400_000).toISOString());
    const qs = query.toString();
    return `/v1/analytics/summary${qs ? `?${qs}` : ""}`;
  },
  /** @returns {UsageData} */
  adapt(summary) {
    const kinds = new Map();
    for (const row of summary.rows || []) {
      const kind = row.job_kind || "other";
      if (!kinds.has(kind)) kinds.set(kind, new Map());
      const byStatus = kinds.get(kind);
      byStatus.set(row.status, (byStatus.get(row.status) || 0) + row.jobs);
    }
    const seen = new Set([...kinds.values()].flatMap((m) => [...m.keys()]));
    const statuses = [...STATUS_ORDER.filter((s) => seen.has(s)), ...[...seen].filter((s) => !STATUS_ORDER.includes(s))];
    const bars = [...kinds.entries()]
      .map(([label, byStatus]) => {
        const segments = statuses.filter((s) => byStatus.has(s)).map((status) => ({ status, value: byStatus.get(status) }));
        return { label, segments, total: segments.reduce((n, s) => n + s.value, 0) };
      })
      .sort((a, b) => b.total - a.total || a.label.localeCompare(b.label));
    return {
      title: "Jobs by kind and status",
      unit: "jobs",
      bars,
      statuses,
      note: `${summary.total_jobs ?? 0} jobs, ${summary.total_events ?? 0} events`,
    };
  },
};

const WIDTH = 360;
const LABEL_W = 84;
const ROW_H = 30;
const BAR_H = 18;
const TOP = 8;

/** Draw UsageData as an accessible SVG (title + desc) with a legend and the same numbers as a table. */
export function renderUsage(container, data) {
  if (!data.bars.length) {
    replace(container, h("p", { class: "help" }, "No jobs in this period."));
    return;
  }
  const max = Math.max(...data.bars.map((bar) => bar.total));
  const plotW = WIDTH - LABEL_W - 40;
  const height = TOP * 2 + data.bars.length * ROW_H;
  const describe = data.bars
    .map((bar) => `${bar.label}: ${bar.segments.map((s) => `${s.value} ${s.status}`).join(", ")}`)
    .join("; ");
  const chart = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${height}`, role: "img", "aria-labelledby": "usage-svg-title", "aria-describedby": "usage-svg-desc",
    class: "usage-svg", "data-bars": data.bars.length,
  },
  svg("title", { id: "usage-svg-title" }, data.title),
  svg("desc", { id: "usage-svg-desc" }, `${describe}. ${data.note}.`),
  data.bars.map((bar, row) => {
    const y = TOP + row * ROW_H;
    let x = LABEL_W;
    const rects = bar.segments.map((segment) => {
      const w = (segment.value / max) * plotW;
      const rect = svg("rect", {
        x: x.toFixed(2), y: y + (ROW_H - BAR_H) / 2, width: Math.max(w, 1).toFixed(2), height: BAR_H,
        class: `seg seg-${segment.status}`, "data-status": segment.status, "data-value": segment.value,
      }, svg("title", {}, `${bar.label}, ${segment.status}: ${segment.value} ${data.unit}`));
      x += w;
      return rect;
    });
    return svg("g", { class: "bar", "data-label": bar.label },
      svg("text", { x: LABEL_W - 6, y: y + ROW_H / 2, "text-anchor": "end", "dominant-baseline": "middle", class: "axis" }, bar.label),
      rects,
      svg("text", { x: x + 4, y: y + ROW_H / 2, "dominant-baseline": "middle", class: "value" }, String(bar.total)));
  }));
  const legend = h("ul", { class: "legend", "aria-hidden": "true" },
    data.statuses.map((status) => h("li", {}, h("span", { class: `swatch seg-${status}` }), status)));
  const table = h("details", { class: "chart-table" },
    h("summary", {}, "Show as a table"),
    h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Kind"),
        data.statuses.map((s) => h("th", { scope: "col" }, s)), h("th", { scope: "col" }, "Total"))),
      h("tbody", {}, data.bars.map((bar) => h("tr", {},
        h("th", { scope: "row" }, bar.label),
        data.statuses.map((s) => h("td", {}, String(bar.segments.find((seg) => seg.status === s)?.value ?? 0))),
        h("td", {}, String(bar.total)))))));
  replace(container, chart, legend, h("p", { class: "help" }, data.note), table);
}

/** Fetch usage for the last `days` days (empty: all time) and draw it. */
export async function loadUsage(container, days, source = summarySource) {
  renderUsage(container, source.adapt(await api(source.path(days))));
}
