// TranscriptService over the wire. Channels are 0-based in the database (as the pipeline numbers them)
// and 1-based channel tags in the API.
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampDate, timestampFromDate, type Duration } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { accuracyCountsOf, accuracyMetricsOf } from "./accuracy.js";
import { WordInfoSchema } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import {
  ChannelSchema,
  SearchSnippetSchema,
  SegmentAlternativeSchema,
  SegmentEditSchema,
  SpeakerSchema,
  TextRangeSchema,
  TranscriptSchema,
  TranscriptSearchResultSchema,
  TranscriptSegmentSchema,
  type Speaker as SpeakerMessage,
  type Transcript as TranscriptMessage,
  type TranscriptSearchResult,
  type TranscriptSegment as SegmentMessage,
  type TranscriptService,
} from "../../proto/gen/arabicstt/v1/transcript_pb.js";
import { principalOf } from "../identity/model/context.js";
import type { Segment } from "./segment.entity.js";
import type { SearchHit, TranscriptSearch } from "./search.js";
import type { Speaker } from "./speaker.entity.js";
import { wordFieldsOf, type Transcripts, type TranscriptStats, type TranscriptView, type WordFields } from "./transcripts.js";

const PREVIEW_LENGTH = 200;

function duration(ms: number | null | undefined): Duration {
  return durationFromMs(ms ?? 0);
}

function durationMs(d: Duration | undefined): number | undefined {
  if (!d) return undefined;
  return Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
}

export function toTranscript({ transcript: t, stats }: TranscriptView): TranscriptMessage {
  return create(TranscriptSchema, {
    transcriptId: t.id,
    jobId: t.job?.id ?? "",
    mediaId: stats.mediaId ?? "",
    title: t.title,
    languageCode: t.languageCode,
    model: t.model ?? "",
    preview: [...t.text].slice(0, PREVIEW_LENGTH).join(""),
    audioDuration: duration(t.durationMs),
    segmentCount: stats.segmentCount,
    wordCount: stats.wordCount,
    confidence: stats.confidence,
    speakers: stats.speakers.map((s) =>
      create(SpeakerSchema, {
        speakerLabel: s.label,
        displayName: s.displayName ?? "",
        channelTag: s.channel === null ? 0 : s.channel + 1,
        talkTime: duration(s.talkMs),
        wordCount: s.wordCount,
      }),
    ),
    channels: stats.channels.map((c) => create(ChannelSchema, { channelTag: c.channel + 1, talkTime: duration(c.talkMs), segmentCount: c.segmentCount })),
    accuracy: accuracyMetricsOf({ wer: t.wer === null ? null : Number(t.wer), cer: t.cer === null ? null : Number(t.cer) }, accuracyCountsOf(t.metadata)),
    editCount: stats.editCount,
    createdAt: timestampFromDate(t.createdAt),
    updatedAt: timestampFromDate(t.updatedAt),
  });
}

/**
 * A segment as the API shows it. `fields` are what the transcript's job asked its words to carry: times and
 * confidence not asked for are left unset, and with none of times, confidence or speakers asked the word list
 * is empty, as Google's API does. Applied here, at the response, rather than at storage: the stored words keep
 * their times, which segment edits (realignWords), search and the exports rely on.
 */
export function toSegment(s: Segment, languageCode: string, options: { words: boolean; edits: boolean }, fields: WordFields): SegmentMessage {
  const words = options.words && (fields.timeOffsets || fields.confidence || fields.speakerLabels);
  return create(TranscriptSegmentSchema, {
    segmentId: s.id,
    index: s.index,
    channelTag: s.channel + 1,
    speakerLabel: s.speakerLabel ?? "",
    startOffset: duration(s.startMs),
    endOffset: duration(s.endMs),
    text: s.text,
    confidence: s.confidence ?? 0,
    words: words
      ? s.words.map((w) =>
          create(WordInfoSchema, {
            word: w.word,
            ...(fields.timeOffsets ? { startOffset: duration(w.startMs), endOffset: duration(w.endMs) } : {}),
            confidence: fields.confidence ? (w.confidence ?? 0) : 0,
            speakerLabel: w.speakerLabel ?? "",
          }),
        )
      : [],
    languageCode,
    revision: s.editHistory.length,
    edits: options.edits
      ? s.editHistory.map((e, i) =>
          create(SegmentEditSchema, {
            revision: e.revision ?? i + 1,
            previousText: e.previousText,
            previousSpeakerLabel: e.previousSpeakerLabel ?? "",
            editedByUserId: e.editedByUserId ?? "",
            editedByApiKeyId: e.editedByApiKeyId ?? "",
            editedAt: timestampFromDate(new Date(e.editedAt)),
          }),
        )
      : [],
    updatedAt: timestampFromDate(s.updatedAt),
    // No request flag: the job's max_alternatives asked for them, and they are a few short texts.
    alternatives: s.alternatives.map((text) => create(SegmentAlternativeSchema, { text })),
  });
}

