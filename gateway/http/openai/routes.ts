// OpenAI's audio API on the HTTP/1.1 listener, for the tools that speak it (the OpenAI SDKs, Open WebUI,
// LiteLLM, agent frameworks): `POST /v1/audio/transcriptions`, `GET /v1/models` and `GET /v1/models/{id}`.
// The bearer token is one of our API keys (or an access token); every request is served by the platform's
// own RPCs (./platform-client.ts), so it is authorised, limited and billed as they are.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HttpRoute } from "../../../services/platform/probes.js";
import { PEER_ADDRESS_HEADER } from "../../interceptors/auth.js";
import { REQUEST_ID_HEADER } from "../../interceptors/request-context.js";
import { OpenAiRequestError, openAiErrorOf, sendOpenAiError } from "./errors.js";
import { parseForm, type ParsedForm } from "./multipart.js";
import type { PlatformClients } from "../platform-client.js";
import type { Logger } from "../../../services/platform/logger.js";
import { Counter, type Registry } from "prom-client";
import { render, RESPONSE_FORMATS, streamEvents, type ResponseFormat } from "./formats.js";
import { transcribe } from "./transcribe.js";

/** OpenAI's own limit on an uploaded file (25 MB); longer audio goes through a batch job. */
export const OPENAI_MAX_FILE_BYTES = 25 * 1024 * 1024;
/** How long a request waits for the batch job of a long file before answering 504 (the job goes on). */
export const MAX_JOB_WAIT_MS = 15 * 60 * 1000;
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MODELS_PAGE_SIZE = 100;

export interface OpenAiRouteOptions {
  /** The product's RPCs, in process (../platform-client.ts). */
  clients: PlatformClients;
  logger: Logger;
  /** Where `arabicstt_openai_requests_total` is registered; not counted when left out. */
  registry?: Registry;
  /** Largest file accepted: OPENAI_MAX_FILE_BYTES unless the media library takes less (MAX_UPLOAD_BYTES). */
  maxFileBytes: number;
  maxJobWaitMs?: number;
}

export function openAiRoutes(options: OpenAiRouteOptions): HttpRoute {
  const { clients } = options;
  const requests = options.registry
    ? new Counter({
        name: "arabicstt_openai_requests_total",
        help: "Requests to the OpenAI-compatible API, by endpoint (transcriptions, models, model) and HTTP status.",
        labelNames: ["endpoint", "status"],
        registers: [options.registry],
      })
    : undefined;
  const maxFileBytes = Math.min(options.maxFileBytes, OPENAI_MAX_FILE_BYTES);
  return async (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const endpoint = endpointOf(req.method ?? "GET", path);
    if (!endpoint) return false;
    res.once("finish", () => requests?.inc({ endpoint: endpoint.kind === "wrong_method" ? "other" : endpoint.kind, status: String(res.statusCode) }));
    const offered = req.headers[REQUEST_ID_HEADER];
    const requestId = typeof offered === "string" && SANE_REQUEST_ID.test(offered) ? offered : randomUUID();
    try {
      if (endpoint.kind === "wrong_method") throw new OpenAiRequestError(405, `${req.method} is not served on ${path}; use ${endpoint.allowed}`, null, "method_not_allowed");
      const headers = callHeaders(req, requestId);
      switch (endpoint.kind) {
        case "models":
          sendJson(res, 200, { object: "list", data: (await listModels(clients, headers)).map(modelObject) }, requestId);
          return true;
        case "model": {
          const names = await listModels(clients, headers);
          if (!names.includes(endpoint.id)) throw modelNotFound(endpoint.id);
          sendJson(res, 200, modelObject(endpoint.id), requestId);
          return true;
        }
        case "transcriptions":
          await transcriptions(req, res, { clients, headers, requestId, maxFileBytes, maxJobWaitMs: options.maxJobWaitMs ?? MAX_JOB_WAIT_MS });
          return true;
      }
    } catch (err) {
      const error = openAiErrorOf(err, requestId);
      // A body left unread (refused before or while it was read) is not drained: the connection closes.
      if (!req.complete && !res.headersSent) res.setHeader("Connection", "close");
      if (error.status >= 500) options.logger.error({ err, request_id: requestId, path }, "OpenAI-compatible request failed");
      sendOpenAiError(res, error, requestId);
      return true;
    }
  };
}

