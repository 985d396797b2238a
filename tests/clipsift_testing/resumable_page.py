"""The browser side of the resumable-upload tests (tests/ui and the gateway's own browser test):
scripts run in the signed-in page that drive the page's js/resumable.js module on an in-memory file,
so the tests need no file of 11 MiB on disk and can stop the upload after a chosen part."""

from __future__ import annotations

PART = 5 * 1024 * 1024
SIZE = 2 * PART + 12345  # three parts, the last a short one

# The same File both times (name, size, lastModified are what the page remembers an upload by).
MAKE_FILE = f"""
  const bytes = new Uint8Array({SIZE});
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) % 251;
  window.bigFile = new File([bytes], "big-talk.mp4", {{ type: "video/mp4", lastModified: 1700000000000 }});
"""

FIRST_TRY = """
async () => {
  const { uploadResumable } = await import("/ui/js/resumable.js");
  const stop = new AbortController();
  try {
    await uploadResumable(window.bigFile, { signal: stop.signal, onPart: () => stop.abort() });
    return "finished";
  } catch (failure) {
    return failure.name;
  }
}
"""

SECOND_TRY = """
async () => {
  const { uploadResumable } = await import("/ui/js/resumable.js");
  const events = [];
  const done = await uploadResumable(window.bigFile, {
    onResume: (received) => events.push(["resumed", received]),
    onPart: (number) => events.push(["part", number]),
    onProgress: (sent, total) => { window.lastProgress = [sent, total]; },
  });
  return { done, events, progress: window.lastProgress };
}
"""
