// Audit view: the organisation's audit log (GET /v1/audit), newest first, with filters, further pages
// and a CSV export. Shown only to keys with the audit:read permission (admins and owners).

import { api, fetchBlob } from "./api.js";
import { h, replace, saveBlob, showError } from "./dom.js";

const $ = (id) => document.getElementById(id);
const PAGE = 100;

/** Whether the signed-in key may read the audit log: /v1/me lists its permissions. */
export async function canReadAudit() {
  try {
    const me = await api("/v1/me");
    return Array.isArray(me?.permissions) && me.permissions.includes("audit:read");
  } catch {
    return false;
  }
}

function when(iso) {
  const date = new Date(iso);
  return h("time", { datetime: iso }, date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" }));
}

function entryRow(entry) {
  const refused = /^[45]\d\d$/.test(entry.result) || entry.result === "refused";
  return h("tr", { dataset: { id: String(entry.id), result: entry.result } },
    h("td", { "data-label": "Time" }, when(entry.occurred_at)),
    h("td", { "data-label": "Actor" }, h("code", {}, entry.actor || "(none)")),
    h("td", { "data-label": "Action" }, entry.action),
    h("td", { "data-label": "Target" }, entry.target),
    h("td", { "data-label": "Result" }, h("span", { class: refused ? "badge badge-failed" : "badge badge-completed" }, entry.result)),
    h("td", { "data-label": "Client" }, entry.client_address || ""),
    h("td", { "data-label": "Request" }, h("code", { title: entry.request_id || "" }, (entry.request_id || "").slice(0, 12))));
}

/** The filters of the form as query parameters (empty ones left out). */
function filters() {
  const query = new URLSearchParams();
  for (const name of ["action", "actor", "result"]) {
    const value = $(`audit-${name}`).value.trim();
    if (value) query.set(name, value);
  }
  const since = $("audit-since").value;
  if (since) query.set("since", new Date(since).toISOString());
  return query;
}

export function setupAudit() {
  let cursor = null;

  async function load({ more = false } = {}) {
    const error = $("audit-error");
    showError(error, "");
    const query = filters();
    query.set("limit", String(PAGE));
    if (more && cursor) query.set("cursor", String(cursor));
    try {
      const page = await api(`/v1/audit?${query}`);
      const rows = page.entries.map(entryRow);
      if (more) $("audit-body").append(...rows);
      else replace($("audit-body"), rows);
      cursor = page.next_cursor;
      const empty = $("audit-body").children.length === 0;
      $("audit-empty").hidden = !empty;
      $("audit-table").hidden = empty;
      $("audit-more").hidden = cursor === null;
    } catch (failure) {
      showError(error, failure);
    }
  }

  $("audit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  $("audit-more").addEventListener("click", () => load({ more: true }));
  $("audit-export").addEventListener("click", async () => {
    const error = $("audit-error");
    showError(error, "");
    const query = filters();
    query.set("format", "csv");
    try {
      saveBlob(await fetchBlob(`/v1/audit?${query}`), "audit.csv");
    } catch (failure) {
      showError(error, failure);
    }
  });

  return { enter: () => load() };
}
