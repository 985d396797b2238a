// Clips view: upload a video with options (in parts, resumable), follow the job live, then the
// gallery of clips by score.

import { ApiError, api, fetchBlob, followJob, upload } from "./api.js";
import { formatBytes, formatPercent, formatSeconds, h, replace, saveBlob, showError } from "./dom.js";
import { ResumableUnavailable, forgetUpload, pendingUpload, uploadResumable } from "./resumable.js";

const $ = (id) => document.getElementById(id);

// The clip job's steps as a person would name them; an unknown step shows its own name.
const STEP_LABELS = {
  queued: "Queued",
  probe: "Reading the video",
  extract_audio: "Extracting the audio",
  transcribe: "Transcribing speech",
  audio_features: "Measuring loudness and pace",
  score: "Finding and scoring highlights",
  render: "Rendering clips",
  publish: "Publishing",
};

const COMPONENT_LABELS = {
  hook: "Hook",
  self_contained: "Self-contained",
  emotion: "Emotion",
  energy: "Speech energy",
  keywords: "Topic keywords",
  duration_fit: "Duration fit",
};

const RECONNECTS = 4;

const DOWNLOADS = [
  ["clip.mp4", "MP4", "mp4"],
  ["clip.srt", "SRT", "srt"],
  ["clip.vtt", "VTT", "vtt"],
];

function stepLabel(step) {
  return STEP_LABELS[step] || step.replaceAll("_", " ");
}

/** Read the options form into the query string of POST /v1/clips, or throw a readable ApiError. */
function clipQuery() {
  const count = Number($("clip-count").value);
  const min = Number($("clip-min").value);
  const max = Number($("clip-max").value);
  const problems = [];
  if (!Number.isInteger(count) || count < 1 || count > 50) problems.push("the number of clips must be 1 to 50");
  if (!(min >= 3 && min <= 600)) problems.push("the shortest clip must be 3 to 600 seconds");
  if (!(max >= 3 && max <= 600)) problems.push("the longest clip must be 3 to 600 seconds");
  if (min > max) problems.push("the shortest clip cannot be longer than the longest");
  if (problems.length) throw new ApiError(`Check the options: ${problems.join("; ")}.`, 400);
  const query = new URLSearchParams({
    count: String(count),
    min_seconds: String(min),
    max_seconds: String(max),
    aspect: $("clip-aspect").value,
    captions: String($("clip-captions").checked),
    caption_style: $("clip-style").value,
    remove_fillers: String($("clip-fillers").checked),
  });
  const language = $("clip-language").value.trim();
  if (language) query.set("language", language);
  return query;
}

/** Live progress of one job: bar, status line (announced politely) and the list of steps. */
class ProgressPanel {
  constructor() {
    this.steps = new Map();
    this.announced = "";
    this.shown = 0;
  }

  reset(label) {
    $("clip-progress").hidden = false;
    this.setUpload(0, 0);
    this.shown = 0;
    this.setJob(0, "waiting");
    replace($("job-steps"));
    this.steps.clear();
    this.announce(label);
  }

  setUpload(sent, total) {
    const percent = total ? Math.round((100 * sent) / total) : 0;
    $("upload-bar").value = percent;
    $("upload-bar").textContent = `${percent}%`;
    $("upload-text").textContent = total ? `${percent}% of ${formatBytes(total)}` : "0%";
  }

  setJob(fraction, text) {
    // Never backwards: a reconnected socket replays the job's events from the first.
    const shown = Math.max(fraction, this.shown);
    this.shown = shown;
    $("job-bar").value = Math.round(shown * 100);
    $("job-bar").textContent = formatPercent(shown);
    $("job-text").textContent = text;
  }

  announce(text) {
    // The live region speaks on change only: per-percent updates would drown a screen reader.
    if (text !== this.announced) {
      $("job-status").textContent = text;
      this.announced = text;
    }
  }

  event(event) {
    if (event.type === "progress" || event.type === "requested") {
      const step = event.step || "queued";
      for (const [name, item] of this.steps) {
        if (name !== step) item.dataset.state = "done";
      }
      let item = this.steps.get(step);
      if (!item) {
        item = h("li", { dataset: { step } }, h("span", { class: "step-name" }, stepLabel(step)), " ",
          h("span", { class: "step-detail" }));
        this.steps.set(step, item);
        $("job-steps").append(item);
      }
      item.dataset.state = "current";
      item.querySelector(".step-detail").textContent = event.message ? `— ${event.message}` : "";
      this.setJob(event.progress, `${formatPercent(Math.max(event.progress, this.shown))} · ${stepLabel(step)}`);
      this.announce(`${stepLabel(step)}…`);
    } else if (event.type === "completed") {
      for (const item of this.steps.values()) item.dataset.state = "done";
      this.setJob(1, "done");
      this.announce(event.message ? `Done: ${event.message}` : "Done");
    } else if (event.type === "failed") {
      const current = [...this.steps.values()].find((item) => item.dataset.state === "current");
      if (current) current.dataset.state = "failed";
      this.setJob(event.progress, "failed");
      this.announce("The job failed");
    }
  }
}

