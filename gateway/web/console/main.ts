// The console's screens: sign in or register (or ask for a password reset, #forgot); jobs (upload a
// file, create a job with its options, watch it progress, open its transcript and export it); API keys
// (create, shown once; list; revoke); the organisation's members and invitations. One page, the screen
// named by the URL's fragment (#jobs, #keys, #transcript/<id>, #members), or by its path for the links in
// mail (/verify-email, /reset-password, /accept-invitation); every control is a button, link or form
// field, so the keyboard reaches all of it.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ApiKeyScope, ApiKeyState } from "../../../proto/gen/arabicstt/v1/api_key_pb.js";
import { JobState, type Job } from "../../../proto/gen/arabicstt/v1/job_pb.js";
import { api, describeError, keep, refresh, signedIn, signOut, whenSignedOut } from "./api.js";
import { language, setLanguage, t } from "./i18n.js";
import { uploadFile } from "./upload.js";
import { describeJobOptions, jobOptionsFields, readJobOptions } from "./job-options.js";
import { attempt, field, h, main, nav, value } from "./dom.js";
import { renderLive } from "./live.js";
import { renderUsage } from "./usage.js";
import { renderSearch, renderTranscript } from "./transcript.js";
import { renderForgotPassword, renderLinkScreen } from "./account-links.js";
import { renderMembers } from "./members.js";

// ---- screens ----

function renderNav(): void {
  nav.replaceChildren(
    h("button", { type: "button", id: "language", onclick: () => switchLanguage() }, t("switchLanguage")),
    ...(signedIn()
      ? [
          h("a", { href: "#jobs" }, t("jobs")),
          h("a", { href: "#live" }, t("live")),
          h("a", { href: "#search" }, t("search")),
          h("a", { href: "#keys" }, t("apiKeys")),
          h("a", { href: "#usage" }, t("usage")),
          h("a", { href: "#members" }, t("members")),
          h("button", { type: "button", id: "sign-out", onclick: () => void attempt(async () => { await signOut(); location.hash = ""; render(); }) }, t("signOut")),
        ]
      : []),
  );
}

function switchLanguage(): void {
  setLanguage(language() === "ar" ? "en" : "ar");
  document.title = t("title");
  document.getElementById("title")!.textContent = t("title");
  render();
}

function renderAccount(): void {
  const signInForm = h(
    "form",
    { id: "sign-in", onsubmit: (e: Event) => { e.preventDefault(); void attempt(() => login(signInForm as HTMLFormElement)); } },
    h("h2", {}, t("signIn")),
    field(t("email"), h("input", { name: "email", type: "email", required: true, autocomplete: "username", dir: "ltr" })),
    field(t("password"), h("input", { name: "password", type: "password", required: true, autocomplete: "current-password", dir: "ltr" })),
    h("button", { type: "submit" }, t("signIn")),
    h("a", { href: "#forgot", id: "forgot" }, t("link.forgotTitle")),
  );
  const registerForm = h(
    "form",
    { id: "register", onsubmit: (e: Event) => { e.preventDefault(); void attempt(() => register(registerForm as HTMLFormElement)); } },
    h("h2", {}, t("register")),
    field(t("displayName"), h("input", { name: "displayName", required: true, maxlength: 100 })),
    field(t("organizationName"), h("input", { name: "organizationName", required: true, maxlength: 200 })),
    field(t("email"), h("input", { name: "email", type: "email", required: true, autocomplete: "username", dir: "ltr" })),
    field(t("password"), h("input", { name: "password", type: "password", required: true, minlength: 12, autocomplete: "new-password", dir: "ltr" })),
    h("button", { type: "submit" }, t("register")),
  );
  main.replaceChildren(h("div", { class: "columns" }, signInForm, registerForm));
}

async function login(form: HTMLFormElement): Promise<void> {
  const res = await api.auth.login({ email: value(form, "email"), password: value(form, "password") });
  keep(res.tokens, res.organization?.organizationId);
  sessionStorage.setItem("arabicstt-user", res.user?.email ?? "");
  location.hash = "#jobs";
  render();
}

async function register(form: HTMLFormElement): Promise<void> {
  const res = await api.auth.register({
    email: value(form, "email"),
    password: value(form, "password"),
    displayName: value(form, "displayName"),
    organizationName: value(form, "organizationName"),
  });
  keep(res.tokens, res.organization?.organizationId);
  sessionStorage.setItem("arabicstt-user", res.user?.email ?? "");
  location.hash = "#jobs";
  render();
}

// Jobs still running are watched, one stream each, until they finish or the screen changes.
let watching = new AbortController();

