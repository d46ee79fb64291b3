// `arabicstt`: the command line client of the public API, built on the generated clients in proto/gen.
// runCli takes everything from the outside as arguments (argv, environment, streams, a signal), so tests run
// it in-process against a platform; main.ts hands it the process's.
import { parseArgs } from "node:util";
import { Connection } from "./connection.js";
import type { Command, Context, Options, Values } from "./command.js";
import { describeFailure, UsageError } from "./errors.js";
import type { Io } from "./io.js";
import { ProfileStore } from "./profile.js";
import { jobs } from "./commands/jobs.js";
import { keys } from "./commands/keys.js";
import { live } from "./commands/live.js";
import { login, logout } from "./commands/login.js";
import { models } from "./commands/models.js";
import { transcribe } from "./commands/transcribe.js";

/** The gRPC listener of `npm start` on its embedded defaults. */
export const DEFAULT_SERVER = "http://127.0.0.1:50051";

const COMMANDS: Command[] = [login, logout, keys, models, transcribe, live, jobs];

const GLOBAL_OPTIONS: Options = {
  server: { type: "string" },
  "api-key": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

const GLOBAL_HELP = `Global options:
  --server URL           the gateway's gRPC listener (default: ARABICSTT_SERVER, else the server of
                         the saved login, else ${DEFAULT_SERVER}); https:// for TLS
  --api-key KEY          call with this API key (default: ARABICSTT_API_KEY, else the saved login)
  --json                 machine-readable results on stdout
  -h, --help             this help`;

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `arabicstt: Arabic speech-to-text from the command line

Usage: arabicstt COMMAND [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

${GLOBAL_HELP}

"arabicstt COMMAND --help" describes a command. Errors are one line on stderr with the status code and the
request id to quote; the exit status is 0 on success, 1 on a failure, 2 on a wrong command line.
`;
}

function commandHelp(command: Command): string {
  return `Usage: ${command.usage}\n\n${command.help}\n\n${GLOBAL_HELP}\n`;
}

export interface RunOptions {
  argv: string[];
  env: Readonly<Record<string, string | undefined>>;
  io: Io;
  /** Aborted on SIGINT. */
  signal?: AbortSignal;
}

/** Runs one command line; resolves to the exit status. Never throws: failures are one line on stderr. */
export async function runCli({ argv, env, io, signal = new AbortController().signal }: RunOptions): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout.write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  try {
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
    let values: Values;
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true }));
    } catch (err) {
      throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ""), command.name);
    }
    if (values.help) {
      io.stdout.write(commandHelp(command));
      return 0;
    }
    const store = new ProfileStore(env);
    const explicit = (values.server as string | undefined) ?? env.ARABICSTT_SERVER;
    const server = normaliseServer(explicit ?? (await store.load()).server ?? DEFAULT_SERVER);
    const ctx: Context = {
      io,
      env,
      json: values.json === true,
      store,
      signal,
      connection: new Connection(server, { flag: values["api-key"] as string | undefined, env: env.ARABICSTT_API_KEY, store }),
    };
    await command.run(ctx, values, positionals);
    return 0;
  } catch (err) {
    const { line, exitCode } = describeFailure(err);
    io.stderr.write(`${line}\n`);
    return signal.aborted ? 130 : exitCode;
  }
}

function normaliseServer(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--server ${JSON.stringify(text)} is not a URL (e.g. http://127.0.0.1:50051)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--server must be http:// or https:// (got ${url.protocol})`);
  return url.origin;
}
