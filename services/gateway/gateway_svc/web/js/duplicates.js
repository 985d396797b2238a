// Duplicates view: clusters among uploaded documents (or images), and a side-by-side comparison.

import { ApiError, api, followJob, upload } from "./api.js";
import { showComparison } from "./compare.js";
import { h, replace, showError } from "./dom.js";

const $ = (id) => document.getElementById(id);

/** Read the chosen files as documents; ids are file names, made unique when two files share one. */
async function readDocuments(files) {
  const seen = new Map();
  const documents = [];
  for (const file of files) {
    const count = (seen.get(file.name) || 0) + 1;
    seen.set(file.name, count);
    const id = count === 1 ? file.name : `${file.name} (${count})`;
    documents.push({ id, text: await file.text() });
  }
  return documents;
}

function similarityOf(pair) {
  if (pair.cosine !== undefined) return { label: "cosine", value: pair.cosine };
  return { label: pair.exact ? "exact copy, Jaccard" : "Jaccard", value: pair.jaccard ?? 0 };
}

/** Near-duplicate clusters of a corpus too big for one request, through a dedup job followed live. */
async function corpusJob(documents, threshold) {
  const status = $("docs-summary");
  const lines = documents.map((doc) => JSON.stringify({ id: doc.id, text: doc.text })).join("\n");
  const corpus = new Blob([lines], { type: "application/jsonl" });
  const job = await upload(`/v1/jobs?kind=dedup&threshold=${threshold}`, corpus, (sent, total) => {
    status.textContent = `Too many for one request: uploading as a background job (${Math.round((100 * sent) / total)}%)…`;
  });
  let lastStep = "";
  const last = await followJob(job.id, (event) => {
    if (event.step && event.step !== lastStep) {
      lastStep = event.step;
      status.textContent = `Background job ${job.id.slice(0, 8)}: ${event.step.replaceAll("_", " ")}…`;
    }
  });
  if (last.type === "failed") throw new ApiError(`The dedup job failed: ${last.message || "no reason given"}`, 0);
  return api(`/v1/jobs/${encodeURIComponent(job.id)}/result`);
}

/** Tabs per the ARIA pattern: arrow keys move between tabs, Tab moves into the panel. */
function setupTabs() {
  const tabs = [$("tab-docs"), $("tab-images")];
  const select = (tab) => {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      $(other.getAttribute("aria-controls")).hidden = !selected;
    }
    tab.focus();
  };
  for (const tab of tabs) {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (event) => {
      const i = tabs.indexOf(tab);
      const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -i, End: tabs.length - 1 - i };
      if (event.key in moves) {
        event.preventDefault();
        select(tabs[(i + moves[event.key] + tabs.length) % tabs.length]);
      }
    });
  }
}

