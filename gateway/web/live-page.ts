// A minimal page on the HTTP listener for trying live recognition from a browser: /live serves
// the page, /live/app.js its script, bundled from app.ts with esbuild on first request (the
// Connect-Web client and the generated messages, about 200 KB) and kept in memory.
import type { HttpRoute } from "../../services/platform/probes.js";
import { bundledPageRoute } from "./bundled-page.js";

const page = `<!doctype html>
<html lang="ar" dir="rtl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>التعرّف المباشر على الكلام</title>
<style>
  body { font-family: system-ui, "Noto Naskh Arabic", sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; }
  #transcript { min-height: 8rem; border: 1px solid #ccc; border-radius: 6px; padding: 0.5rem 1rem; font-size: 1.4rem; line-height: 1.8; }
  #partial { color: #777; }
  .final { margin: 0.2rem 0; }
</style>
</head>
<body>
<h1>التعرّف المباشر على الكلام</h1>
<p><button id="start">ابدأ</button> <button id="stop" disabled>أوقف</button> <span id="status"></span></p>
<div id="transcript" dir="rtl"><div id="finals"></div><div id="partial"></div></div>
<script type="module" src="/live/app.js"></script>
</body>
</html>
`;

const PAGE_CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; media-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function livePageRoute(): HttpRoute {
  return bundledPageRoute({ pagePaths: ["/live"], scriptPath: "/live/app.js", html: page, csp: PAGE_CSP, entry: new URL("./app.ts", import.meta.url) });
}
