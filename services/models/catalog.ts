// The recognition models clients may name: every model the inference servers list that is a
// recogniser (`isRecognizer`), described by what its config.pbtxt declares in `parameters`
// (inference/repository/capabilities.ts), with its readiness as the servers report it right now.
// ListModels lists them; live recognition, Recognize and CreateJob check a request's model and
// language here, so what ListModels says a model serves is what requests are held to.
import { VAD_STREAM_MODEL, type InferenceClient, type ModelSignature } from "../../inference/client/index.js";
import { asrContract, contractViolations } from "../../inference/client/contract.js";
import { capabilitiesOf, type GateKind, type ModelCapabilities } from "../../inference/repository/capabilities.js";
import { MODEL_SAMPLE_RATE } from "../audio/rates.js";
import { FailedPreconditionError, InvalidArgumentError, UnavailableError } from "../platform/errors/errors.js";
import { DEFAULT_LANGUAGE_CODE, languageOrDefault, servesLanguage } from "../arabic-text/language.js";

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

/** A recogniser a request may use, as `ModelCatalog.recognizer` found it. */
export interface Recognizer {
  name: string;
  /** The request's language, or the default language when it names none. */
  languageCode: string;
  /** What lets live audio through to it. */
  gate: GateKind;
  /** The model keeps an utterance's audio between calls (config `sequence_batching`): live recognition sends each call only the new audio. */
  sequenceBatching?: boolean;
  /** A VAD-gated model, and the servers' `vad_stream` is ready: the live gate keeps its detector's state there. */
  streamingVad?: boolean;
}

/**
 * Whether a model is a speech recogniser: its configuration has the ASR tensor contract (AUDIO in;
 * TRANSCRIPT, SEGMENTS and ALTERNATIVES out), the one the client's `transcribe` holds it to. The one place this
 * is decided, for ListModels, live recognition, Recognize and CreateJob alike.
 */
export function isRecognizer(signature: ModelSignature): boolean {
  return contractViolations(asrContract, signature).length === 0;
}

/** The languages a model serves: those it declares, else the default language. */
function languagesOf(declared: ModelCapabilities): string[] {
  return declared.languageCodes ?? [DEFAULT_LANGUAGE_CODE];
}

const states: Record<string, ModelReadiness> = { READY: "ready", LOADING: "loading" };

export interface ModelPage {
  models: CatalogModel[];
  nextPageToken: string;
}

export interface ModelCatalogOptions {
  /** The model of a request that names none (config: JOB_DEFAULT_MODEL); ListModels marks it `is_default`. */
  defaultModel: string;
}

/** Where in the request the model and the language are, for error messages. */
export interface RecognizerFields {
  model: string;
  languageCode: string;
}

export class ModelCatalog {
  private readonly defaultModel: string;

  constructor(
    private readonly inference: Pick<InferenceClient, "repositoryIndex" | "modelConfig">,
    options: ModelCatalogOptions,
  ) {
    this.defaultModel = options.defaultModel;
  }

