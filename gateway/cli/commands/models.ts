// `arabicstt models`: the recognition models the server serves (SpeechService.ListModels), with what each
// accepts, so a user can pick `--model` for `transcribe` and `live`.
import { create, toJson } from "@bufbuild/protobuf";
import { ListModelsResponseSchema, ModelState, SpeechService, type Model } from "../../../proto/gen/arabicstt/v1/speech_pb.js";
import { stringOption, type Command } from "../command.js";
import { printTable } from "../io.js";

/** The most pages read: 200 models a page is far more than any server serves. */
const MAX_PAGES = 20;

export const models: Command = {
  name: "models",
  summary: "list the recognition models and their languages",
  usage: "arabicstt models [--language CODE]",
  help: `Lists the models --model may name, with their readiness, whether they serve live and batch
recognition, and their language tags. The default model is marked with *.

Options:
  --language CODE        only the models that serve this language (e.g. ar, ar-EG)`,
  options: {
    language: { type: "string" },
  },
  async run(ctx, values) {
    const speech = ctx.connection.client(SpeechService);
    const all: Model[] = [];
    let pageToken = "";
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await speech.listModels({ languageCode: stringOption(values, "language") ?? "", pageSize: 200, pageToken });
      all.push(...res.models);
      pageToken = res.nextPageToken;
      if (!pageToken) break;
    }
    if (ctx.json) {
      ctx.io.stdout.write(`${JSON.stringify(toJson(ListModelsResponseSchema, create(ListModelsResponseSchema, { models: all })))}\n`);
      return;
    }
    printTable(
      ctx.io,
      ["MODEL", "STATE", "LIVE", "BATCH", "LANGUAGES", "NAME"],
      all.map((m) => [
        `${m.name}${m.isDefault ? " *" : ""}`,
        (ModelState[m.state] ?? "UNSPECIFIED").toLowerCase(),
        m.supportsStreaming ? "yes" : "no",
        m.supportsBatch ? "yes" : "no",
        m.languageCodes.join(",") || "-",
        m.displayName,
      ]),
    );
  },
};