function scoreBreakdown(score) {
  const rows = Object.entries(score.components).map(([name, value]) => {
    const weight = score.weights?.[name];
    return h("div", { class: "component", dataset: { component: name } },
      h("dt", {}, COMPONENT_LABELS[name] || name.replaceAll("_", " ")),
      h("dd", {},
        h("span", { class: "bar", "aria-hidden": "true" },
          h("span", { class: "bar-fill", style: { width: `${Math.round(value * 100)}%` } })),
        h("span", { class: "figure" }, value.toFixed(2)),
        weight !== undefined ? h("span", { class: "help" }, ` weight ${formatPercent(weight)}`) : null));
  });
  return h("dl", { class: "components" }, rows);
}

function clipCard(jobId, clip, rank) {
  const titleId = `clip-${clip.index}-title`;
  const stem = `${jobId.slice(0, 8)}-clip${clip.index}`;
  const video = h("video", {
    controls: true, playsinline: true, preload: "none", "aria-labelledby": titleId, hidden: true,
  });
  const poster = h("img", { class: "thumb", alt: `First look at clip ${rank}`, hidden: true });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const play = h("button", { type: "button", class: "play", "aria-label": `Play clip ${rank}: ${clip.title}` },
    h("span", { "aria-hidden": "true" }, "▶"), " Play");
  if (clip.urls["thumbnail.jpg"]) {
    fetchBlob(clip.urls["thumbnail.jpg"])
      .then((blob) => {
        poster.src = URL.createObjectURL(blob);
        poster.hidden = false;
      })
      .catch(() => {}); // the play button works without a thumbnail
  }
  play.addEventListener("click", async () => {
    play.disabled = true;
    play.lastChild.textContent = " Loading…";
    try {
      const blob = await fetchBlob(clip.urls["clip.mp4"]);
      video.src = URL.createObjectURL(blob);
      video.hidden = false;
      poster.hidden = true;
      play.hidden = true;
      video.focus();
      await video.play().catch(() => {}); // autoplay refused: the controls are there to press
    } catch (failure) {
      showError(error, failure);
      play.disabled = false;
      play.lastChild.textContent = " Play";
    }
  });

  const downloads = DOWNLOADS.filter(([name]) => clip.urls[name]).map(([name, label, ext]) =>
    h("button", {
      type: "button", class: "secondary", "aria-label": `Download clip ${rank} as ${label}`,
      onclick: async () => {
        showError(error, "");
        try {
          saveBlob(await fetchBlob(clip.urls[name]), `${stem}.${ext}`);
        } catch (failure) {
          showError(error, failure);
        }
      },
    }, label));
  downloads.push(h("button", {
    type: "button", class: "secondary", "aria-label": `Download clip ${rank} as JSON`,
    onclick: () => saveBlob(new Blob([JSON.stringify(clip, null, 2)], { type: "application/json" }), `${stem}.json`),
  }, "JSON"));

  return h("li", { class: "clip-card card", dataset: { index: clip.index } },
    h("article", { "aria-labelledby": titleId },
      h("div", { class: `player aspect-${(clip.output?.aspect || "9:16").replace(":", "x")}` }, poster, video, play),
      h("div", { class: "clip-body" },
        h("p", { class: "rank" }, `#${rank} · ${formatSeconds(clip.start)}–${formatSeconds(clip.end)} of the source · `,
          `${clip.duration.toFixed(1)} s`),
        h("p", { class: "help" }, "Suggested title"),
        h("h3", { id: titleId, class: "clip-title" }, clip.title),
        h("p", { class: "score" }, h("span", { class: "score-total" }, clip.score.total.toFixed(1)),
          h("span", { class: "help" }, " / 100 score")),
        scoreBreakdown(clip.score),
        clip.score.reasons?.length
          ? h("details", { class: "reasons" }, h("summary", {}, "Why this score"),
            h("ul", {}, clip.score.reasons.map((reason) => h("li", {}, reason))))
          : null,
        h("h4", {}, "Transcript"),
        h("p", { class: "transcript" }, clip.transcript),
        h("div", { class: "downloads", role: "group", "aria-label": `Downloads for clip ${rank}` }, downloads),
        error)));
}

