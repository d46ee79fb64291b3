// The browser console on the HTTP listener: `/` serves the page, /console/app.js its script, bundled
// from console/main.ts with esbuild on first request (Connect-Web, the generated clients; no CDN) and
// kept in memory. The page talks only to the public API of the gateway that served it, plus the
// storage origins that presigned upload URLs point at.
import type { HttpRoute } from "../../services/platform/probes.js";
import { bundledPageRoute } from "./bundled-page.js";

const page = `<!doctype html>
<html lang="ar" dir="rtl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>منصّة التعرّف على الكلام العربي</title>
<style>
  :root { color-scheme: light dark; --accent: #0a6e5c; --line: #8884; }
  * { box-sizing: border-box; }
  body { font-family: system-ui, "Noto Naskh Arabic", "Noto Sans Arabic", sans-serif; margin: 0; line-height: 1.6; }
  header { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; padding: 0.6rem 1rem; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 1.15rem; margin: 0; flex: 1 1 auto; }
  nav { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
  main { max-width: 60rem; margin: 0 auto; padding: 1rem; outline: none; }
  .columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 1.5rem; }
  form { display: grid; gap: 0.6rem; margin-bottom: 1.5rem; }
  label { display: grid; gap: 0.2rem; }
  form, label { grid-template-columns: minmax(0, 1fr); }
  form input:not([type=checkbox]):not([type=radio]), form select { width: 100%; }
  h2 button { font-size: 1rem; }
  fieldset { min-width: 0; border: 1px solid var(--line); border-radius: 4px; }
  form textarea { width: 100%; font: inherit; }
  details summary { cursor: pointer; }
  #job-options > * + * { margin-top: 0.6rem; }
  .pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: 0.6rem; }
  .job .job-options { flex: 1 1 100%; font-size: 0.9rem; }
  .job-options dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.1rem 1rem; margin: 0.3rem 0; }
  .job-options dt { color: #777; }
  .job-options dd { margin: 0; overflow-wrap: anywhere; }
  .member .email, #invitations li { overflow-wrap: anywhere; }
  #forgot { justify-self: start; }
  label.check { display: inline-flex; gap: 0.3rem; margin-inline-end: 1rem; }
  input, select, button { font: inherit; padding: 0.4rem 0.6rem; max-width: 100%; }
  button, nav a { cursor: pointer; }
  button[type=submit] { background: var(--accent); color: #fff; border: 0; border-radius: 4px; justify-self: start; }
  :focus-visible { outline: 3px solid #e59e00; outline-offset: 2px; }
  .job, .key, .member, .segment { display: flex; flex-wrap: wrap; gap: 0.4rem 1rem; align-items: center; padding: 0.5rem 0; border-bottom: 1px solid var(--line); }
  .job progress { flex: 1 1 8rem; }
  .segment { display: block; }
  .segment .who { color: #777; font-size: 0.85rem; }
  .segment .text { margin: 0.2rem 0; font-size: 1.25rem; unicode-bidi: plaintext; }
  .partial { color: #888; font-size: 1.25rem; unicode-bidi: plaintext; min-height: 1.6em; }
  .final { font-size: 1.25rem; margin: 0.2rem 0; unicode-bidi: plaintext; }
  #live-events { padding-inline-start: 1.2rem; }
  meter { width: 100%; height: 1rem; }
  .word { cursor: pointer; border-radius: 3px; }
  .word.current { background: #ffe08a; color: #000; }
  .player audio { width: 100%; }
  button.link { background: none; border: 0; padding: 0; color: inherit; text-decoration: underline; font-size: inherit; }
  .edit-form textarea { width: 100%; font: inherit; font-size: 1.15rem; }
  .speaker-form { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-bottom: 0.5rem; }
  .snippet mark { background: #ffe08a; color: #000; }
  .bar-row { display: grid; grid-template-columns: 5rem minmax(0, 1fr) 6rem; gap: 0.5rem; align-items: center; }
  .bar-row .bar { display: block; block-size: 0.9rem; min-inline-size: 1px; background: var(--accent); border-radius: 2px; }
  .quota meter { inline-size: auto; flex: 1 1 8rem; }
  .quota { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; padding: 0.3rem 0; }
  .drop-zone { border: 2px dashed var(--line); border-radius: 6px; padding: 0.6rem; }
  .drop-zone.dragging { border-color: var(--accent); background: #0a6e5c14; }
  .drop-zone .hint { margin: 0.3rem 0 0; color: #777; font-size: 0.9rem; }
  .error { border: 2px solid #b00020; border-radius: 6px; padding: 0.5rem 1rem; margin: 1rem; }
  .error .detail { font-size: 0.85rem; color: #777; overflow-wrap: anywhere; }
  code.secret { display: block; padding: 0.5rem; border: 1px dashed var(--line); overflow-wrap: anywhere; user-select: all; }
  @media (max-width: 30rem) { main { padding: 0.6rem; } .segment .text { font-size: 1.1rem; } }
</style>
</head>
<body>
<header><h1 id="title">منصّة التعرّف على الكلام العربي</h1><nav id="nav" aria-label="main"></nav></header>
<div id="errors" aria-live="assertive"></div>
<main id="main" tabindex="-1"></main>
<script type="module" src="/console/app.js"></script>
</body>
</html>
`;

/**
 * The pages the links in mail open (APP_BASE_URL + path + `?token=…`): the console itself, which reads
 * the path and shows the matching screen.
 */
const LINK_PATHS = ["/verify-email", "/reset-password", "/accept-invitation"];

/**
 * `connectSources`: origins besides the gateway's own that the page may call (object storage for
 * presigned uploads, when it is not the gateway's own filesystem store).
 */
export function consolePageRoute(options: { connectSources?: string[] } = {}): HttpRoute {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    `connect-src 'self' ${(options.connectSources ?? []).join(" ")}`.trim(),
    "style-src 'unsafe-inline'",
    "img-src 'self' data:",
    `media-src 'self' ${(options.connectSources ?? []).join(" ")}`.trim(),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return bundledPageRoute({ pagePaths: ["/", ...LINK_PATHS], scriptPath: "/console/app.js", html: page, csp, entry: new URL("./console/main.ts", import.meta.url) });
}
