// The TypeScript example: `stream FILE.wav` (live recognition) or `batch FILE` (a batch job), against the
// API at ARABICSTT_URL with the key in ARABICSTT_API_KEY. Run from the repository root:
//   ARABICSTT_API_KEY=sk_… npx tsx docs/examples/typescript/main.ts stream call.wav [--model NAME]
import { ConnectError } from "@connectrpc/connect";
import { SpeechService } from "../../../proto/gen/arabicstt/v1/speech_pb.js";
import { clientFactory, settingsFromEnv } from "./client.js";
import { streamFile } from "./stream.js";
import { transcribeFile } from "./batch.js";

const USAGE = "usage: main.ts stream FILE.wav [--model NAME] | batch FILE [--model NAME]";

async function main(args: string[]): Promise<void> {
  const [command, file, flag, model = ""] = args;
  if (!file || (flag !== undefined && flag !== "--model") || (command !== "stream" && command !== "batch")) throw new Error(USAGE);
  const client = clientFactory(settingsFromEnv());
  const print = (line: string) => console.log(line);
  if (command === "stream") await streamFile(client(SpeechService), file, model, print);
  else await transcribeFile(client, file, model, print);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // The server's message names the field or the state at fault; the request id is what to quote.
  const requestId = err instanceof ConnectError ? err.metadata.get("x-request-id") : null;
  console.error(err instanceof Error ? err.message : String(err), requestId ? `(request id ${requestId})` : "");
  process.exit(1);
});