type Endpoint = { kind: "models" } | { kind: "model"; id: string } | { kind: "transcriptions" } | { kind: "wrong_method"; allowed: string };

function endpointOf(method: string, path: string): Endpoint | undefined {
  if (path === "/v1/audio/transcriptions") return method === "POST" ? { kind: "transcriptions" } : { kind: "wrong_method", allowed: "POST" };
  if (path === "/v1/models") return method === "GET" ? { kind: "models" } : { kind: "wrong_method", allowed: "GET" };
  const model = /^\/v1\/models\/([^/]+)$/.exec(path);
  if (model) return method === "GET" ? { kind: "model", id: decodeURIComponent(model[1]!) } : { kind: "wrong_method", allowed: "GET" };
  return undefined;
}

/** What the platform's RPCs read of the caller: its credential, its address (set by the listener), its request id. */
function callHeaders(req: IncomingMessage, requestId: string): Record<string, string> {
  const authorization = req.headers.authorization;
  const apiKey = req.headers["x-api-key"];
  if (!authorization && !apiKey) {
    // Refused before the body is read: OpenAI's own answer to a request without a key.
    throw new OpenAiRequestError(401, "You didn't provide an API key. Send one of this platform's API keys as `Authorization: Bearer <key>`.", null, "invalid_api_key");
  }
  const headers: Record<string, string> = { [REQUEST_ID_HEADER]: requestId, [PEER_ADDRESS_HEADER]: String(req.headers[PEER_ADDRESS_HEADER] ?? req.socket.remoteAddress ?? "") };
  if (authorization) headers.authorization = authorization;
  if (typeof apiKey === "string") headers["x-api-key"] = apiKey;
  if (req.headers["user-agent"]) headers["user-agent"] = req.headers["user-agent"];
  return headers;
}

async function listModels(clients: PlatformClients, headers: Record<string, string>): Promise<string[]> {
  const names: string[] = [];
  let pageToken = "";
  // Bounded: the catalog is a handful of models; a page token that never ends would be a bug, not a reason to loop.
  for (let page = 0; page < 100; page++) {
    const response = await clients.speech.listModels({ pageSize: MODELS_PAGE_SIZE, pageToken }, { headers });
    names.push(...response.models.map((m) => m.name));
    pageToken = response.nextPageToken;
    if (!pageToken) break;
  }
  return names;
}

function modelObject(id: string) {
  // The catalog keeps no creation time; 0 says so rather than inventing one.
  return { id, object: "model", created: 0, owned_by: "arabicstt" };
}

function modelNotFound(id: string): OpenAiRequestError {
  return new OpenAiRequestError(404, `The model '${id}' does not exist; GET /v1/models lists the models there are`, "model", "model_not_found");
}

interface TranscriptionContext {
  clients: PlatformClients;
  headers: Record<string, string>;
  requestId: string;
  maxFileBytes: number;
  maxJobWaitMs: number;
}

/** The form fields of `POST /v1/audio/transcriptions`, checked. */
interface TranscriptionForm {
  file: NonNullable<ParsedForm["file"]>;
  model: string;
  language: string;
  responseFormat: ResponseFormat;
  temperature: number;
  words: boolean;
  segments: boolean;
  stream: boolean;
}

/** Fields accepted and not used: a Whisper prompt has no counterpart in these models (phrase hints are not served yet), and segmentation is by voice activity whatever the strategy. */
const IGNORED_FIELDS = new Set(["prompt", "chunking_strategy"]);
const KNOWN_FIELDS = new Set(["model", "language", "response_format", "temperature", "timestamp_granularities[]", "timestamp_granularities", "stream", "include[]", "include", ...IGNORED_FIELDS]);

