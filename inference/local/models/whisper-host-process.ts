// The parent's side of the whisper.cpp child process (whisper-host.ts): forks it, speaks its IPC
// messages, and reports how it ended. One WhisperHost is one process holding one loaded model;
// the whisper model (whisper.ts) starts another when this one crashes or must be ended.
import { fork, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Logger } from "../../logger.js";
import type { HostReply, HostRequest, HostSegment } from "./whisper-host.js";

const HOST_URL = new URL(import.meta.url.endsWith(".ts") ? "./whisper-host.ts" : "./whisper-host.js", import.meta.url);

export interface HostExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** True when the parent ended it. */
  killed: boolean;
}


/** One whisper.cpp process holding one loaded model. */
export class WhisperHost {
  private readonly child: ChildProcess;
  private stderr = "";
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (s: { segments: HostSegment[]; ms: number }) => void; reject: (e: Error) => void }>();
  private loadWaiter?: { resolve: (ms: number) => void; reject: (e: Error) => void };
  private killedByUs = false;
  readonly exited: Promise<HostExit>;

  constructor(private readonly logger: Logger) {
    const execArgv: string[] = [];
    if (HOST_URL.pathname.endsWith(".ts")) {
      const tsx = createRequire(import.meta.url).resolve("tsx");
      execArgv.push("--import", pathToFileURL(tsx).href);
    }
    this.child = fork(fileURLToPath(HOST_URL), [], {
      execArgv,
      serialization: "advanced",
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const onOutput = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      this.stderr = (this.stderr + text).slice(-8192);
      for (const line of text.split("\n")) if (line.trim()) this.logger.debug({ whisper_cpp: line.trim() }, "whisper.cpp");
    };
    this.child.stdout?.on("data", onOutput);
    this.child.stderr?.on("data", onOutput);
    this.child.on("message", (msg: HostReply) => this.onMessage(msg));
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        const exit: HostExit = { code, signal, stderr: this.stderr, killed: this.killedByUs };
        const err = new Error(`whisper runtime process exited (${signal ?? `code ${code}`})${lastLines(this.stderr)}`);
        this.loadWaiter?.reject(err);
        this.loadWaiter = undefined;
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        resolve(exit);
      });
    });
    this.child.on("error", (err) => this.logger.warn({ err }, "whisper runtime process error"));
  }

  private onMessage(msg: HostReply): void {
    if (msg.op === "loaded") {
      this.loadWaiter?.resolve(msg.ms);
      this.loadWaiter = undefined;
    } else if (msg.op === "load-failed") {
      this.loadWaiter?.reject(new Error(`${msg.message}${lastLines(this.stderr)}`));
      this.loadWaiter = undefined;
    } else if (msg.op === "result" || msg.op === "failed") {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.op === "result") p.resolve({ segments: msg.segments, ms: msg.ms });
      else p.reject(new Error(`whisper.cpp: ${msg.message}`));
    }
  }

  private send(msg: HostRequest): void {
    this.child.send(msg);
  }

  load(file: string, timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`loading took longer than ${Math.round(timeoutMs / 1000)} s`));
        this.kill();
      }, timeoutMs);
      this.loadWaiter = {
        resolve: (ms) => {
          clearTimeout(timer);
          resolve(ms);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.send({ op: "load", file });
    });
  }

  transcribe(pcm: Float32Array, params: Extract<HostRequest, { op: "transcribe" }>["params"]): Promise<{ segments: HostSegment[]; ms: number }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.send({ op: "transcribe", id, pcm, params });
      } catch (err) {
        this.pending.delete(id);
        reject(err as Error);
      }
    });
  }

  kill(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.killedByUs = true;
    this.child.kill("SIGKILL");
  }
}

/** The last `n` informative lines of the runtime's output, to end an error message with. */
export function lastLines(stderr: string, n = 6): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^whisper_(model_load|init_state|print_timings):\s+\S+\s+=|^ggml_gallocr/.test(l));
  return lines.length ? `: ${lines.slice(-n).join(" | ")}` : "";
}
