// WebVTT: the "WEBVTT" header, then numbered cues "HH:MM:SS.mmm --> HH:MM:SS.mmm". The speaker is a voice
// span (`<v الوكيل>`), which players may show or style and which keeps the name out of the line length.
// "&", "<" and ">" in text and voice names are written as character references, so that no text reads
// as a tag and no cue text holds "-->".

import { markRightToLeftLine } from "./bidi.js";
import type { ExportTranscript } from "./export-transcript.js";
import type { ResolvedExportOptions } from "./export-options.js";
import { buildSubtitleCues, cueLayout } from "./subtitle-cues.js";
import { formatCueTime } from "./timecode.js";

export function renderVtt(transcript: ExportTranscript, options: ResolvedExportOptions): string {
  const cues = buildSubtitleCues(transcript, cueLayout(options, false));
  const blocks = cues.map((cue, i) => {
    const lines = cue.lines.map((line) => {
      const escaped = escapeVttText(line);
      return options.addRtlMarks ? markRightToLeftLine(escaped) : escaped;
    });
    if (cue.speaker !== null) lines[0] = `<v ${escapeVttText(cue.speaker)}>${lines[0]}`;
    return `${i + 1}\n${formatCueTime(cue.startMs, ".")} --> ${formatCueTime(cue.endMs, ".")}\n${lines.join("\n")}\n`;
  });
  return ["WEBVTT\n", ...blocks].join("\n");
}

export function escapeVttText(text: string): string {
  return text.replace(/&/gu, "&amp;").replace(/</gu, "&lt;").replace(/>/gu, "&gt;");
}
