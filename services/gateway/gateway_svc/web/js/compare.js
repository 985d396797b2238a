// Side-by-side view of two documents with the passages they share highlighted and linked.

import { api } from "./api.js";
import { formatPercent, h, replace } from "./dom.js";

/**
 * Split a text into plain and highlighted segments. Offsets are Unicode code points (end exclusive), as
 * the API reports them; JavaScript strings index UTF-16 units, so the text is split into code points.
 * Overlapping spans are clipped to the part after the previous one.
 * @param {string} text
 * @param {{start: number, end: number, passage: number}[]} spans
 * @returns {{text: string, passage: number | null}[]}
 */
export function segments(text, spans) {
  const points = Array.from(text);
  const out = [];
  let at = 0;
  for (const span of [...spans].sort((x, y) => x.start - y.start)) {
    const start = Math.max(span.start, at);
    const end = Math.min(span.end, points.length);
    if (end <= start) continue;
    if (start > at) out.push({ text: points.slice(at, start).join(""), passage: null });
    out.push({ text: points.slice(start, end).join(""), passage: span.passage });
    at = end;
  }
  if (at < points.length) out.push({ text: points.slice(at).join(""), passage: null });
  return out;
}

function renderPane(pane, side, text, spans, total) {
  const other = side === "a" ? "b" : "a";
  const parts = segments(text, spans).map((part) => {
    if (part.passage === null) return part.text;
    const n = part.passage + 1;
    return h("mark", {
      id: `passage-${side}-${n}`,
      tabindex: "0",
      dataset: { passage: String(n) },
      onclick: () => pair(n),
      onfocus: () => pair(n),
      onkeydown: (event) => {
        if (event.key === "Enter") document.getElementById(`passage-${other}-${n}`)?.focus();
      },
      title: `Shared passage ${n} of ${total}; Enter jumps to the other document`,
    },
    h("sup", { class: "passage-no", "aria-hidden": "true" }, String(n)),
    h("span", { class: "visually-hidden" }, `Shared passage ${n} of ${total}: `),
    h("span", { class: "passage-text" }, part.text));
  });
  replace(pane, parts);
}

function reducedMotion() {
  return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

/** Mark passage n as active on both sides and bring its counterpart into view. */
function pair(n) {
  for (const mark of document.querySelectorAll(".doc-text mark.active")) mark.classList.remove("active");
  for (const side of ["a", "b"]) {
    const mark = document.getElementById(`passage-${side}-${n}`);
    if (!mark) continue;
    mark.classList.add("active");
    mark.scrollIntoView({ block: "nearest", behavior: reducedMotion() ? "auto" : "smooth" });
  }
}

/**
 * Compare two documents through POST /v1/text/compare and render them side by side.
 * @param {{id: string, text: string}} a
 * @param {{id: string, text: string}} b
 */
export async function showComparison(a, b) {
  const result = await api("/v1/text/compare", { method: "POST", json: { a: a.text, b: b.text } });
  const passages = result.passages || [];
  const spansA = passages.map((p, i) => ({ start: p.a_start, end: p.a_end, passage: i }));
  const spansB = passages.map((p, i) => ({ start: p.b_start, end: p.b_end, passage: i }));
  document.getElementById("pane-a-title").textContent = a.id;
  document.getElementById("pane-b-title").textContent = b.id;
  renderPane(document.getElementById("pane-a"), "a", a.text, spansA, passages.length);
  renderPane(document.getElementById("pane-b"), "b", b.text, spansB, passages.length);
  const count = passages.length;
  document.getElementById("compare-summary").textContent = count
    ? `${count} shared passage${count === 1 ? "" : "s"} (at least ${result.min_words} words each): ` +
      `${formatPercent(result.coverage_a)} of ${a.id} and ${formatPercent(result.coverage_b)} of ${b.id}; ` +
      `Jaccard ${result.exact_jaccard.toFixed(2)}.`
    : `No shared passage of ${result.min_words} words or more.`;
  return result;
}