function formOf(parsed: ParsedForm): TranscriptionForm {
  for (const name of parsed.fields.keys()) {
    if (!KNOWN_FIELDS.has(name)) throw new OpenAiRequestError(400, `Unrecognized request argument supplied: ${name}`, name, "unknown_parameter");
  }
  const one = (name: string) => parsed.fields.get(name)?.at(-1)?.trim() ?? "";
  if (!parsed.file) throw new OpenAiRequestError(400, "the `file` field is required: the audio file to transcribe", "file", "missing_required_parameter");
  if (parsed.file.bytes.length === 0) throw new OpenAiRequestError(400, "the file is empty", "file", "empty_file");
  const model = one("model");
  if (!model) throw new OpenAiRequestError(400, "the `model` field is required: GET /v1/models lists the models there are", "model", "missing_required_parameter");
  const responseFormat = (one("response_format") || "json") as ResponseFormat;
  if (!RESPONSE_FORMATS.includes(responseFormat)) {
    throw new OpenAiRequestError(400, `response_format must be one of ${RESPONSE_FORMATS.join(", ")}`, "response_format", "invalid_value");
  }
  const temperatureText = one("temperature");
  const temperature = temperatureText === "" ? 0 : Number(temperatureText);
  if (!(temperature >= 0 && temperature <= 1)) throw new OpenAiRequestError(400, "temperature must be a number from 0 to 1", "temperature", "invalid_value");
  const granularities = [...(parsed.fields.get("timestamp_granularities[]") ?? []), ...(parsed.fields.get("timestamp_granularities") ?? [])];
  for (const g of granularities) {
    if (g !== "word" && g !== "segment") throw new OpenAiRequestError(400, "timestamp_granularities[] takes word and segment", "timestamp_granularities", "invalid_value");
  }
  if (granularities.length > 0 && responseFormat !== "verbose_json") {
    throw new OpenAiRequestError(400, "timestamp_granularities[] needs response_format verbose_json", "timestamp_granularities", "invalid_value");
  }
  const include = [...(parsed.fields.get("include[]") ?? []), ...(parsed.fields.get("include") ?? [])];
  if (include.length > 0) throw new OpenAiRequestError(400, "include[] (logprobs) is not served: these models report a confidence per segment, in verbose_json", "include", "unsupported_value");
  const stream = one("stream");
  if (stream !== "" && stream !== "true" && stream !== "false") throw new OpenAiRequestError(400, "stream must be true or false", "stream", "invalid_value");
  return {
    file: parsed.file,
    model,
    language: one("language"),
    responseFormat,
    temperature,
    // OpenAI's default granularity is the segment; words only when asked for.
    words: granularities.includes("word"),
    segments: granularities.length === 0 || granularities.includes("segment"),
    stream: stream === "true",
  };
}

async function transcriptions(req: IncomingMessage, res: ServerResponse, ctx: TranscriptionContext): Promise<void> {
  const form = formOf(await parseForm(req, { maxFileBytes: ctx.maxFileBytes, maxFields: 32, maxFieldBytes: 64 * 1024 }));
  const gone = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) gone.abort();
  };
  res.on("close", onClose);
  try {
    const transcription = await transcribe(
      ctx.clients,
      { file: form.file, model: form.model, language: form.language },
      { headers: ctx.headers, signal: gone.signal, maxJobWaitMs: ctx.maxJobWaitMs },
    );
    if (form.stream) {
      res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store", "x-request-id": ctx.requestId });
      for (const event of streamEvents(transcription)) res.write(event);
      res.end();
      return;
    }
    const rendered = render(transcription, form.responseFormat, { words: form.words, segments: form.segments, temperature: form.temperature });
    res.writeHead(200, { "Content-Type": rendered.contentType, "Cache-Control": "no-store", "x-request-id": ctx.requestId }).end(rendered.body);
  } finally {
    res.off("close", onClose);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", "x-request-id": requestId }).end(JSON.stringify(body));
}
