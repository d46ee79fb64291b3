// The `arabicstt` process (package.json `bin`, `npm run cli -- …`): the process's arguments, environment and
// streams handed to runCli, the exit status set from what it returns. The CLI's environment variables
// (ARABICSTT_SERVER, ARABICSTT_API_KEY, XDG_CONFIG_HOME, HOME) are read here and only here.
import { runCli } from "./cli.js";

const interrupted = new AbortController();
process.on("SIGINT", () => {
  // The first Ctrl-C lets the command finish what it has (a live stream's finals); the second ends it now.
  if (interrupted.signal.aborted) process.exit(130);
  interrupted.abort();
});

process.exitCode = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
  signal: interrupted.signal,
});
// Open keep-alive sockets of the HTTP/2 session must not hold the process once the command is done.
process.exit();
