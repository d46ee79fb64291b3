// The layout's rules, checked by `npm run lint` (and CI): imports run one way, and no folder sits in a cycle.
//
//   gateway/ ─▶ services/app, services/worker (the composition roots) ─▶ capabilities ─▶ identity ─▶ audio,
//   arabic-text ─▶ services/platform ─▶ inference/ ─▶ proto/gen
//
// Test files are leaves (nothing imports them), so they may reach the harnesses above them
// (gateway/testing, services/app/testing); test helpers (`testing/` folders) follow the rules.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-folder-cycle",
      comment: "Folders form a cycle: one of them must stop importing the other (pass a function or an id in instead).",
      severity: "error",
      scope: "folder",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-module-cycle",
      comment: "Modules import each other in a circle: move what both need into a module of its own.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "inference-is-a-library",
      comment: "inference/ takes its logger, metrics and settings as arguments; it imports nothing of the platform.",
      severity: "error",
      from: { path: "^inference/" },
      to: { path: "^(services|gateway)/" },
    },
    {
      name: "services-below-gateway",
      comment: "The domain knows nothing of transports: services/ never imports gateway/.",
      severity: "error",
      from: { path: "^services/" },
      to: { path: "^gateway/" },
    },
    {
      name: "platform-below-capabilities",
      comment: "services/platform (config, errors, database, blobs, mail, limits, adapters) imports no capability.",
      severity: "error",
      from: { path: "^services/platform/" },
      to: { path: "^services/(?!platform/)" },
    },
    {
      name: "text-and-audio-import-only-platform",
      comment: "services/audio and services/arabic-text are libraries of the domain: they import only the platform.",
      severity: "error",
      from: { path: "^services/(audio|arabic-text)/" },
      to: { path: "^services/(?!platform/|audio/|arabic-text/)" },
    },
    {
      name: "identity-imports-only-platform",
      comment: "Accounts, organisations, API keys and audit sit under every other capability.",
      severity: "error",
      from: { path: "^services/identity/" },
      to: { path: "^services/(?!platform/|identity/|audio/|arabic-text/)" },
    },
    {
      name: "only-roots-import-the-roots",
      comment: "services/app and services/worker compose the capabilities; no capability imports them.",
      severity: "error",
      from: { path: "^services/(?!app/|worker/)" },
      to: { path: "^services/(app|worker)/" },
    },
    {
      name: "gateway-root-only-composes",
      comment: "Only the gateway's root and its test harness build the platform (services/app/compose.ts).",
      severity: "error",
      from: { path: "^gateway/", pathNot: "^gateway/(platform|main)\\.ts$|^gateway/testing/" },
      to: { path: "^services/app/(compose|identity|media|speech|transcripts|webhooks|entities)\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)node_modules/|^proto/gen/|\\.test\\.ts$|^data/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".mjs", ".json"] },
  },
};
