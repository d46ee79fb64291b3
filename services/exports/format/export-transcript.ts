// What an export is rendered from: a transcript as the reader sees it, with speakers already named.
// Plain data, so the renderers need no database; the export service builds it from the Transcript,
// Segment and Speaker entities (milliseconds there become seconds here).

/** A recognised word with its timing. */
export interface ExportWord {
  word: string;
  /** Seconds from the start of the audio. */
  start: number;
  /** Seconds from the start of the audio. */
  end: number;
  /** 0.0 to 1.0, when the recogniser gave one. */
  confidence?: number;
}

/** A voice in the transcript. */
export interface ExportSpeaker {
  /** The label segments refer to ("S1", "1"…), as diarization named it (Speaker.label). */
  id: string;
  /** What exports show: the display name given with RenameSpeaker, or else the label. */
  label: string;
  /** The channel the speaker was heard on (1 to the channel count), when channels were recognised separately. */
  channel?: number;
}

/** One utterance of one speaker on one channel. */
export interface ExportSegment {
  /** Seconds from the start of the audio. */
  start: number;
  /** Seconds from the start of the audio. */
  end: number;
  /** In logical order; the text of record, edits included. */
  text: string;
  /** An `ExportSpeaker.id`; absent when the speaker is unknown. */
  speakerId?: string;
  /** 1 to the channel count. */
  channel?: number;
  /** 0.0 to 1.0. */
  confidence?: number;
  words?: ExportWord[];
  /** The recogniser's runner-up texts (a job's max_alternatives), most probable first; only the JSON export shows them. */
  alternatives?: string[];
}

export interface ExportTranscript {
  id: string;
  /** Shown as the DOCX heading; the id when absent. */
  title?: string;
  /** BCP-47, e.g. "ar", "ar-EG". */
  language: string;
  durationSeconds: number;
  /** Number of audio channels. */
  channels: number;
  speakers: ExportSpeaker[];
  /** In order of start time. */
  segments: ExportSegment[];
  metadata: Record<string, unknown>;
}

/** The name to show for a segment's speaker, or null when it has none. */
export function speakerName(transcript: ExportTranscript, segment: ExportSegment): string | null {
  if (segment.speakerId === undefined || segment.speakerId === "") return null;
  const speaker = transcript.speakers.find((s) => s.id === segment.speakerId);
  return collapseWhitespace(speaker?.label ?? segment.speakerId) || null;
}

/**
 * Line breaks and runs of spaces become one space: a segment is one paragraph, and a blank line inside a
 * subtitle cue would end the cue.
 */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/gu, " ").trim();
}

/** The segments in order of start time; segments that start together keep their order (the sort is stable). */
export function inTimeOrder(segments: ExportSegment[]): ExportSegment[] {
  return [...segments].sort((a, b) => a.start - b.start);
}

/** The segments that have something to show, in order of start time. */
export function segmentsToShow(transcript: ExportTranscript): ExportSegment[] {
  return inTimeOrder(transcript.segments).filter((segment) => collapseWhitespace(segment.text) !== "");
}
