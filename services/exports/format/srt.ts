// SubRip: numbered cues, "HH:MM:SS,mmm --> HH:MM:SS,mmm", the text, a blank line. UTF-8 without a byte
// order mark, LF line ends (every current player and ffmpeg read both). SubRip has no escaping: "<i>" in
// the text is markup to most players, as it would be in any SubRip file.

import { markRightToLeftLine } from "./bidi.js";
import type { ExportTranscript } from "./export-transcript.js";
import type { ResolvedExportOptions } from "./export-options.js";
import { buildSubtitleCues, cueLayout } from "./subtitle-cues.js";
import { formatCueTime } from "./timecode.js";

export function renderSrt(transcript: ExportTranscript, options: ResolvedExportOptions): string {
  const cues = buildSubtitleCues(transcript, cueLayout(options, true));
  return cues
    .map((cue, i) => {
      const lines = options.addRtlMarks ? cue.lines.map(markRightToLeftLine) : cue.lines;
      return `${i + 1}\n${formatCueTime(cue.startMs, ",")} --> ${formatCueTime(cue.endMs, ",")}\n${lines.join("\n")}\n`;
    })
    .join("\n");
}
