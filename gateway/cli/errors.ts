// How the CLI fails: one line on stderr that a person can quote (the code, the message, the request id the
// gateway echoed), and an exit status a script can branch on.
import { Code, ConnectError } from "@connectrpc/connect";

/** The header the gateway echoes the request id in (gateway/interceptors/request-context.ts). */
export const REQUEST_ID_HEADER = "x-request-id";

/** Exit statuses: 0 success; these otherwise. */
export const EXIT = {
  /** An RPC failed, a job failed, a file could not be read or written. */
  failure: 1,
  /** The command line is wrong: unknown command or option, a missing argument. */
  usage: 2,
  /** Interrupted (SIGINT), as shells report 128 + 2. */
  interrupted: 130,
} as const;

/** A wrong command line: the message, then a pointer to `--help`. */
export class UsageError extends Error {
  constructor(message: string, readonly command = "") {
    super(message);
  }
}

/** A failure that is not an RPC's (a job that failed, an HTTP upload refused), with the ids to quote. */
export class CliFailure extends Error {
  constructor(message: string, readonly code = "failed", readonly requestId = "") {
    super(message);
  }
}

/** `InvalidArgument` → `invalid_argument`, the spelling of the gRPC status names users search for. */
export function codeName(code: Code): string {
  return (Code[code] ?? "unknown").replace(/[A-Z]/g, (c, i: number) => (i ? "_" : "") + c.toLowerCase());
}

/** The one line an error becomes, and the exit status it ends the process with. */
export function describeFailure(err: unknown): { line: string; exitCode: number } {
  if (err instanceof UsageError) {
    const help = err.command ? `arabicstt ${err.command} --help` : "arabicstt --help";
    return { line: `arabicstt: ${oneLine(err.message)} (see ${help})`, exitCode: EXIT.usage };
  }
  if (err instanceof CliFailure) {
    const id = err.requestId ? ` (request id ${err.requestId})` : "";
    return { line: `arabicstt: error: ${err.code}: ${oneLine(err.message)}${id}`, exitCode: EXIT.failure };
  }
  if (err instanceof ConnectError) {
    const id = err.metadata.get(REQUEST_ID_HEADER);
    return { line: `arabicstt: error: ${codeName(err.code)}: ${oneLine(err.rawMessage)}${id ? ` (request id ${id})` : ""}`, exitCode: EXIT.failure };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { line: `arabicstt: error: ${oneLine(message)}`, exitCode: EXIT.failure };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, "; ").trim();
}
