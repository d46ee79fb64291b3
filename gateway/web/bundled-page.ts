// A page on the HTTP listener with its script: the page at each of `pagePaths` (with its own Content-Security-Policy;
// the listener's default allows nothing), and the script at `scriptPath`, bundled from `entry` with esbuild on
// first request and kept in memory (no build step, no CDN). The /live page and the console are two of these.
import { fileURLToPath } from "node:url";
import type { HttpRoute } from "../../services/platform/probes.js";

export interface BundledPage {
  /** Where the page is served: its own path, and any other path the page itself routes on. */
  pagePaths: string[];
  scriptPath: string;
  html: string;
  csp: string;
  /** The script's entry point, a URL relative to this folder's module (`new URL("./app.ts", import.meta.url)`). */
  entry: URL;
}

export function bundledPageRoute(options: BundledPage): HttpRoute {
  let bundle: Promise<string> | undefined;
  return async (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method !== "GET" || (!options.pagePaths.includes(path) && path !== options.scriptPath)) return false;
    if (path !== options.scriptPath) {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache", "Content-Security-Policy": options.csp }).end(options.html);
      return true;
    }
    // A failed build is not kept: the next request tries again.
    bundle ??= build(options.entry).catch((err: unknown) => {
      bundle = undefined;
      throw err;
    });
    res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache" }).end(await bundle);
    return true;
  };
}

async function build(entry: URL): Promise<string> {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}
