// Entry point: sign-in, the hash router (#clips, #duplicates, #jobs, #audit) and each view's setup.

import { onUnauthorized, session } from "./api.js";
import { canReadAudit, setupAudit } from "./audit.js";
import { setupClips } from "./clips.js";
import { showError } from "./dom.js";
import { setupDuplicates } from "./duplicates.js";
import { setupJobs } from "./jobs.js";
import { clearPermissions, loadPermissions } from "./permissions.js";

const VIEWS = ["clips", "duplicates", "jobs", "audit"];
const $ = (id) => document.getElementById(id);

const views = {
  clips: setupClips(),
  duplicates: setupDuplicates(),
  jobs: setupJobs(),
  audit: setupAudit(),
};
// Views a key may lack the permission for: shown in the menu only once the key is known to have it.
let auditAllowed = null;
let auditCheck = null;

async function checkAudit() {
  auditAllowed = await canReadAudit();
  auditCheck = null;
  $("nav-audit").hidden = !auditAllowed;
  if (currentView() === "audit") route();
}

function currentView() {
  const name = location.hash.replace(/^#/, "").split("/")[0];
  return VIEWS.includes(name) ? name : "clips";
}

function show(name) {
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${name}`;
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function route({ focus = false } = {}) {
  const signedIn = Boolean(session.key);
  $("nav").hidden = !signedIn;
  $("sign-out").hidden = !signedIn;
  if (!signedIn) {
    show("login");
    $("login-key").focus();
    return;
  }
  if (auditAllowed === null && !auditCheck) auditCheck = checkAudit();
  // #audit without the permission is the clips view; while it is being checked, wait for the answer.
  const name = currentView() === "audit" && auditAllowed === false ? "clips" : currentView();
  show(name);
  if (name === "audit" && auditAllowed === null) return;
  document.title = `${$(`view-${name}`).querySelector("h1").textContent} · clipsift`;
  views[name]?.enter?.(location.hash);
  // Moving between views by keyboard lands on the new content, not back at the top of the page.
  if (focus) $("main").focus();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("login-key");
  const key = input.value.trim();
  const error = $("login-error");
  if (!key) {
    showError(error, "Enter an API key.");
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return;
  }
  const button = event.submitter || $("login-form").querySelector("button");
  button.disabled = true;
  try {
    // /v1/me proves the key (nothing is stored until it works) and says what it may do: the
    // controls for what it may not are hidden.
    await loadPermissions(key);
    session.key = key;
    input.value = "";
    input.removeAttribute("aria-invalid");
    showError(error, "");
    route({ focus: true });
  } catch (failure) {
    showError(error, failure);
    input.setAttribute("aria-invalid", "true");
    input.select();
  } finally {
    button.disabled = false;
  }
});

$("sign-out").addEventListener("click", () => {
  session.key = null;
  auditAllowed = null;
  // A fresh page: nothing of the tenant's (galleries, documents, jobs) stays on screen or in memory.
  location.replace(location.pathname);
});

onUnauthorized((error) => {
  session.key = null;
  clearPermissions();
  auditAllowed = null;
  $("nav-audit").hidden = true;
  route();
  showError($("login-error"), `${error.message}. Sign in again.`);
});

window.addEventListener("hashchange", () => route({ focus: true }));
// A tab signed in before (the key is in sessionStorage): learn what it may do again.
if (session.key) loadPermissions().catch(() => clearPermissions());
route();
