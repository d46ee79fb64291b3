// Plain text: one line per segment, "[hh:mm:ss] Speaker: text", UTF-8 without a byte order mark. No bidi
// marks: the text stays exactly the transcript's, for search and for other programs, and a text editor
// lays out each Arabic line from its first letter.

import { collapseWhitespace, segmentsToShow, speakerName, type ExportTranscript } from "./export-transcript.js";
import type { ResolvedExportOptions } from "./export-options.js";
import { formatClock } from "./timecode.js";

export function renderTxt(transcript: ExportTranscript, options: ResolvedExportOptions): string {
  return segmentsToShow(transcript)
    .map((segment) => {
      const speaker = options.includeSpeakers ? speakerName(transcript, segment) : null;
      const time = options.includeTimestamps ? `[${formatClock(segment.start)}] ` : "";
      return `${time}${speaker === null ? "" : `${speaker}: `}${collapseWhitespace(segment.text)}\n`;
    })
    .join("");
}