async function renderJobs(): Promise<void> {
  // A free field with the listed models as suggestions: empty is the server's default.
  const models = h("datalist", { id: "models" });
  const status = h("p", { id: "upload-status", role: "status" });
  const form = h(
    "form",
    { id: "upload", onsubmit: (e: Event) => { e.preventDefault(); void attempt(() => submitJob(form as HTMLFormElement, status)); } },
    h("h2", {}, t("upload")),
    h(
      "div",
      { id: "drop-zone", class: "drop-zone" },
      field(t("file"), h("input", { name: "file", id: "file", type: "file", accept: "audio/*,video/*", required: true })),
      h("p", { class: "hint" }, t("dropHere")),
    ),
    field(t("model"), h("input", { name: "model", id: "model", list: "models", placeholder: t("defaultModel"), dir: "ltr", maxlength: 100 })),
    models,
    field(t("language"), h("select", { name: "language", id: "language-code" }, h("option", { value: "ar" }, "العربية (ar)"), h("option", { value: "en" }, "English (en)"))),
    jobOptionsFields(),
    h("progress", { id: "upload-progress", max: 1, value: 0, hidden: true }),
    h("button", { type: "submit" }, t("start")),
    status,
  );
  // A file dropped anywhere on the form is the one to upload.
  const zone = form.querySelector("#drop-zone") as HTMLElement;
  form.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("dragging");
  });
  form.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  form.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    const files = e.dataTransfer?.files;
    if (files?.length) (form.querySelector("#file") as HTMLInputElement).files = files;
  });
  const list = h("div", { id: "jobs" });
  main.replaceChildren(
    h("section", {}, form),
    h("section", {}, h("h2", {}, t("jobs"), " ", h("button", { type: "button", onclick: () => void attempt(() => loadJobs(list)) }, t("refresh"))), list),
  );
  void attempt(async () => {
    const { models: available } = await api.speech.listModels({});
    for (const m of available) models.append(h("option", { value: m.name }, m.displayName ? `${m.displayName} (${m.name})` : m.name));
  });
  await attempt(() => loadJobs(list));
}

async function submitJob(form: HTMLFormElement, status: HTMLElement): Promise<void> {
  const file = (form.elements.namedItem("file") as HTMLInputElement).files?.[0];
  if (!file) return;
  // Read (and checked) before the upload, so a wrong option costs no upload.
  const options = readJobOptions(form);
  const bar = form.querySelector("progress")!;
  bar.hidden = false;
  status.textContent = t("uploading");
  const button = form.querySelector("button[type=submit]") as HTMLButtonElement;
  button.disabled = true;
  try {
    const mediaId = await uploadFile(file, (done) => {
      bar.value = done;
      if (done >= 1) status.textContent = t("checking");
    });
    const { job } = await api.jobs.createJob({ mediaId, config: { ...options, model: value(form, "model"), languageCode: value(form, "language"), enableWordTimeOffsets: true } });
    status.textContent = t("jobCreated");
    const list = document.getElementById("jobs")!;
    list.querySelector(".empty")?.remove();
    list.prepend(jobRow(job!));
  } finally {
    button.disabled = false;
    bar.hidden = true;
  }
}

async function loadJobs(list: HTMLElement): Promise<void> {
  watching.abort();
  watching = new AbortController();
  const { jobs } = await api.jobs.listJobs({ pageSize: 50 });
  list.replaceChildren(...(jobs.length ? jobs.map(jobRow) : [h("p", { class: "empty" }, t("noJobs"))]));
}

function jobRow(job: Job): HTMLElement {
  const state = h("span", { class: "state" });
  const bar = h("progress", { max: 100 }) as HTMLProgressElement;
  const open = h("span", { class: "open" });
  const actions = h("span", { class: "actions" });
  const row = h(
    "div",
    { class: "job", "data-job-id": job.jobId },
    h("span", { class: "file", dir: "auto" }, job.config?.model || "—"),
    h("span", { class: "when" }, job.createdAt ? timestampDate(job.createdAt).toLocaleString(language()) : ""),
    state,
    bar,
    open,
    actions,
    describeJobOptions(job.config),
  );
  const show = (s: JobState, percent: number, transcriptId: string, error?: string) => {
    row.dataset.state = JobState[s];
    state.textContent = t(`state.${s}`) + (error ? `: ${error}` : "");
    bar.value = percent;
    if (s === JobState.SUCCEEDED && transcriptId) open.replaceChildren(h("a", { href: `#transcript/${transcriptId}`, class: "open-transcript" }, t("open")));
    // A job still to finish can be cancelled; a failed or cancelled one retried (it runs again, same id).
    actions.replaceChildren(
      ...(s === JobState.QUEUED || s === JobState.RUNNING
        ? [h("button", { type: "button", class: "cancel-job", onclick: () => void attempt(async () => { const res = await api.jobs.cancelJob({ jobId: job.jobId }); if (res.job) show(res.job.state, res.job.progressPercent, res.job.transcriptId, res.job.error?.message); }) }, t("cancelJob"))]
        : s === JobState.FAILED || s === JobState.CANCELLED
          ? [h("button", { type: "button", class: "retry-job", onclick: () => void attempt(async () => { const res = await api.jobs.retryJob({ jobId: job.jobId }); if (res.job) { show(res.job.state, res.job.progressPercent, res.job.transcriptId, res.job.error?.message); void watch(job.jobId, show); } }) }, t("retryJob"))]
          : []),
    );
  };
  show(job.state, job.progressPercent, job.transcriptId, job.error?.message);
  if (job.state === JobState.QUEUED || job.state === JobState.RUNNING) void watch(job.jobId, show);
  return row;
}

