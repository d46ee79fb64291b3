// The layout's rules, checked by `npm run lint` (and CI): imports run one way, and no folder sits in a cycle.
//
//   gateway/ ─▶ services/ (by LEVELS below: worker, app, …, platform) ─▶ inference/ ─▶ proto/gen
//   and any of them ─▶ inference/telemetry/ (tracing), which imports nothing of ours
//
// Test files are leaves (nothing imports them), so they may reach the harnesses above them
// (gateway/testing, services/app/testing); test helpers (`testing/` folders) follow the rules.
/**
 * The folders of services/ by level (services/levels.json, the README's "Where things live"): a folder
 * imports only folders of a lower level, never one of its own level or above.
 */
const LEVELS = require("./services/levels.json");

/** One rule per folder: the services/ folders it may not import (its own level and above). */
const levelRules = Object.entries(LEVELS).map(([folder, level]) => {
  const notBelow = Object.keys(LEVELS).filter((other) => other !== folder && LEVELS[other] >= level);
  return {
    name: `services-${folder}-imports-only-lower-levels`,
    comment: `services/${folder} (level ${level}) imports only folders of a lower level: not ${notBelow.join(", ")}.`,
    severity: "error",
    from: { path: `^services/${folder}/` },
    to: { path: `^services/(${notBelow.join("|")})/` },
  };
}).filter((rule) => !rule.to.path.endsWith("()/"));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...levelRules,
    {
      name: "every-services-folder-has-a-level",
      comment: "A new folder of services/ gets its level in LEVELS (and its row in the README) before it imports anything.",
      severity: "error",
      from: { path: `^services/(?!(${Object.keys(LEVELS).join("|")})/)` },
      to: {},
    },
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
      name: "telemetry-is-a-leaf",
      comment: "inference/telemetry/ (the tracing SDK's setup, spans, trace ids for logs) serves every layer, so it imports none of them.",
      severity: "error",
      from: { path: "^inference/telemetry/" },
      to: { path: "^(gateway|services|proto|deploy)/|^inference/(?!telemetry/)" },
    },
    {
      name: "services-below-gateway",
      comment: "The domain knows nothing of transports: services/ never imports gateway/.",
      severity: "error",
      from: { path: "^services/" },
      to: { path: "^gateway/" },
    },
    {
      name: "cli-is-a-client",
      comment: "gateway/cli is a client of the public API: it reaches the platform through proto/gen over the network, never by importing it.",
      severity: "error",
      from: { path: "^gateway/cli/" },
      to: { path: "^(gateway/(?!cli/)|services/|inference/)" },
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
