// The recognition models clients may name: every speech recogniser the inference servers list
// (a model whose configuration has the ASR contract's TRANSCRIPT output), with what the platform
// knows about it, and its readiness as the servers report it right now.
import type { InferenceClient } from "../../inference/client/index.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";

export type ModelReadiness = "ready" | "loading" | "unavailable";

export interface CatalogModel {
  name: string;
  displayName: string;
  description: string;
  languageCodes: string[];
  state: ModelReadiness;
  isDefault: boolean;
  supportsStreaming: boolean;
  supportsBatch: boolean;
  supportsWordTimeOffsets: boolean;
  supportsWordConfidence: boolean;
  nativeSampleRateHz: number;
}

/** What the platform says about the models it ships; a model it does not know is listed by name. */
const known: Record<string, Pick<CatalogModel, "displayName" | "description" | "languageCodes" | "isDefault">> = {
  whisper: {
    displayName: "Whisper",
    description: "General Arabic speech recognition (Modern Standard Arabic and the main dialects), with word times, live or batch.",
    languageCodes: ["ar", "ar-AE", "ar-EG", "ar-LB", "ar-MA", "ar-SA", "en"],
    isDefault: true,
  },
  dtmf: {
    displayName: "Keypad tones (DTMF)",
    description: "Telephone keypad tones as digits, timed to the millisecond: IVR input, and a deterministic model for testing integrations.",
    languageCodes: ["ar", "en"],
    isDefault: false,
  },
};

const states: Record<string, ModelReadiness> = { READY: "ready", LOADING: "loading" };

export interface ModelPage {
  models: CatalogModel[];
  nextPageToken: string;
}

export class ModelCatalog {
  constructor(private readonly inference: InferenceClient) {}

  /** The recognition models, default ones first, then by name. */
  async list(options: { signal?: AbortSignal } = {}): Promise<CatalogModel[]> {
    const index = await this.inference.repositoryIndex(options);
    const models: CatalogModel[] = [];
    for (const entry of index) {
      let signature;
      try {
        signature = await this.inference.modelConfig(entry.name, options);
      } catch {
        // A model whose configuration cannot be read (not loaded on Triton, say) is not offered.
        continue;
      }
      if (!signature.outputs.some((o) => o.name === "TRANSCRIPT")) continue;
      const about = known[entry.name] ?? { displayName: entry.name, description: "", languageCodes: ["ar"], isDefault: false };
      models.push({
        name: entry.name,
        ...about,
        state: states[entry.state] ?? "unavailable",
        supportsStreaming: true,
        supportsBatch: true,
        supportsWordTimeOffsets: true,
        supportsWordConfidence: true,
        nativeSampleRateHz: Number(signature.parameters.sample_rate) || 16_000,
      });
    }
    return models.sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.name.localeCompare(b.name));
  }

  /** One page of the models serving `languageCode` (a regional tag is served by its language's models). */
  async page(query: { languageCode: string; pageSize: number; pageToken: string }, options: { signal?: AbortSignal } = {}): Promise<ModelPage> {
    const offset = query.pageToken === "" ? 0 : Number(query.pageToken);
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidArgumentError("page_token", "not a token from a ListModels response");
    const size = query.pageSize || 50;
    const language = query.languageCode;
    const models = (await this.list(options)).filter(
      (m) => language === "" || m.languageCodes.includes(language) || m.languageCodes.includes(language.split("-")[0]!),
    );
    const page = models.slice(offset, offset + size);
    return { models: page, nextPageToken: offset + size < models.length ? String(offset + size) : "" };
  }
}