  /** The recognition models, default ones first, then by name. */
  async list(options: { signal?: AbortSignal } = {}): Promise<CatalogModel[]> {
    const index = await this.inference.repositoryIndex(options);
    const models: CatalogModel[] = [];
    for (const entry of index) {
      let signature;
      let declared;
      try {
        signature = await this.inference.modelConfig(entry.name, options);
        declared = capabilitiesOf(entry.name, signature.parameters);
      } catch {
        // A model whose configuration cannot be read (not loaded on Triton, say), or declares
        // what it serves wrongly, is not offered.
        continue;
      }
      if (!isRecognizer(signature)) continue;
      models.push({
        name: entry.name,
        displayName: declared.displayName,
        description: declared.description,
        languageCodes: languagesOf(declared),
        state: states[entry.state] ?? "unavailable",
        isDefault: entry.name === this.defaultModel,
        // Every recogniser serves both paths through the same call, and SEGMENTS carries each
        // word's times and probability (the ASR contract).
        supportsStreaming: true,
        supportsBatch: true,
        supportsWordTimeOffsets: true,
        supportsWordConfidence: true,
        nativeSampleRateHz: declared.sampleRateHz ?? MODEL_SAMPLE_RATE,
      });
    }
    return models.sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.name.localeCompare(b.name));
  }

  /** One page of the models serving `languageCode` (a regional tag is served by its language's models). */
  /**
   * A page of the recognisers, default first. `defaultModel`: the caller's own default (its
   * organisation's), which then is the one marked and listed first in place of the server's.
   */
  async page(
    query: { languageCode: string; pageSize: number; pageToken: string },
    options: { signal?: AbortSignal; defaultModel?: string } = {},
  ): Promise<ModelPage> {
    const offset = query.pageToken === "" ? 0 : Number(query.pageToken);
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidArgumentError("page_token", "not a token from a ListModels response");
    const size = query.pageSize || 50;
    const language = query.languageCode;
    let listed = await this.list(options);
    const own = options.defaultModel;
    if (own && listed.some((m) => m.name === own)) {
      listed = listed
        .map((m) => ({ ...m, isDefault: m.name === own }))
        .sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.name.localeCompare(b.name));
    }
    const models = listed.filter((m) => language === "" || servesLanguage(m.languageCodes, language));
    const page = models.slice(offset, offset + size);
    return { models: page, nextPageToken: offset + size < models.length ? String(offset + size) : "" };
  }

  /**
   * The recogniser a request names (the default model when it names none), once it is known,
   * ready, a recogniser and serves the request's language. Without a `languageCode` the language
   * is not checked (a model the server picks for its own purpose, such as the keypad model).
   * Throws InvalidArgumentError naming `fields`, or UnavailableError while the model is not ready;
   * `purpose` prefixes the errors of a model the server picks.
   */
  async recognizer(
    request: { model: string; languageCode?: string },
    options: { fields: RecognizerFields; purpose?: string; signal?: AbortSignal },
  ): Promise<Recognizer> {
    const name = request.model || this.defaultModel;
    const { fields, purpose, signal } = options;
    const index = await this.inference.repositoryIndex({ signal });
    const entry = index.find((m) => m.name === name);
    if (!entry) {
      if (purpose) throw new UnavailableError(`${purpose} the ${JSON.stringify(name)} model, which no inference server has`);
      throw new InvalidArgumentError(fields.model, `unknown model ${JSON.stringify(name)}; ListModels lists the models there are`);
    }
    // The server's default that this server cannot serve is the operator's to fix, not the client's to retry.
    if (!request.model && !purpose && entry.state === "UNAVAILABLE") {
      throw new FailedPreconditionError(
        `${fields.model}: the server's default model ${JSON.stringify(name)} is not available on this server; an operator installs it (README, "Inference") or sets JOB_DEFAULT_MODEL to an installed model. Meanwhile name a ready model from ListModels`,
      );
    }
    if (entry.state !== "READY") {
      throw new UnavailableError(
        `${purpose ? `${purpose} the ` : ""}model ${JSON.stringify(name)}${purpose ? ", which" : ""} is not ready (${entry.state.toLowerCase()}${entry.reason ? `: ${entry.reason}` : ""})`,
      );
    }
    const signature = await this.inference.modelConfig(name, { signal });
    if (!isRecognizer(signature)) {
      throw new InvalidArgumentError(fields.model, `model ${JSON.stringify(name)} is not a speech recognition model`);
    }
    const declared = capabilitiesOf(name, signature.parameters);
    const languageCode = languageOrDefault(request.languageCode);
    if (request.languageCode !== undefined && !servesLanguage(languagesOf(declared), languageCode)) {
      throw new InvalidArgumentError(
        fields.languageCode,
        `model ${JSON.stringify(name)} does not serve ${JSON.stringify(languageCode)}; it serves ${languagesOf(declared).join(", ")} (ListModels lists the languages of each model)`,
      );
    }
    const streamingVad = declared.gate === "vad" && index.some((m) => m.name === VAD_STREAM_MODEL && m.state === "READY");
    return { name, languageCode, gate: declared.gate, sequenceBatching: signature.sequenceBatching, streamingVad };
  }
}
