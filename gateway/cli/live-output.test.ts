// What `arabicstt live` draws for each response, on a terminal and off one: partials rewrite one stderr line
// and are cleared by the final, finals are stdout lines isolated right to left on a terminal only, channels
// are named when recognised apart, keypad presses are stderr lines.
import { Readable, Writable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { SpeechEventType, StreamingRecognizeResponseSchema } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { LiveOutput } from "./live-output.js";
import type { Io, Output } from "./io.js";

function capture(tty: boolean): Output & { text(): string } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString("utf8");
      done();
    },
  });
  return Object.assign(stream, { isTTY: tty, columns: 80, text: () => text });
}

function io(tty: boolean) {
  const stdout = capture(tty);
  const stderr = capture(tty);
  const value: Io = { stdout, stderr, stdin: Readable.from([]) };
  return { io: value, stdout, stderr };
}

const result = (transcript: string, isFinal: boolean, channelTag = 1) =>
  create(StreamingRecognizeResponseSchema, { results: [{ alternatives: [{ transcript }], isFinal, channelTag }] });

describe("live output", () => {
  it("on a terminal: partials rewrite a line of stderr, the final clears it and is an isolated stdout line", () => {
    const t = io(true);
    const out = new LiveOutput(t.io, false);
    out.response(result("السلام", false));
    out.response(result("السلام عليكم", false));
    out.response(result("السلام عليكم 42", true));
    out.end();
    expect(t.stderr.text()).toBe("\r\x1b[2K\u2067… السلام\u2069\r\x1b[2K\u2067… السلام عليكم\u2069\r\x1b[2K");
    expect(t.stdout.text()).toBe("\u2067السلام عليكم 42\u2069\n");
  });

  it("off a terminal: no partials, finals as plain lines, keys on stderr", () => {
    const t = io(false);
    const out = new LiveOutput(t.io, false);
    out.response(result("مرحبا", false));
    out.response(result("مرحبا", true));
    out.response(create(StreamingRecognizeResponseSchema, { speechEvent: { type: SpeechEventType.DTMF, dtmfDigit: "5", offset: durationFromMs(1250) } }));
    out.end();
    expect(t.stdout.text()).toBe("مرحبا\n");
    expect(t.stderr.text()).toBe("key 5 at 1.25 s\n");
  });

  it("names the channel of each final when channels are recognised apart", () => {
    const t = io(false);
    const out = new LiveOutput(t.io, true);
    out.response(result("12", true, 1));
    out.response(result("34", true, 2));
    expect(t.stdout.text()).toBe("[1] 12\n[2] 34\n");
  });
});