/** A renamed speaker with the talk time and words its segments add up to (`stats` undefined: none yet). */
function toSpeaker(speaker: Speaker, stats: TranscriptStats["speakers"][number] | undefined): SpeakerMessage {
  return create(SpeakerSchema, {
    speakerLabel: speaker.label,
    displayName: speaker.displayName ?? "",
    channelTag: speaker.channel === null ? 0 : speaker.channel + 1,
    talkTime: duration(stats?.talkMs ?? 0),
    wordCount: stats?.wordCount ?? 0,
  });
}

function toSearchResult(hit: SearchHit): TranscriptSearchResult {
  return create(TranscriptSearchResultSchema, {
    transcriptId: hit.transcriptId,
    title: hit.title,
    score: hit.score,
    audioDuration: duration(hit.durationMs),
    createdAt: timestampFromDate(hit.createdAt),
    snippets: hit.snippets.map((s) =>
      create(SearchSnippetSchema, {
        segmentId: s.segmentId,
        speakerLabel: s.speakerLabel ?? "",
        channelTag: s.channel + 1,
        startOffset: duration(s.startMs),
        text: s.text,
        highlights: s.highlights.map((h) => create(TextRangeSchema, h)),
      }),
    ),
  });
}

export function transcriptHandler(transcripts: Transcripts, search: TranscriptSearch): Partial<ServiceImpl<typeof TranscriptService>> {
  return {
    async getTranscript(req, ctx) {
      const { organizationId } = principalOf(ctx.values);
      const view = await transcripts.get(organizationId, req.transcriptId);
      const page = await transcripts.segments(organizationId, req.transcriptId, {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        channel: req.channelTag > 0 ? req.channelTag - 1 : undefined,
        speakerLabel: req.speakerLabel || undefined,
        fromMs: durationMs(req.fromOffset),
      });
      const options = { words: req.includeWords, edits: req.includeEditHistory };
      return {
        transcript: toTranscript(view),
        segments: page.items.map((s) => toSegment(s, view.transcript.languageCode, options, wordFieldsOf(view.transcript.metadata))),
        nextPageToken: page.nextPageToken,
      };
    },
    async listTranscripts(req, ctx) {
      const page = await transcripts.list(principalOf(ctx.values).organizationId, {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        mediaId: req.mediaId || undefined,
        createdAfter: req.createdAfter ? timestampDate(req.createdAfter) : undefined,
        createdBefore: req.createdBefore ? timestampDate(req.createdBefore) : undefined,
      });
      return { transcripts: page.items.map(toTranscript), nextPageToken: page.nextPageToken };
    },
    async updateSegment(req, ctx) {
      const principal = principalOf(ctx.values);
      const segment = await transcripts.updateSegment(principal, req.transcriptId, req.segmentId, {
        text: req.text,
        speakerLabel: req.speakerLabel,
        expectedRevision: req.expectedRevision,
      });
      const transcript = await transcripts.find(principal.organizationId, req.transcriptId);
      return { segment: toSegment(segment, transcript.languageCode, { words: true, edits: true }, wordFieldsOf(transcript.metadata)) };
    },
    async renameSpeaker(req, ctx) {
      const { organizationId } = principalOf(ctx.values);
      const speaker = await transcripts.renameSpeaker(organizationId, req.transcriptId, req.speakerLabel, req.displayName);
      const view = await transcripts.get(organizationId, req.transcriptId);
      return { speaker: toSpeaker(speaker, view.stats.speakers.find((s) => s.label === speaker.label)) };
    },
    async searchTranscripts(req, ctx) {
      const results = await search.search(principalOf(ctx.values).organizationId, {
        query: req.query,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        languageCode: req.languageCode || undefined,
        createdAfter: req.createdAfter ? timestampDate(req.createdAfter) : undefined,
        createdBefore: req.createdBefore ? timestampDate(req.createdBefore) : undefined,
      });
      return { results: results.hits.map(toSearchResult), nextPageToken: results.nextPageToken, totalSize: results.totalSize };
    },
    async deleteTranscript(req, ctx) {
      await transcripts.delete(principalOf(ctx.values).organizationId, req.transcriptId);
      return {};
    },
  };
}
