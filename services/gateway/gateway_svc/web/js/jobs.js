// Jobs and usage view: the tenant's jobs with status and errors, and the usage chart.

import { api } from "./api.js";
import { formatPercent, h, replace, showError } from "./dom.js";
import { loadUsage } from "./usage.js";

const $ = (id) => document.getElementById(id);

function when(iso) {
  const date = new Date(iso);
  return h("time", { datetime: iso }, date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" }));
}

function jobRow(job) {
  const failed = job.status === "failed";
  const open = job.kind === "clip" && job.status !== "failed"
    ? h("a", { href: `#clips/${job.id}`, "aria-label": `Open clip job ${job.id.slice(0, 8)}` }, job.id.slice(0, 8))
    : h("code", { title: job.id }, job.id.slice(0, 8));
  // data-label names each cell where the phone layout stacks a row into a card.
  return h("tr", { dataset: { status: job.status, id: job.id } },
    h("td", { "data-label": "Job" }, open),
    h("td", { "data-label": "Kind" }, job.kind),
    h("td", { "data-label": "Status" }, h("span", { class: `badge badge-${job.status}` }, job.status)),
    h("td", { "data-label": "Progress" }, h("progress", { max: "100", value: Math.round(job.progress * 100), "aria-label": `Progress of job ${job.id.slice(0, 8)}` }),
      " ", h("span", { class: "figure" }, formatPercent(job.progress))),
    h("td", { class: failed ? "job-error" : "", "data-label": "Message" },
      failed ? h("strong", {}, "Error: ") : null, job.message || (job.step ? job.step.replaceAll("_", " ") : "")),
    h("td", { "data-label": "Created" }, when(job.created_at)));
}

export function setupJobs() {
  async function loadJobs() {
    const error = $("jobs-error");
    showError(error, "");
    const status = $("jobs-status").value;
    try {
      const query = new URLSearchParams({ limit: "100" });
      if (status) query.set("status", status);
      const { jobs } = await api(`/v1/jobs?${query}`);
      replace($("jobs-body"), jobs.map(jobRow));
      $("jobs-empty").hidden = jobs.length > 0;
      $("jobs-table").hidden = jobs.length === 0;
    } catch (failure) {
      showError(error, failure);
    }
  }

  async function usage() {
    const error = $("usage-error");
    showError(error, "");
    try {
      await loadUsage($("usage-chart"), Number($("usage-range").value) || null);
    } catch (failure) {
      replace($("usage-chart"));
      showError(error, failure);
    }
  }

  $("jobs-status").addEventListener("change", loadJobs);
  $("jobs-refresh").addEventListener("click", () => Promise.all([loadJobs(), usage()]));
  $("usage-range").addEventListener("change", usage);
  return {
    enter() {
      loadJobs();
      usage();
    },
  };
}
