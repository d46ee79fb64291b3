// Child process that owns the whisper.cpp runtime (smart-whisper) for the local `whisper` model.
// whisper.cpp can abort the process (GGML_ASSERT) or dereference null on a bad file, and a
// running whisper_full() cannot be interrupted through smart-whisper; hosting it in a child
// keeps the sidecar (and `npm start`, which runs the sidecar in-process) alive through either,
// and lets the parent cancel a long decode by ending this process. The parent (whisper.ts)
// forks this file with tsx and speaks the messages below over the IPC channel (advanced
// serialization, so Float32Array audio travels as-is). One request at a time: the parent
// serializes; this process runs whatever it is sent in order.
import type { TranscribeParams } from "smart-whisper";

/** Parent → host. */
export type HostRequest =
  | { op: "load"; file: string }
  | { op: "transcribe"; id: number; pcm: Float32Array; params: Partial<TranscribeParams<"detail", true>> };

/** One token of a detailed result: id, probability, times in ms (whisper.cpp centiseconds × 10). */
export interface HostToken {
  id: number;
  text: string;
  p: number;
  from?: number;
  to?: number;
}

export interface HostSegment {
  from: number;
  to: number;
  text: string;
  lang: string;
  confidence: number;
  tokens: HostToken[];
}

/** Host → parent. */
export type HostReply =
  | { op: "loaded"; ms: number }
  | { op: "load-failed"; message: string }
  | { op: "result"; id: number; segments: HostSegment[]; ms: number }
  | { op: "failed"; id: number; message: string };

type SmartWhisper = typeof import("smart-whisper");

function send(msg: HostReply): void {
  process.send?.(msg);
}

async function main(): Promise<void> {
  if (!process.send) {
    process.stderr.write("whisper-host: must be started by the sidecar with an IPC channel\n");
    process.exit(2);
  }
  // The parent going away (crash, kill) closes the channel: nothing left to serve.
  process.on("disconnect", () => process.exit(0));

  let sw: SmartWhisper | undefined;
  let model: InstanceType<SmartWhisper["WhisperModel"]> | undefined;
  let chain = Promise.resolve();

  const handle = async (msg: HostRequest): Promise<void> => {
    if (msg.op === "load") {
      const t0 = performance.now();
      try {
        sw ??= (await import("smart-whisper")) as SmartWhisper;
      } catch (err) {
        send({ op: "load-failed", message: `the smart-whisper native addon cannot be loaded: ${(err as Error).message}` });
        return;
      }
      try {
        model = await sw.WhisperModel.load(msg.file, false);
        send({ op: "loaded", ms: performance.now() - t0 });
      } catch (err) {
        send({ op: "load-failed", message: (err as Error).message });
      }
      return;
    }
    if (msg.op === "transcribe") {
      if (!sw || !model) {
        send({ op: "failed", id: msg.id, message: "no model loaded" });
        return;
      }
      const t0 = performance.now();
      try {
        const task = await sw.TranscribeTask.run<"detail", true>(model, msg.pcm, { ...msg.params, format: "detail" });
        const result = (await task.result) as unknown;
        // smart-whisper resolves (not rejects) with the Error when whisper_full fails.
        if (result instanceof Error || !Array.isArray(result)) {
          throw result instanceof Error ? result : new Error("whisper_full returned no segments");
        }
        send({ op: "result", id: msg.id, segments: result as HostSegment[], ms: performance.now() - t0 });
      } catch (err) {
        send({ op: "failed", id: msg.id, message: (err as Error).message });
      }
    }
  };

  process.on("message", (msg: HostRequest) => {
    chain = chain.then(() => handle(msg));
  });
}

void main();
