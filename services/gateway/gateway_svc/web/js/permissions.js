// What the signed-in key may do, from GET /v1/me: every control marked data-requires="<permission>"
// is hidden when the key lacks that permission (a viewer sees no upload form), with a note saying
// why in its place. The gateway refuses such calls anyway (403); this only keeps the page honest.

import { api } from "./api.js";

let me = null;

/** The caller's organisation, role and permissions (null until known or after sign-out). */
export function currentCaller() {
  return me;
}

function note(control) {
  let text = control.nextElementSibling;
  if (!text || !text.hasAttribute("data-lacks")) {
    text = document.createElement("p");
    text.className = "help";
    text.setAttribute("data-lacks", control.dataset.requires);
    control.after(text);
  }
  return text;
}

function apply() {
  const granted = new Set(me?.permissions ?? []);
  for (const control of document.querySelectorAll("[data-requires]")) {
    const allowed = granted.has(control.dataset.requires);
    control.hidden = !allowed;
    const why = note(control);
    // Before the key is known nothing needing a permission shows, and no note either.
    why.hidden = allowed || me === null;
    why.textContent = me && !allowed
      ? `This key (role ${me.role}) may not do this: it lacks the permission ${control.dataset.requires}.`
      : "";
  }
}

/** Ask the gateway who `key` (default: the session's) is; reject when the key is refused. */
export async function loadPermissions(key) {
  me = await api("/v1/me", key ? { key } : {});
  apply();
  return me;
}

export function clearPermissions() {
  me = null;
  apply();
}