function setupDocuments() {
  const error = $("docs-error");
  let documents = [];
  const byId = () => new Map(documents.map((doc) => [doc.id, doc]));

  async function compare(idA, idB) {
    const docs = byId();
    const view = $("compare-view");
    showError($("compare-error"), "");
    view.hidden = false;
    $("compare-summary").textContent = `Comparing ${idA} and ${idB}…`;
    try {
      await showComparison(docs.get(idA), docs.get(idB));
    } catch (failure) {
      showError($("compare-error"), failure);
    }
    view.focus();
    view.scrollIntoView({ block: "start" });
  }

  function renderClusters(result) {
    const clusters = result.clusters || [];
    const inClusters = clusters.reduce((n, cluster) => n + cluster.document_ids.length, 0);
    $("docs-summary").textContent = clusters.length
      ? `${clusters.length} cluster${clusters.length === 1 ? "" : "s"}: ${inClusters} of ${documents.length} ` +
        "documents have a near-duplicate."
      : `No duplicates among ${documents.length} documents at this threshold.`;
    replace($("docs-clusters"), clusters.map((cluster, i) =>
      h("li", { class: "cluster card" },
        h("h3", {}, `Cluster ${i + 1} · ${cluster.document_ids.length} documents`),
        h("ul", { class: "members" }, cluster.document_ids.map((id) => h("li", {}, id))),
        h("ul", { class: "pairs" }, cluster.pairs.map((pair) => {
          const sim = similarityOf(pair);
          return h("li", {},
            h("span", {}, `${pair.a} ↔ ${pair.b}`), " ",
            h("span", { class: "figure" }, `${sim.label} ${sim.value.toFixed(2)}`), " ",
            h("button", {
              type: "button", class: "secondary",
              "aria-label": `Compare ${pair.a} and ${pair.b} side by side`,
              onclick: () => compare(pair.a, pair.b),
            }, "Compare"));
        })))));
    const options = documents.map((doc) => h("option", { value: doc.id }, doc.id));
    replace($("pair-a"), options);
    replace($("pair-b"), options.map((option) => option.cloneNode(true)));
    if (documents.length > 1) $("pair-b").selectedIndex = 1;
    $("docs-results").hidden = false;
  }

  $("docs-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(error, "");
    $("compare-view").hidden = true;
    const files = [...$("docs-files").files];
    const threshold = Number($("docs-threshold").value);
    try {
      if (files.length < 2) throw new ApiError("Choose at least two documents to compare.", 400);
      if (!(threshold > 0 && threshold <= 1)) throw new ApiError("The threshold must be above 0 and at most 1.", 400);
      documents = await readDocuments(files);
      const empty = documents.filter((doc) => !doc.text.trim()).map((doc) => doc.id);
      if (empty.length) throw new ApiError(`These files have no text: ${empty.join(", ")}.`, 400);
      const semantic = $("docs-method").value === "semantic";
      const path = semantic ? "/v1/text/semantic-duplicates" : "/v1/text/duplicates";
      event.submitter && (event.submitter.disabled = true);
      $("docs-summary").textContent = `Comparing ${documents.length} documents…`;
      let result;
      try {
        result = await api(path, { method: "POST", json: { documents, threshold } });
      } catch (failure) {
        // Over the per-request limits the same search runs as a corpus job (near duplicates only).
        if (!(failure instanceof ApiError && failure.status === 413) || semantic) throw failure;
        $("docs-results").hidden = false;
        result = await corpusJob(documents, threshold);
      }
      renderClusters(result);
    } catch (failure) {
      showError(error, failure);
    } finally {
      event.submitter && (event.submitter.disabled = false);
    }
  });

  $("pair-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const a = $("pair-a").value;
    const b = $("pair-b").value;
    if (a === b) {
      showError($("compare-error"), "Choose two different documents.");
      $("compare-view").hidden = false;
      return;
    }
    compare(a, b);
  });
}

/** Members of an image cluster, whatever the server names the list. */
function imageMembers(cluster) {
  return cluster.image_ids || cluster.ids || cluster.document_ids || cluster.members || [];
}

// Why two images matched, in the words of the API's evidence: distance per hash (bits of 64),
// mirrored, embedding similarity and the rule that decided.
function describeEvidence(evidence) {
  const parts = [
    `pHash ${evidence.phash_distance ?? 0}`,
    `dHash ${evidence.dhash_distance ?? 0}`,
    `wHash ${evidence.whash_distance ?? 0}`,
  ];
  if (evidence.mirrored) parts.push("mirrored");
  if (evidence.similarity !== undefined) parts.push(`similarity ${Number(evidence.similarity).toFixed(3)}`);
  if (evidence.rule) parts.push(`rule: ${evidence.rule}`);
  return parts.join(" · ");
}

function setupImages() {
  const error = $("images-error");
  $("images-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(error, "");
    $("images-results").hidden = true;
    const files = [...$("images-files").files];
    if (files.length < 2) {
      showError(error, "Choose at least two images to compare.");
      return;
    }
    const body = new FormData();
    for (const file of files) body.append("files", file, file.name);
    try {
      const result = await api("/v1/images/duplicates", { method: "POST", body });
      const previews = new Map(files.map((file) => [file.name, file]));
      const clusters = result.clusters || [];
      replace($("images-clusters"), clusters.length
        ? clusters.map((cluster, i) => h("li", { class: "cluster card" },
          h("h3", {}, `Cluster ${i + 1}`),
          h("ul", { class: "thumbs" }, imageMembers(cluster).map((id) => h("li", {},
            previews.has(id) ? h("img", { src: URL.createObjectURL(previews.get(id)), alt: id }) : null,
            h("span", {}, id)))),
          h("ul", { class: "evidence" }, (cluster.pairs || []).map((pair) =>
            h("li", {}, `${pair.a} ↔ ${pair.b}: ${describeEvidence(pair.evidence || {})}`)))))
        : h("li", {}, `No duplicates among ${files.length} images.`));
      $("images-results").hidden = false;
    } catch (failure) {
      if (failure instanceof ApiError && (failure.status === 404 || failure.status === 405)) {
        showError(error, "Image duplicate detection is not available on this server (it serves no " +
          "/v1/images/duplicates endpoint). Documents work.");
      } else showError(error, failure);
    }
  });
}

export function setupDuplicates() {
  setupTabs();
  setupDocuments();
  setupImages();
  return {};
}
