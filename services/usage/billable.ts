// The billing rule of usage.proto, in one place: "Audio is billed per second of audio per channel
// recognised, rounded up to the whole second per request, stream or job." Batch jobs, live sessions and
// the usage ledger all count with these two functions.

/**
 * Billed audio of one job, stream or session: seconds of audio times the channels recognised, rounded up
 * to the whole second (usage.proto, UsageService). Work that recognised no channel (nothing decoded, or
 * a count that was never set) still bills its audio once, as mono.
 */
export function billableSeconds(durationSeconds: number, channelsRecognised: number): number {
  return wholeBilledSeconds(durationSeconds * Math.max(1, channelsRecognised));
}

/** Seconds rounded up to the whole second, as usage is billed and stored. */
export function wholeBilledSeconds(seconds: number): number {
  return Math.ceil(seconds);
}
