// A Word document: the title, a line of facts about the recording, then one right-to-left paragraph per
// segment: "[hh:mm:ss] " and the speaker's name in bold, then the text.
//
// Every paragraph is bidirectional (w:bidi), so it starts on the right and lays out right to left. Runs
// holding Arabic letters are marked right-to-left (w:rtl), which makes Word shape them with the complex
// script font and size; runs without (a time, a Latin speaker label) are not, since w:rtl on Latin text
// makes Word reorder its punctuation. Arial, set for every script, has Arabic letters on Windows and
// macOS; elsewhere the reader's font fallback supplies them. The complex-script (w:bidi) language is the
// transcript's Arabic dialect when it names a region, else ar-SA, so that proofing uses Arabic; the Latin
// language is left to the reader's Word.

import { Document, HeadingLevel, Packer, Paragraph, TextRun } from "docx";
import { hasRightToLeftText } from "./bidi.js";
import { collapseWhitespace, segmentsToShow, speakerName, type ExportTranscript } from "./export-transcript.js";
import type { ResolvedExportOptions } from "./export-options.js";
import { formatClock } from "./timecode.js";

const FONT = { ascii: "Arial", hAnsi: "Arial", cs: "Arial", eastAsia: "Arial" };
/** Half-points: 12 pt. */
const BODY_SIZE = 24;

export async function renderDocx(transcript: ExportTranscript, options: ResolvedExportOptions): Promise<Uint8Array> {
  const title = transcript.title ?? transcript.id;
  const language = documentLanguage(transcript.language);
  const document = new Document({
    title,
    styles: {
      default: {
        document: { run: { font: FONT, size: BODY_SIZE, sizeComplexScript: BODY_SIZE, language: { bidirectional: language } } },
      },
    },
    sections: [
      {
        children: [
          new Paragraph({ heading: HeadingLevel.TITLE, bidirectional: true, children: [run(title)] }),
          new Paragraph({ bidirectional: true, spacing: { after: 240 }, children: [run(metadataLine(transcript))] }),
          ...segmentsToShow(transcript).map((segment) => {
            const speaker = options.includeSpeakers ? speakerName(transcript, segment) : null;
            const children: TextRun[] = [];
            if (options.includeTimestamps) children.push(run(`[${formatClock(segment.start)}] `, { color: "666666" }));
            if (speaker !== null) children.push(run(`${speaker}: `, { bold: true, boldComplexScript: true }));
            children.push(run(collapseWhitespace(segment.text)));
            return new Paragraph({ bidirectional: true, spacing: { after: 120 }, children });
          }),
        ],
      },
    ],
  });
  return new Uint8Array(await Packer.toBuffer(document));
}

/** "اللغة: ar-EG · المدة: 00:12:04 · المتحدثون: 2 · القنوات: 2" */
export function metadataLine(transcript: ExportTranscript): string {
  return [
    `اللغة: ${transcript.language}`,
    `المدة: ${formatClock(transcript.durationSeconds)}`,
    `المتحدثون: ${transcript.speakers.length}`,
    `القنوات: ${transcript.channels}`,
  ].join(" · ");
}

function run(text: string, style: { bold?: boolean; boldComplexScript?: boolean; color?: string } = {}): TextRun {
  return new TextRun({ text, ...(hasRightToLeftText(text) ? { rightToLeft: true } : {}), ...style });
}

function documentLanguage(language: string): string {
  return /^ar-[a-z]{2}$/iu.test(language) ? `ar-${language.slice(3).toUpperCase()}` : "ar-SA";
}