async function watch(jobId: string, show: (s: JobState, percent: number, transcriptId: string, error?: string) => void): Promise<void> {
  const signal = watching.signal;
  // Streams are not retried by the API helper: refresh first if the token is near its end, and resume after a drop.
  for (let attempt = 0; attempt < 5 && !signal.aborted; attempt++) {
    try {
      for await (const p of api.jobs.watchJob({ jobId }, { signal })) {
        show(p.state, p.progressPercent, p.transcriptId, p.error?.message);
        if (p.state !== JobState.QUEUED && p.state !== JobState.RUNNING) return;
      }
      return;
    } catch (err) {
      if (signal.aborted) return;
      if (describeError(err).key === "error.unauthenticated") await refresh();
      await new Promise((r) => setTimeout(r, 1000 * 2 ** attempt));
    }
  }
}

async function renderKeys(): Promise<void> {
  const secret = h("div", { id: "secret", "aria-live": "polite" });
  const scopes = h(
    "fieldset",
    {},
    h("legend", {}, t("scopes")),
    ...[ApiKeyScope.SPEECH, ApiKeyScope.MEDIA_READ, ApiKeyScope.MEDIA_WRITE, ApiKeyScope.JOBS_READ, ApiKeyScope.JOBS_WRITE, ApiKeyScope.TRANSCRIPTS_READ, ApiKeyScope.TRANSCRIPTS_WRITE, ApiKeyScope.USAGE_READ, ApiKeyScope.WEBHOOKS].map((s) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "scope", value: s, checked: s === ApiKeyScope.SPEECH }), ApiKeyScope[s].toLowerCase()),
    ),
  );
  const list = h("div", { id: "keys" });
  const form = h(
    "form",
    {
      id: "create-key",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void attempt(async () => {
          const chosen = [...form.querySelectorAll<HTMLInputElement>("input[name=scope]:checked")].map((i) => Number(i.value) as ApiKeyScope);
          const res = await api.apiKeys.createApiKey({ name: value(form as HTMLFormElement, "name"), scopes: chosen });
          secret.replaceChildren(h("p", {}, t("keyShownOnce")), h("code", { class: "secret", dir: "ltr", tabindex: 0 }, res.secret));
          await loadKeys(list);
        });
      },
    },
    h("h2", {}, t("apiKeys")),
    field(t("keyName"), h("input", { name: "name", required: true, maxlength: 100 })),
    scopes,
    h("button", { type: "submit" }, t("createKey")),
  );
  main.replaceChildren(h("section", {}, form, secret), h("section", {}, list));
  await attempt(() => loadKeys(list));
}

async function loadKeys(list: HTMLElement): Promise<void> {
  const { apiKeys } = await api.apiKeys.listApiKeys({ pageSize: 100, includeInactive: true });
  const stateName = (s: ApiKeyState) => (s === ApiKeyState.ACTIVE ? t("active") : s === ApiKeyState.REVOKED ? t("revoked") : t("expired"));
  list.replaceChildren(
    ...(apiKeys.length
      ? apiKeys.map((k) =>
          h(
            "div",
            { class: "key", "data-key-id": k.apiKeyId, "data-state": ApiKeyState[k.state] },
            h("span", { class: "name", dir: "auto" }, k.name),
            h("code", { dir: "ltr" }, `${k.prefix}…`),
            h("span", { class: "state" }, stateName(k.state)),
            k.state === ApiKeyState.ACTIVE &&
              h("button", { type: "button", class: "revoke", onclick: () => void attempt(async () => { await api.apiKeys.revokeApiKey({ apiKeyId: k.apiKeyId }); await loadKeys(list); }) }, t("revoke")),
          ),
        )
      : [h("p", { class: "empty" }, t("noKeys"))]),
  );
}

function render(): void {
  watching.abort();
  renderNav();
  const route = location.hash.slice(1);
  if (renderLinkScreen()) return main.focus();
  if (!signedIn()) return route === "forgot" ? renderForgotPassword() : renderAccount();
  if (route.startsWith("transcript/")) void attempt(() => renderTranscript(decodeURIComponent(route.slice("transcript/".length))));
  else if (route === "keys") void renderKeys();
  else if (route === "live") renderLive();
  else if (route === "usage") void attempt(() => renderUsage());
  else if (route === "members") void attempt(() => renderMembers());
  else if (route === "search" || route.startsWith("search/")) renderSearch(decodeURIComponent(route.slice("search/".length)));
  else void renderJobs();
  main.focus();
}

whenSignedOut(() => render());
window.addEventListener("hashchange", render);
setLanguage(language());
document.title = t("title");
document.getElementById("title")!.textContent = t("title");
// A reload keeps the session: the refresh token in sessionStorage buys a new access token.
void refresh().then(render, render);
