// The field tables against the contracts: every request field an RPC reaches has a decision for that RPC
// (applied, or refused with a code), every response field is set or documented as optional, no entry names a
// field or RPC that does not exist, and every claim points at code and tests that are there. A field added to
// a .proto without an entry fails here, so it cannot land undecided.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { contractFields, ruleFor, type CodeRef, type FieldEntry } from "./fields.js";
import { requestFields } from "./request-fields.js";
import { responseFields } from "./response-fields.js";

const root = path.resolve(import.meta.dirname, "../../..");
const requests = contractFields("input");
const responses = contractFields("output");

/** Whether the file exists and names `name`: a claim that went stale (renamed, moved, deleted) fails. */
function mentions(file: string, name: string): boolean {
  const full = path.join(root, file);
  return existsSync(full) && readFileSync(full, "utf8").includes(name);
}
const codeExists = (ref: CodeRef) => {
  const [file, name] = ref.split("#") as [string, string];
  return mentions(file, name);
};

/** Applied request fields with no test yet, pinned: adding one to this list is a decision taken in review. */
const UNPROVEN = [
  "arabicstt.v1.SendLiveAudioRequest.finalize",
  "arabicstt.v1.UploadMediaMetadata.labels",
  "arabicstt.v1.ListJobsRequest.page_size",
  "arabicstt.v1.ListJobsRequest.page_token",
  "arabicstt.v1.ListJobsRequest.state",
  "arabicstt.v1.ListJobsRequest.created_after",
  "arabicstt.v1.ListJobsRequest.created_before",
  "arabicstt.v1.ListTranscriptsRequest.created_after",
  "arabicstt.v1.ListTranscriptsRequest.created_before",
  "arabicstt.v1.UpdateSegmentRequest.speaker_label",
  "arabicstt.v1.SearchTranscriptsRequest.language_code",
  "arabicstt.v1.SearchTranscriptsRequest.created_after",
  "arabicstt.v1.SearchTranscriptsRequest.created_before",
  "arabicstt.v1.ListWebhooksRequest.page_size",
  "arabicstt.v1.ListWebhooksRequest.page_token",
  "arabicstt.v1.ListAuditEventsRequest.start_time",
  "arabicstt.v1.ListAuditEventsRequest.end_time",
];

function rulesOf(entry: FieldEntry) {
  return entry.kind === "per_rpc" ? Object.values(entry.rules) : [entry];
}

describe("the request field table", () => {
  it("decides every request field for every RPC that reaches it, and names no field or RPC that does not exist", () => {
    const undecided = requests.flatMap((f) => f.rpcs.filter((rpc) => !requestFields[f.key] || !ruleFor(requestFields[f.key]!, rpc)).map((rpc) => `${f.key} (${rpc})`));
    const unknown = Object.keys(requestFields).filter((key) => !requests.some((f) => f.key === key));
    const strayRpcs = requests.flatMap((f) => {
      const entry = requestFields[f.key];
      return entry?.kind === "per_rpc" ? Object.keys(entry.rules).filter((rpc) => !f.rpcs.includes(rpc as never)).map((rpc) => `${f.key} (${rpc})`) : [];
    });
    expect(undecided).toEqual([]);
    expect(unknown).toEqual([]);
    expect(strayRpcs).toEqual([]);
    // The contracts' size when the table was written (211 fields in 73 messages): a walk finding far fewer is broken.
    expect(requests.length).toBeGreaterThanOrEqual(211);
  });

  it("points every applied field at code that exists and a test that exists, and pins the fields with no test yet", () => {
    const staleCode: string[] = [];
    const staleProofs: string[] = [];
    const unproven = new Set<string>();
    for (const [key, entry] of Object.entries(requestFields)) {
      for (const rule of rulesOf(entry)) {
        if (rule.kind !== "applied") continue;
        if (!codeExists(rule.by)) staleCode.push(`${key}: ${rule.by}`);
        if ("none" in rule.proof) unproven.add(key);
        else if (!mentions(rule.proof.test, rule.proof.name)) staleProofs.push(`${key}: ${rule.proof.test} "${rule.proof.name}"`);
      }
    }
    expect(staleCode).toEqual([]);
    expect(staleProofs).toEqual([]);
    expect([...unproven].sort()).toEqual([...UNPROVEN].sort());
  });

  it("gives every refusal a reason to tell the client", () => {
    const silent = Object.entries(requestFields).flatMap(([key, entry]) => rulesOf(entry).filter((r) => r.kind === "refused" && r.reason.trim().length < 10).map(() => key));
    expect(silent).toEqual([]);
  });
});

describe("the response field table", () => {
  it("has an entry for every response field, set or optional, and none for fields that do not exist", () => {
    const missing = responses.filter((f) => !responseFields[f.key]).map((f) => f.key);
    const unknown = Object.keys(responseFields).filter((key) => !responses.some((f) => f.key === key));
    expect(missing).toEqual([]);
    expect(unknown).toEqual([]);
    expect(responses.length).toBeGreaterThanOrEqual(440);
  });

  it("points every entry at code that exists, and says when an optional field is left unset", () => {
    const stale = Object.entries(responseFields).filter(([, e]) => !codeExists(e.by)).map(([key, e]) => `${key}: ${e.by}`);
    const unexplained = Object.entries(responseFields).filter(([, e]) => e.kind === "optional" && e.unsetWhen.trim().length < 10).map(([key]) => key);
    expect(stale).toEqual([]);
    expect(unexplained).toEqual([]);
  });
});
