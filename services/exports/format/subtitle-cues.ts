// Cutting a transcript into subtitle cues, shared by SRT and WebVTT.
//
// A segment is cut at word boundaries only, never inside a word. Words join a cue while they still fit in
// its lines (filled greedily) and keep it on screen no longer than the maximum; the next word starts a new
// cue. The cue's words are then broken into that many lines as evenly as possible. A word longer than a
// line gets a line of its own; a word longer than the maximum duration gets a cue of its own, cut short at
// the maximum.
//
// Cue times come from the words' times when the segment has them and they match its text word for word
// (same number of words: the recogniser's words may lack punctuation that post-processing added). When
// they do not (the text was edited, or there are no words), the segment's time is shared out over its words
// in proportion to their length, which is what a reader's eye does too.

import { collapseWhitespace, segmentsToShow, speakerName, type ExportSegment, type ExportTranscript } from "./export-transcript.js";
import type { ResolvedExportOptions } from "./export-options.js";
import { toMilliseconds } from "./timecode.js";

export interface SubtitleCue {
  startMs: number;
  endMs: number;
  /** The speaker's name, or null when unknown or when speakers are not shown. */
  speaker: string | null;
  /** Plain text, not yet escaped or marked for the format; the first line holds the speaker prefix if any. */
  lines: string[];
}

export interface CueLayout {
  maxLineLength: number;
  maxLinesPerCue: number;
  maxCueDurationMs: number;
  /** Whether the speaker's name goes into the text ("الوكيل: …", SubRip) or only into `speaker` (WebVTT voices). */
  speakerInText: boolean;
  includeSpeakers: boolean;
}

export function cueLayout(options: ResolvedExportOptions, speakerInText: boolean): CueLayout {
  return {
    maxLineLength: options.maxLineLength,
    maxLinesPerCue: options.maxLinesPerCue,
    maxCueDurationMs: toMilliseconds(options.maxCueDurationSeconds),
    speakerInText,
    includeSpeakers: options.includeSpeakers,
  };
}

/** The transcript's cues in order of start time: cues of overlapping segments (two channels) interleave. */
export function buildSubtitleCues(transcript: ExportTranscript, layout: CueLayout): SubtitleCue[] {
  return segmentsToShow(transcript)
    .flatMap((segment) => cutSegment(segment, layout.includeSpeakers ? speakerName(transcript, segment) : null, layout))
    .sort((a, b) => a.startMs - b.startMs);
}

interface TimedWord {
  text: string;
  startMs: number;
  endMs: number;
}

function cutSegment(segment: ExportSegment, speaker: string | null, layout: CueLayout): SubtitleCue[] {
  const prefix = speaker !== null && layout.speakerInText ? `${speaker}: ` : "";
  const fitsOneCue = (words: TimedWord[]) =>
    words[words.length - 1]!.endMs - words[0]!.startMs <= layout.maxCueDurationMs &&
    fillLines(words.map((word) => word.text), prefix, layout.maxLineLength).length <= layout.maxLinesPerCue;
  const groups: TimedWord[][] = [];
  let group: TimedWord[] = [];
  for (const word of timedWords(segment)) {
    if (group.length > 0 && !fitsOneCue([...group, word])) {
      groups.push(group);
      group = [];
    }
    group.push(word);
  }
  if (group.length > 0) groups.push(group);

  return groups.map((words) => {
    const startMs = words[0]!.startMs;
    const endMs = Math.min(Math.max(...words.map((word) => word.endMs)), startMs + layout.maxCueDurationMs);
    return { startMs, endMs, speaker, lines: balanceLines(words.map((word) => word.text), prefix, layout.maxLineLength) };
  });
}

/** Fills lines greedily: the fewest lines the words fit in. */
function fillLines(words: string[], prefix: string, maxLineLength: number): string[] {
  const lines: string[] = [];
  for (const word of words) {
    const last = lines[lines.length - 1];
    if (last !== undefined && displayLength(last) + 1 + displayLength(word) <= maxLineLength) {
      lines[lines.length - 1] = `${last} ${word}`;
    } else {
      lines.push(last === undefined ? `${prefix}${word}` : word);
    }
  }
  return lines;
}

/**
 * The words in as many lines as greedy filling needs, broken where the longest line is shortest, so a cue
 * reads as two even lines rather than a full line over a lone word. Of equally good breaks, the one with
 * the shorter top line wins (a bottom-heavy cue covers less of the picture).
 */
function balanceLines(words: string[], prefix: string, maxLineLength: number): string[] {
  const lineCount = fillLines(words, prefix, maxLineLength).length;
  const lineOf = (from: number, to: number) => `${from === 0 ? prefix : ""}${words.slice(from, to).join(" ")}`;
  const best = (from: number, lines: number): { breaks: number[]; longest: number } => {
    if (lines === 1) return { breaks: [], longest: displayLength(lineOf(from, words.length)) };
    let choice: { breaks: number[]; longest: number } | null = null;
    for (let to = from + 1; to <= words.length - (lines - 1); to += 1) {
      const rest = best(to, lines - 1);
      const longest = Math.max(displayLength(lineOf(from, to)), rest.longest);
      if (choice === null || longest < choice.longest) choice = { breaks: [to, ...rest.breaks], longest };
    }
    return choice!;
  };
  const bounds = [0, ...best(0, lineCount).breaks, words.length];
  return bounds.slice(1).map((to, i) => lineOf(bounds[i]!, to));
}

function timedWords(segment: ExportSegment): TimedWord[] {
  const texts = collapseWhitespace(segment.text).split(" ");
  const words = segment.words ?? [];
  if (words.length === texts.length) {
    return texts.map((text, i) => ({ text, startMs: toMilliseconds(words[i]!.start), endMs: toMilliseconds(words[i]!.end) }));
  }
  return spreadOverSegment(texts, toMilliseconds(segment.start), toMilliseconds(segment.end));
}

/** Shares [startMs, endMs] out over the words in proportion to their length (each with its following space). */
function spreadOverSegment(texts: string[], startMs: number, endMs: number): TimedWord[] {
  const weights = texts.map((text) => displayLength(text) + 1);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const duration = Math.max(0, endMs - startMs);
  let before = 0;
  return texts.map((text, i) => {
    const wordStart = startMs + Math.round((duration * before) / total);
    before += weights[i]!;
    return { text, startMs: wordStart, endMs: startMs + Math.round((duration * before) / total) };
  });
}

const graphemes = new Intl.Segmenter("ar", { granularity: "grapheme" });

/** Characters as a reader counts them: a letter with its diacritics (harakat, shadda) is one. */
export function displayLength(text: string): number {
  let count = 0;
  for (const _ of graphemes.segment(text)) count += 1;
  return count;
}
