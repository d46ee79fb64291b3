// How `arabicstt live` shows a stream: a partial result rewrites one line on stderr (on a terminal only),
// a final clears it and goes to stdout as a line of its own, a keypad press is a line on stderr. Lines of
// Arabic are isolated right to left where they reach a terminal (io.ts).
import { durationMs } from "@bufbuild/protobuf/wkt";
import { SpeechEventType, type StreamingRecognizeResponse } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { note, printLine, StatusLine, type Io } from "./io.js";

export class LiveOutput {
  private readonly partial: StatusLine;

  /** `channelled`: results carry a channel each (`--separate-channels` on multi-channel audio); lines say which. */
  constructor(
    private readonly io: Io,
    private readonly channelled: boolean,
  ) {
    this.partial = new StatusLine(io.stderr);
  }

  response(res: StreamingRecognizeResponse): void {
    for (const result of res.results) {
      const text = result.alternatives[0]?.transcript ?? "";
      const prefix = this.channelled ? `[${result.channelTag}] ` : "";
      if (result.isFinal) {
        this.partial.clear();
        if (text) printLine(this.io, `${prefix}${text}`);
      } else {
        this.partial.show(`… ${prefix}${text}`);
      }
    }
    const event = res.speechEvent;
    if (event?.type === SpeechEventType.DTMF) {
      this.partial.clear();
      const at = ((event.offset ? durationMs(event.offset) : 0) / 1000).toFixed(2);
      note(this.io, `key ${event.dtmfDigit} at ${at} s${this.channelled ? ` on channel ${event.channelTag}` : ""}`);
    }
  }

  /** Clears a partial still drawn, so the shell's prompt starts on a clean line. */
  end(): void {
    this.partial.clear();
  }
}
