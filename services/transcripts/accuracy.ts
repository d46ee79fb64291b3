// A scored transcript's accuracy as the API shows it, on Job.accuracy and Transcript.accuracy alike: the
// error rates stored on the transcript (and job), and the counts behind the word error rate, which the job
// runner keeps in the transcript's metadata under `accuracy`.
import { create } from "@bufbuild/protobuf";
import { AccuracyMetricsSchema, type AccuracyMetrics } from "../../proto/gen/arabicstt/v1/job_pb.js";

export interface AccuracyCounts {
  referenceWordCount: number;
  substitutions: number;
  deletions: number;
  insertions: number;
}

const COUNT_NAMES = ["referenceWordCount", "substitutions", "deletions", "insertions"] as const;

/** The counts a transcript's metadata holds, or undefined when it was not scored (or holds something else). */
export function accuracyCountsOf(metadata: Record<string, unknown>): AccuracyCounts | undefined {
  const raw = metadata.accuracy as Record<string, unknown> | undefined;
  if (!raw || typeof raw !== "object") return undefined;
  if (!COUNT_NAMES.every((name) => typeof raw[name] === "number")) return undefined;
  return Object.fromEntries(COUNT_NAMES.map((name) => [name, raw[name]])) as unknown as AccuracyCounts;
}

/** AccuracyMetrics from the stored rates and counts; undefined when there is no rate (nothing scored). */
export function accuracyMetricsOf(rates: { wer: number | null; cer: number | null }, counts: AccuracyCounts | undefined): AccuracyMetrics | undefined {
  if (rates.wer === null && rates.cer === null) return undefined;
  return create(AccuracyMetricsSchema, {
    wordErrorRate: Number(rates.wer ?? 0),
    characterErrorRate: Number(rates.cer ?? 0),
    referenceWordCount: counts?.referenceWordCount ?? 0,
    substitutions: counts?.substitutions ?? 0,
    deletions: counts?.deletions ?? 0,
    insertions: counts?.insertions ?? 0,
  });
}
