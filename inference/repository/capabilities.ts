// What a model declares about itself for the platform, in the `parameters` of its config.pbtxt:
// how ListModels presents it, which languages it serves, the rate it takes and what gates audio to
// it live. Triton hands parameters to the backends, which ignore the keys they do not read, so
// these cost the servers nothing. Read from the parameter map as the ModelConfig RPC returns it
// (strings by key), so the services read a model the same way from Triton and the local sidecar,
// and inference/contract.test.ts holds every config of the repository to it.

/** The parameter keys, as config.pbtxt spells them. */
export const CAPABILITY_PARAMETERS = {
  displayName: "display_name",
  description: "description",
  languageCodes: "language_codes",
  sampleRate: "sample_rate",
  gate: "gate",
} as const;

/** What lets live audio through to a recogniser: Silero VAD (speech), or any audio with energy (keypad tones). */
export type GateKind = "vad" | "energy";

export interface ModelCapabilities {
  /** `display_name`; the model's name when absent. */
  displayName: string;
  /** `description`, one or two sentences; empty when absent. */
  description: string;
  /** `language_codes`, comma-separated BCP-47 tags; undefined when absent (the platform's default then applies). */
  languageCodes: string[] | undefined;
  /** `sample_rate` in Hz of the AUDIO the model takes; undefined when absent. */
  sampleRateHz: number | undefined;
  /** `gate`; "vad" when absent (every speech model). */
  gate: GateKind;
}

/** A declared value that cannot be what its key says. */
export class ModelCapabilityError extends Error {
  override readonly name = "ModelCapabilityError";
}

/** recognition.proto's pattern for language_code. */
const LANGUAGE_TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

/** The capabilities `model` declares in `parameters`. Throws ModelCapabilityError on a malformed value. */
export function capabilitiesOf(model: string, parameters: Readonly<Record<string, string | undefined>>): ModelCapabilities {
  const fail = (key: string, reason: string): never => {
    throw new ModelCapabilityError(`model ${model}: parameter ${key} ${reason} (got ${JSON.stringify(parameters[key])})`);
  };
  const keys = CAPABILITY_PARAMETERS;
  const languages = parameters[keys.languageCodes];
  let languageCodes: string[] | undefined;
  if (languages !== undefined) {
    languageCodes = languages.split(",").map((tag) => tag.trim());
    if (languageCodes.some((tag) => !LANGUAGE_TAG.test(tag))) fail(keys.languageCodes, 'must be BCP-47 tags separated by commas, e.g. "ar,ar-EG,en"');
  }
  const rate = parameters[keys.sampleRate];
  let sampleRateHz: number | undefined;
  if (rate !== undefined) {
    sampleRateHz = Number(rate);
    if (!/^[0-9]+$/.test(rate.trim()) || sampleRateHz <= 0) fail(keys.sampleRate, "must be a positive whole number of Hz");
  }
  const gate = parameters[keys.gate] ?? "vad";
  if (gate !== "vad" && gate !== "energy") fail(keys.gate, 'must be "vad" or "energy"');
  return {
    displayName: parameters[keys.displayName] || model,
    description: parameters[keys.description] ?? "",
    languageCodes,
    sampleRateHz,
    gate: gate as GateKind,
  };
}
