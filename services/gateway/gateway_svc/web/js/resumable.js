// Resumable uploads (POST /v1/uploads): a big file goes up in parts, one request each, so a dropped
// connection, a reload or a closed tab costs at most one part. The upload id is kept in localStorage
// under the file's name, size and lastModified; choosing the same file again asks the gateway which
// parts it already holds (GET /v1/uploads/{id}) and sends only the missing ones.
//
// Parts always go through the gateway (transport "gateway"): the page's Content-Security-Policy
// lets it talk to its own origin only, and a bucket would also need CORS rules for presigned PUTs.

import { ApiError, api, session } from "./api.js";

const STORE = "clipsift.uploads";
const ATTEMPTS = 4; // per part, on network failures and 5xx answers

/** Thrown when the gateway has no resumable uploads (an older gateway): the caller falls back. */
export class ResumableUnavailable extends Error {}

function fingerprint(file) {
  return JSON.stringify([file.name, file.size, file.lastModified]);
}

function remembered() {
  try {
    return JSON.parse(localStorage.getItem(STORE) || "{}");
  } catch {
    return {};
  }
}

function remember(file, id) {
  const all = remembered();
  all[fingerprint(file)] = { id, key: keyTag() };
  localStorage.setItem(STORE, JSON.stringify(all));
}

/** Forget the upload of this file (once a job was made from it, or it cannot be resumed). */
export function forgetUpload(file) {
  const all = remembered();
  delete all[fingerprint(file)];
  localStorage.setItem(STORE, JSON.stringify(all));
}

// Uploads belong to a tenant: an id remembered under one key is not offered to another.
function keyTag() {
  const key = session.key || "";
  return key.split("_").slice(0, 2).join("_");
}

/**
 * The unfinished upload of this same file, if the gateway still holds it: `{upload, received}` with
 * the bytes already there, or null.
 */
export async function pendingUpload(file) {
  const known = remembered()[fingerprint(file)];
  if (!known || known.key !== keyTag()) return null;
  let upload;
  try {
    upload = await api(`/v1/uploads/${encodeURIComponent(known.id)}`);
  } catch (failure) {
    if (failure.status === 404 || failure.status === 410) {
      forgetUpload(file);
      return null;
    }
    throw failure;
  }
  const usable = (upload.state === "open" || upload.state === "complete") && upload.size === file.size;
  if (!usable) {
    forgetUpload(file);
    return null;
  }
  const received = (upload.parts || []).reduce((sum, part) => sum + part.size, 0);
  return { upload, received };
}

async function openUpload(file) {
  const pending = await pendingUpload(file);
  if (pending) return pending.upload;
  let upload;
  try {
    upload = await api("/v1/uploads", {
      method: "POST",
      json: {
        filename: file.name,
        size: file.size,
        content_type: file.type || "application/octet-stream",
        transport: "gateway",
      },
    });
  } catch (failure) {
    if (failure.status === 404 || failure.status === 405) throw new ResumableUnavailable(failure.message);
    throw failure;
  }
  remember(file, upload.id);
  return { ...upload, parts: [] };
}

/** PUT one part through the gateway with XMLHttpRequest (fetch has no upload progress). */
function putPart(uploadId, number, blob, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/v1/uploads/${encodeURIComponent(uploadId)}/parts/${number}`);
    if (session.key) xhr.setRequestHeader("Authorization", `Bearer ${session.key}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.responseType = "json";
    const abort = () => xhr.abort();
    signal?.addEventListener("abort", abort, { once: true });
    xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded));
    xhr.addEventListener("load", () => {
      signal?.removeEventListener("abort", abort);
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else {
        const detail = xhr.response?.detail;
        reject(new ApiError(typeof detail === "string" ? detail : `The server answered ${xhr.status}`, xhr.status));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError("The connection dropped during the upload", 0)));
    xhr.addEventListener("abort", () => reject(new DOMException("The upload was stopped", "AbortError")));
    xhr.send(blob);
  });
}

async function sendPart(upload, file, number, onProgress, signal) {
  const start = (number - 1) * upload.part_size;
  const blob = file.slice(start, Math.min(file.size, start + upload.part_size));
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await putPart(upload.id, number, blob, onProgress, signal);
    } catch (failure) {
      const retry = failure instanceof ApiError && (failure.status === 0 || failure.status >= 500);
      if (!retry || attempt >= ATTEMPTS) throw failure;
      onProgress(0);
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
    }
  }
}

/**
 * Upload `file` resumably; resolves to `{id, object_key, size}` once the gateway holds it whole.
 * `options.onProgress(sent, total)` follows every byte; `options.onResume(received)` is told when an
 * earlier upload of this file is picked up; `options.onPart(number)` after each part lands;
 * `options.signal` stops it (resumable later). Throws ResumableUnavailable on a gateway without it.
 */
export async function uploadResumable(file, options = {}) {
  const { onProgress = () => {}, onResume = () => {}, onPart = () => {}, signal } = options;
  const upload = await openUpload(file);
  if (upload.state !== "complete") {
    const have = new Map((upload.parts || []).map((part) => [part.number, part.size]));
    let done = [...have.values()].reduce((sum, size) => sum + size, 0);
    if (have.size) onResume(done);
    onProgress(done, file.size);
    for (let number = 1; number <= upload.part_count; number += 1) {
      if (have.has(number)) continue;
      signal?.throwIfAborted();
      const landed = await sendPart(upload, file, number, (loaded) => onProgress(done + loaded, file.size), signal);
      done += landed.size;
      onProgress(done, file.size);
      onPart(number);
    }
  }
  return api(`/v1/uploads/${encodeURIComponent(upload.id)}/complete`, { method: "POST", json: {} });
}