async function showGallery(jobId) {
  const manifest = await api(`/v1/jobs/${encodeURIComponent(jobId)}/clips`);
  const clips = [...manifest.clips].sort((a, b) => b.score.total - a.score.total);
  replace($("clip-list"), clips.map((clip, i) => clipCard(jobId, clip, i + 1)));
  const source = manifest.source?.duration ? ` from a ${formatSeconds(manifest.source.duration)} video` : "";
  $("gallery-meta").textContent = `${clips.length} clip${clips.length === 1 ? "" : "s"}${source} · job ${jobId}`;
  $("clip-gallery").hidden = false;
}

/**
 * Upload the file in resumable parts, then make the clip job from the upload; a gateway without
 * resumable uploads gets the whole file in one request instead.
 */
async function uploadAndSubmit(file, query, panel) {
  const progress = (sent, total) => panel.setUpload(sent, total);
  let uploaded;
  try {
    uploaded = await uploadResumable(file, {
      onProgress: progress,
      onResume: (received) => panel.announce(`Resuming ${file.name}: ${formatBytes(received)} already uploaded`),
    });
  } catch (failure) {
    if (!(failure instanceof ResumableUnavailable)) throw failure;
    return upload(`/v1/clips?${query}`, file, progress);
  }
  const job = await api(`/v1/clips?${query}`, { method: "POST", json: { upload_id: uploaded.id } });
  forgetUpload(file);
  return job;
}

/** On choosing a file: say whether an interrupted upload of it will be resumed. */
async function describeChosenFile() {
  const note = $("clip-resume");
  note.hidden = true;
  const file = $("clip-file").files[0];
  if (!file) return;
  try {
    const pending = await pendingUpload(file);
    if (pending && pending.received > 0) {
      note.textContent = `${formatBytes(pending.received)} of ${formatBytes(file.size)} were uploaded earlier; ` +
        "the upload resumes from there.";
      note.hidden = false;
    }
  } catch {
    // Only a hint: the upload itself reports any real problem.
  }
}

export function setupClips() {
  const panel = new ProgressPanel();
  const form = $("clip-form");
  const error = $("clip-error");
  let following = null;
  $("clip-file").addEventListener("change", describeChosenFile);

  async function follow(jobId) {
    following = jobId;
    let last = null;
    // The socket replays every event from the first, so a dropped connection is simply reopened.
    for (let attempt = 1; !last; attempt += 1) {
      try {
        last = await followJob(jobId, (event) => {
          if (following === jobId) panel.event(event);
        });
      } catch (failure) {
        if (failure.status !== 0 || attempt >= RECONNECTS) throw failure;
        panel.announce(`Connection lost; reconnecting (${attempt}/${RECONNECTS - 1})…`);
        await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
      }
    }
    if (following !== jobId) return;
    if (last.type === "failed") throw new ApiError(`The job failed: ${last.message || "no reason given"}`, 0);
    await showGallery(jobId);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(error, "");
    const file = $("clip-file").files[0];
    if (!file) {
      showError(error, "Choose a video file to upload.");
      $("clip-file").focus();
      return;
    }
    let query;
    try {
      query = clipQuery();
    } catch (failure) {
      showError(error, failure);
      return;
    }
    $("clip-submit").disabled = true;
    $("clip-gallery").hidden = true;
    panel.reset(`Uploading ${file.name}`);
    try {
      const job = await uploadAndSubmit(file, query, panel);
      history.replaceState(null, "", `#clips/${job.id}`);
      panel.announce(`Uploaded; ${job.message || "job queued"}`);
      await follow(job.id);
    } catch (failure) {
      showError(error, failure);
    } finally {
      $("clip-submit").disabled = false;
    }
  });

  return {
    /** `#clips/<job id>` opens that job: its gallery when done, its live progress while running. */
    async enter(hash) {
      const jobId = hash.split("/")[1];
      if (!jobId || jobId === following) return;
      showError(error, "");
      try {
        const job = await api(`/v1/jobs/${encodeURIComponent(jobId)}`);
        if (job.status === "completed") {
          following = jobId;
          await showGallery(jobId);
        } else if (job.status === "failed") {
          showError(error, `The job failed: ${job.message || "no reason given"}`);
        } else {
          panel.reset(`Following job ${jobId}`);
          panel.setUpload(1, 1);
          await follow(jobId);
        }
      } catch (failure) {
        showError(error, failure);
      }
    },
  };
}
