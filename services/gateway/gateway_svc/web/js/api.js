// The gateway's REST and WebSocket API, as the browser UI uses it: one API key per tab
// (sessionStorage), sent as a Bearer token; every failure becomes an ApiError with a readable message.

const KEY_STORAGE = "clipsift.apiKey";

export class ApiError extends Error {
  /** @param {string} message @param {number} status HTTP status, 0 for a network failure */
  constructor(message, status) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

export const session = {
  get key() {
    return sessionStorage.getItem(KEY_STORAGE);
  },
  set key(value) {
    if (value) sessionStorage.setItem(KEY_STORAGE, value);
    else sessionStorage.removeItem(KEY_STORAGE);
  },
};

/** Listeners told when the server refuses the stored key (revoked, or the server was reset). */
const unauthorizedListeners = new Set();
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
}

const STATUS_HINTS = {
  401: "The API key was not accepted",
  403: "This key may not do that",
  404: "Not found",
  409: "Not ready yet",
  413: "Too large",
  429: "Too many requests; wait a moment",
  503: "A service is unavailable; try again shortly",
};

/** A readable sentence from the gateway's `{"detail": ...}` (a string, or FastAPI's list of field errors). */
export function describeError(status, body) {
  const detail = body && typeof body === "object" ? body.detail : undefined;
  let text = "";
  if (typeof detail === "string") text = detail;
  else if (Array.isArray(detail)) {
    text = detail
      .map((item) => {
        const where = (item.loc || []).filter((part) => part !== "body" && part !== "query").join(".");
        return where ? `${where}: ${item.msg}` : item.msg;
      })
      .join("; ");
  }
  const hint = STATUS_HINTS[status] || `The server answered ${status}`;
  return text ? `${hint}: ${text}` : hint;
}

async function parseBody(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("application/json")) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }
  return null;
}

function authHeaders(key) {
  const k = key ?? session.key;
  return k ? { Authorization: `Bearer ${k}` } : {};
}

function refuse(status, body) {
  const error = new ApiError(describeError(status, body), status);
  if (status === 401) unauthorizedListeners.forEach((listener) => listener(error));
  return error;
}

/**
 * JSON request to the API. `options.json` is sent as the body; `options.key` overrides the session key
 * (the login form checks a key before storing it). Resolves to the parsed JSON answer.
 */
export async function api(path, options = {}) {
  const headers = { ...authHeaders(options.key), ...(options.headers || {}) };
  let body = options.body;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  let response;
  try {
    response = await fetch(path, { method: options.method || "GET", headers, body, signal: options.signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError("Cannot reach the server: check that clipsift is running and try again", 0);
  }
  const parsed = await parseBody(response);
  if (!response.ok) {
    if (options.key !== undefined && response.status === 401) {
      throw new ApiError(describeError(401, parsed), 401);
    }
    throw refuse(response.status, parsed);
  }
  return parsed;
}

/** A file of the API as a Blob (clips, captions): `<video>` and downloads cannot send the key themselves. */
export async function fetchBlob(path) {
  let response;
  try {
    // On object storage the gateway would answer 307 to a signed URL of the bucket, which this
    // page's Content-Security-Policy (connect-src 'self') may not fetch: ask for the bytes instead.
    const url = path + (path.includes("?") ? "&" : "?") + "redirect=false";
    response = await fetch(url, { headers: authHeaders() });
  } catch {
    throw new ApiError("Cannot reach the server to fetch the file", 0);
  }
  if (!response.ok) throw refuse(response.status, await parseBody(response));
  return response.blob();
}

/**
 * POST a file as the raw request body (streamed by the browser), reporting upload progress.
 * fetch() has no upload progress, so this one request uses XMLHttpRequest.
 * @param {(sent: number, total: number) => void} onProgress
 */
export function upload(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    const key = session.key;
    if (key) xhr.setRequestHeader("Authorization", `Bearer ${key}`);
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve(xhr.response);
      } else reject(refuse(xhr.status, xhr.response));
    });
    xhr.addEventListener("error", () =>
      reject(new ApiError("The upload was interrupted: the server closed the connection", 0)),
    );
    xhr.send(file);
  });
}

// The gateway closes a WebSocket after some minutes without a frame either way; a job can be quiet
// longer than that (a long transcription step), so the page says it is still listening.
const KEEPALIVE_MS = 30_000;

/**
 * Follow a job's events over the WebSocket (every past event, then live ones). Browsers cannot set
 * headers on a WebSocket, and a key in its URL would land in access logs and traces, so the key buys
 * a single-use ticket (valid about a minute) that goes as the `ticket` query parameter.
 * Resolves with the final event; rejects with an ApiError on a refused or broken connection.
 */
export async function followJob(jobId, onEvent) {
  const { ticket } = await api("/v1/ws-tickets", { method: "POST" });
  return new Promise((resolve, reject) => {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = new URLSearchParams({ ticket });
    const socket = new WebSocket(`${scheme}//${location.host}/v1/jobs/${encodeURIComponent(jobId)}/events?${query}`);
    const keepalive = setInterval(() => {
      if (socket.readyState === WebSocket.OPEN) socket.send("keepalive");
    }, KEEPALIVE_MS);
    let last = null;
    socket.addEventListener("message", (message) => {
      last = JSON.parse(message.data);
      onEvent(last);
    });
    socket.addEventListener("close", (event) => {
      clearInterval(keepalive);
      if (last && (last.type === "completed" || last.type === "failed")) resolve(last);
      else if (event.code === 4401) reject(refuse(401, { detail: event.reason }));
      else if (event.code === 4404) reject(new ApiError(`Not found: ${event.reason}`, 404));
      else if (event.code === 4429) reject(new ApiError(`Too many live connections: ${event.reason}`, 429));
      else reject(new ApiError("Lost the live connection to the job; its status is on the Jobs page", 0));
    });
  });
}
