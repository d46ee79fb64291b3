// Validates rendered Kubernetes objects against the API's OpenAPI schemas, offline: the schemas ship in
// the pinned kubernetes-models package (package.json). Reads a JSON array of objects on stdin (deploy/check.sh
// renders each overlay with kustomize and converts it); prints one line per object; exits 1 on any error.
// Usage: node deploy/k8s/validate.mjs NAME [--files] < objects.json
// NAME labels the output (an overlay); --files: objects of several overlays' files, where one name may
// be defined once per overlay (a rendered overlay must define each object once).
import { readFileSync } from "node:fs";

const overlay = process.argv[2] ?? "stdin";
const acrossOverlays = process.argv.includes("--files");
const objects = JSON.parse(readFileSync(0, "utf8"));
let failures = 0;
const seen = new Set();
for (const object of objects) {
  const where = `${overlay}: ${object.kind}/${object.metadata?.name}`;
  const id = `${object.apiVersion}/${object.kind}/${object.metadata?.namespace}/${object.metadata?.name}`;
  if (seen.has(id) && !acrossOverlays) {
    console.error(`FAIL ${where}: defined twice`);
    failures++;
  }
  seen.add(id);
  let Model;
  try {
    Model = (await import(`kubernetes-models/${object.apiVersion}`))[object.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) {
    console.error(`FAIL ${where}: unknown apiVersion/kind ${object.apiVersion} ${object.kind}`);
    failures++;
    continue;
  }
  try {
    new Model(object).validate();
    console.log(`ok   ${where}`);
  } catch (err) {
    console.error(`FAIL ${where}: ${err instanceof Error ? err.message : String(err)}`);
    failures++;
  }
}
if (objects.length === 0) {
  console.error(`FAIL ${overlay}: no objects`);
  failures++;
}
process.exit(failures > 0 ? 1 : 0);
