// `arabicstt live FILE|-`: StreamingRecognize from a file or stdin. Partials rewrite one line on stderr (on a
// terminal), finals go to stdout one a line, keypad presses (--dtmf) to stderr; with --json every response is
// one JSON line on stdout. The first Ctrl-C stops sending and waits for the finals of what was sent.
import { createReadStream } from "node:fs";
import { toJson } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { SpeechService, StreamingRecognizeResponseSchema, type StreamingRecognizeRequestSchema } from "../../../proto/gen/arabicstt/v1/speech_pb.js";
import { stringOption, type Command } from "../command.js";
import { UsageError } from "../errors.js";
import { LiveOutput } from "../live-output.js";
import { openAudio, pace, RAW_ENCODINGS, type RawFormat } from "../audio-source.js";

export const live: Command = {
  name: "live",
  summary: "stream a file or stdin to live recognition (StreamingRecognize)",
  usage: "arabicstt live FILE|- [--realtime|--fast] [--model NAME] [--language CODE] [--dtmf] [--separate-channels] [--encoding ENC --rate HZ [--channels N]]",
  help: `Streams audio to live recognition and prints what is recognised as it comes: partial results on
stderr, rewriting one line (on a terminal only), final results on stdout, one a line; with several
channels each final starts with its channel. On a terminal, Arabic lines are wrapped in Unicode
directional isolates so they read right to left. The first Ctrl-C stops sending; the finals of the
audio sent still come.

Input: a WAV file (16-bit PCM, μ-law or A-law; its header gives the rate and channels), FLAC or
Ogg/Opus (read by the server), or raw samples described with --encoding and --rate. "-" reads stdin:
  sox call.wav -t wav - | arabicstt live -
  arecord -f S16_LE -r 16000 -c 1 -t raw | arabicstt live - --encoding linear16 --rate 16000

Options:
  --realtime             send raw audio at the pace it plays (the default), as a live source does
  --fast                 send as fast as the server takes it
  --model NAME           the recognition model (default: the server's)
  --language CODE        the language tag (default: ar)
  --dtmf                 report keypad presses (on stderr, or as events with --json)
  --separate-channels    recognise each channel on its own
  --encoding ENC         headerless input: ${Object.keys(RAW_ENCODINGS).join(", ")}
  --rate HZ              headerless input: samples a second, 8000 to 48000
  --channels N           headerless input: channels (default 1)`,
  options: {
    realtime: { type: "boolean" },
    fast: { type: "boolean" },
    model: { type: "string" },
    language: { type: "string" },
    dtmf: { type: "boolean" },
    "separate-channels": { type: "boolean" },
    encoding: { type: "string" },
    rate: { type: "string" },
    channels: { type: "string" },
  },
  async run(ctx, values, positionals) {
    const [source, ...extra] = positionals;
    if (!source) throw new UsageError("live needs a FILE, or - for stdin", "live");
    if (extra.length > 0) throw new UsageError(`live takes one FILE (got also ${extra.join(" ")})`, "live");
    if (values.realtime && values.fast) throw new UsageError("give --realtime or --fast, not both", "live");
    const raw = rawFormat(values);
    const input = source === "-" ? (ctx.io.stdin as AsyncIterable<Uint8Array>) : createReadStream(source);
    const audio = await openAudio(input, raw).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new UsageError(`cannot read ${source}: no such file`, "live");
      throw err;
    });

    // The first SIGINT ends the audio; the request stream then half-closes and the server sends its finals.
    const stopSending = new AbortController();
    ctx.signal.addEventListener("abort", () => stopSending.abort(), { once: true });
    type Request = MessageInitShape<typeof StreamingRecognizeRequestSchema>;
    async function* requests(): AsyncGenerator<Request> {
      yield {
        streamingRequest: {
          case: "streamingConfig",
          value: {
            config: {
              encoding: audio.encoding,
              sampleRateHz: audio.sampleRateHz,
              audioChannelCount: audio.channels,
              separateRecognitionPerChannel: values["separate-channels"] === true,
              model: stringOption(values, "model") ?? "",
              languageCode: stringOption(values, "language") ?? "",
            },
            interimResults: true,
            dtmfEvents: values.dtmf === true,
          },
        },
      };
      for await (const chunk of pace(audio, values.fast !== true, stopSending.signal)) yield { streamingRequest: { case: "audioContent", value: chunk } };
    }

    const output = new LiveOutput(ctx.io, audio.channels > 1 && values["separate-channels"] === true);
    try {
      for await (const res of ctx.connection.client(SpeechService).streamingRecognize(requests())) {
        if (ctx.json) ctx.io.stdout.write(`${JSON.stringify(toJson(StreamingRecognizeResponseSchema, res))}\n`);
        else output.response(res);
      }
    } finally {
      output.end();
    }
  },
};

function rawFormat(values: Record<string, unknown>): RawFormat | undefined {
  const encodingText = values.encoding as string | undefined;
  const rateText = values.rate as string | undefined;
  const channelsText = (values.channels as string | undefined) ?? "1";
  if (encodingText === undefined && rateText === undefined && values.channels === undefined) return undefined;
  const spec = encodingText ? RAW_ENCODINGS[encodingText.toLowerCase()] : undefined;
  if (!spec) throw new UsageError(`--encoding is one of ${Object.keys(RAW_ENCODINGS).join(", ")}`, "live");
  if (!rateText || !/^\d{4,5}$/.test(rateText) || Number(rateText) < 8000 || Number(rateText) > 48000) throw new UsageError("--rate takes samples a second from 8000 to 48000", "live");
  if (!/^[1-8]$/.test(channelsText)) throw new UsageError("--channels takes 1 to 8", "live");
  return { encoding: spec.encoding, sampleRateHz: Number(rateText), channels: Number(channelsText) };
}
