// Entry of the sidecar's model threads (model-threads.ts). Node 20 does not carry the parent's
// TypeScript loader (tsx's hooks) into worker threads, so each thread registers it before it
// imports the TypeScript module named in workerData; under a runtime that already strips types the
// registration is harmless.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.module);
