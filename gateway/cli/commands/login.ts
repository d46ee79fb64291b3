// `arabicstt login`: an email and password become an access and refresh token pair saved in the profile, or
// an API key is saved in their place. `arabicstt logout` revokes the refresh token and forgets the profile.
import { StringDecoder } from "node:string_decoder";
import { toJson } from "@bufbuild/protobuf";
import { AuthService, LoginResponseSchema } from "../../../proto/gen/arabicstt/v1/auth_pb.js";
import { stringOption, type Command, type Context } from "../command.js";
import { UsageError } from "../errors.js";
import { note } from "../io.js";

/** The longest password read from stdin (the API's limit is 128 characters). */
const MAX_PASSWORD_BYTES = 1024;

export const login: Command = {
  name: "login",
  summary: "log in with an email and password, or save an API key",
  usage: "arabicstt login --email EMAIL [--organization ID] | arabicstt login --api-key KEY",
  help: `Saves credentials for the next commands in $XDG_CONFIG_HOME/arabicstt/config.json (else
~/.config/arabicstt/config.json), readable by you only, for the server given with --server.

The password is read from the terminal without echo, or from the first line of standard input when that
is not a terminal (printf '%s\\n' "$PASSWORD" | arabicstt login --email me@example.com). There is no
--password option: it would show in the process list.

With --api-key KEY (or ARABICSTT_API_KEY) the key is saved instead of tokens. Programs can also skip
login and pass --api-key or ARABICSTT_API_KEY on every command.

Options:
  --email EMAIL          the account's address
  --organization ID      the organisation to log in to, when the account belongs to several`,
  options: {
    email: { type: "string" },
    organization: { type: "string" },
  },
  async run(ctx, values) {
    const email = stringOption(values, "email");
    const apiKey = stringOption(values, "api-key") ?? ctx.env.ARABICSTT_API_KEY;
    if (!email) {
      if (!apiKey) throw new UsageError("login needs --email, or --api-key (or ARABICSTT_API_KEY)", "login");
      await ctx.store.save({ server: ctx.connection.server, apiKey });
      note(ctx.io, `saved the API key for ${ctx.connection.server} in ${ctx.store.path}`);
      return;
    }
    const password = await readPassword(ctx);
    if (!password) throw new UsageError("no password given", "login");
    const res = await ctx.connection.client(AuthService).login({ email, password, organizationId: stringOption(values, "organization") ?? "" });
    if (!res.tokens) throw new Error("the server answered Login without tokens");
    await ctx.connection.keepTokens(res.tokens, { email, organizationId: res.organization?.organizationId });
    if (ctx.json) {
      // The tokens stay in the profile: output is often logged.
      ctx.io.stdout.write(`${JSON.stringify(toJson(LoginResponseSchema, { ...res, tokens: undefined }))}\n`);
    }
    note(ctx.io, `logged in as ${email} to ${res.organization?.name ?? "?"} (${res.organization?.organizationId ?? "?"}) on ${ctx.connection.server}`);
  },
};

export const logout: Command = {
  name: "logout",
  summary: "revoke the saved login and forget it",
  usage: "arabicstt logout",
  help: "Revokes the saved refresh token on the server (when there is one) and removes the saved profile.",
  options: {},
  async run(ctx) {
    const saved = await ctx.connection.savedProfile();
    if (saved?.refreshToken) await ctx.connection.client(AuthService).logout({ refreshToken: saved.refreshToken });
    await ctx.store.remove();
    note(ctx.io, `logged out; removed ${ctx.store.path}`);
  },
};

/** The password: typed without echo on a terminal, else the first line of stdin. */
async function readPassword(ctx: Context): Promise<string> {
  const { stdin, stderr } = ctx.io;
  if (stdin.isTTY && stdin.setRawMode) {
    stderr.write("password: ");
    stdin.setRawMode(true);
    try {
      return await readLine(stdin, true);
    } finally {
      stdin.setRawMode(false);
      stderr.write("\n");
    }
  }
  return readLine(stdin, false);
}

/** Reads up to the first newline (or the end), bounded; in raw mode Ctrl-C aborts and backspace erases. */
function readLine(stdin: NodeJS.ReadableStream, raw: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    // A read may end inside a character (a pipe cuts anywhere; an Arabic letter is two bytes in UTF-8).
    const decoder = new StringDecoder("utf8");
    const done = (value: string | Error) => {
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      stdin.pause();
      if (value instanceof Error) reject(value);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of typeof chunk === "string" ? chunk : decoder.write(chunk)) {
        if (ch === "\n" || ch === "\r") return done(text);
        if (raw && ch === "\u0003") return done(new UsageError("login cancelled", "login"));
        if (raw && (ch === "\u007f" || ch === "\b")) text = text.slice(0, -1);
        else text += ch;
        if (text.length > MAX_PASSWORD_BYTES) return done(new UsageError("the password is too long", "login"));
      }
    };
    const onEnd = () => done(text + decoder.end());
    stdin.on("data", onData);
    stdin.on("end", onEnd);
    stdin.resume();
  });
}
