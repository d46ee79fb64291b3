// The console's transcript screen and search across transcripts. The transcript: an audio player on the
// media's download URL whose current word is highlighted from the word times (a click on a word seeks
// there), segments right to left by speaker and channel, each editable (UpdateSegment, with the revision
// read so that an edit of a stale copy is refused), speakers renamed (RenameSpeaker), export to each
// format with a download. Search: SearchTranscripts (Postgres's Arabic stemmer, diacritics and hamza
// forms ignored) with the matches marked in each snippet, linked to their transcript.
import type { Duration } from "@bufbuild/protobuf/wkt";
import { ExportFormat, ExportState } from "../../../proto/gen/arabicstt/v1/export_pb.js";
import type { Speaker, TranscriptSegment } from "../../../proto/gen/arabicstt/v1/transcript_pb.js";
import { api } from "./api.js";
import { attempt, h, main } from "./dom.js";
import { t } from "./i18n.js";

function secondsOf(d: Duration | undefined): number {
  return Number(d?.seconds ?? 0n) + (d?.nanos ?? 0) / 1e9;
}

function clock(total: number): string {
  return `${Math.floor(total / 60)}:${(total % 60).toFixed(1).padStart(4, "0")}`;
}

export async function renderTranscript(transcriptId: string): Promise<void> {
  // Every page of segments (200 a page, the most the API gives), with their words.
  const first = await api.transcripts.getTranscript({ transcriptId, pageSize: 200, includeWords: true });
  const { transcript } = first;
  const segments = [...first.segments];
  for (let token = first.nextPageToken; token; ) {
    const page = await api.transcripts.getTranscript({ transcriptId, pageSize: 200, pageToken: token, includeWords: true });
    segments.push(...page.segments);
    token = page.nextPageToken;
  }
  const speakers = new Map<string, Speaker>((transcript?.speakers ?? []).map((s) => [s.speakerLabel, s]));
  const player = h("audio", { id: "player", controls: true, preload: "auto" }) as HTMLAudioElement;
  if (transcript?.mediaId) {
    void attempt(async () => {
      const { url } = await api.media.getMediaDownloadUrl({ mediaId: transcript.mediaId });
      player.src = url;
    });
  }
  const status = h("span", { id: "export-status", role: "status" });
  const format = h(
    "select",
    { id: "export-format", "aria-label": t("export") },
    ...[ExportFormat.SRT, ExportFormat.VTT, ExportFormat.TXT, ExportFormat.DOCX, ExportFormat.JSON].map((f) => h("option", { value: f }, ExportFormat[f])),
  ) as HTMLSelectElement;
  const body = h("div", { id: "segments", dir: "rtl", lang: transcript?.languageCode || "ar" }, ...segments.map((s) => segmentView(transcriptId, s, speakers, player)));
  const speakerList = h(
    "div",
    { id: "speakers" },
    ...[...speakers.values()].map((s) => speakerForm(transcriptId, s, () => relabel(body, speakers))),
  );
  main.replaceChildren(
    h(
      "section",
      {},
      h("p", {}, h("a", { href: "#jobs" }, t("back"))),
      h("h2", {}, t("transcript"), transcript?.model ? ` (${transcript.model})` : ""),
      h("div", { class: "player" }, player),
      h(
        "p",
        {},
        format,
        " ",
        h("button", { type: "button", id: "export", onclick: () => void attempt(() => exportTranscript(transcriptId, Number(format.value) as ExportFormat, status)) }, t("export")),
        " ",
        status,
      ),
      speakers.size > 0 && h("h3", {}, t("speakers")),
      speakerList,
      body,
    ),
  );
  follow(player, body);
}

/** Highlights the word being played, and keeps it in view. */
function follow(player: HTMLAudioElement, body: HTMLElement): void {
  let current: HTMLElement | undefined;
  const update = () => {
    const now = player.currentTime;
    if (current && Number(current.dataset.start) <= now && now < Number(current.dataset.end)) return;
    current?.classList.remove("current");
    current = undefined;
    for (const word of body.querySelectorAll<HTMLElement>(".word")) {
      if (Number(word.dataset.start) <= now && now < Number(word.dataset.end)) {
        current = word;
        word.classList.add("current");
        break;
      }
    }
  };
  player.addEventListener("timeupdate", update);
  player.addEventListener("seeked", update);
}

function speakerName(label: string, speakers: Map<string, Speaker>): string {
  return speakers.get(label)?.displayName || `${t("speaker")} ${label}`;
}

function relabel(body: HTMLElement, speakers: Map<string, Speaker>): void {
  for (const who of body.querySelectorAll<HTMLElement>(".segment .speaker")) who.textContent = speakerName(who.dataset.label!, speakers);
}

function speakerForm(transcriptId: string, speaker: Speaker, changed: () => void): HTMLElement {
  const input = h("input", { name: "displayName", value: speaker.displayName, maxlength: 100, placeholder: `${t("speaker")} ${speaker.speakerLabel}`, "aria-label": `${t("speaker")} ${speaker.speakerLabel}` }) as HTMLInputElement;
  const form = h(
    "form",
    {
      class: "speaker-form",
      "data-label": speaker.speakerLabel,
      onsubmit: (e: Event) => {
        e.preventDefault();
        void attempt(async () => {
          const res = await api.transcripts.renameSpeaker({ transcriptId, speakerLabel: speaker.speakerLabel, displayName: input.value.trim() });
          speaker.displayName = res.speaker?.displayName ?? input.value.trim();
          changed();
        });
      },
    },
    input,
    h("button", { type: "submit" }, t("rename")),
  );
  return form;
}

function segmentView(transcriptId: string, segment: TranscriptSegment, speakers: Map<string, Speaker>, player: HTMLAudioElement): HTMLElement {
  const text = h("p", { class: "text", dir: "auto" });
  const fill = () => {
    // Words carry their times while the text is the recogniser's; after an edit the text stands alone.
    // A job created elsewhere without enable_word_time_offsets has words without times: nothing to seek to.
    const words = segment.words.length > 0 && segment.revision === 0 && segment.words[0]!.startOffset ? segment.words : [];
    if (words.length === 0) {
      text.replaceChildren(segment.text);
      return;
    }
    text.replaceChildren();
    words.forEach((w, i) => {
      const start = secondsOf(w.startOffset);
      if (i > 0) text.append(" ");
      text.append(
        h(
          "span",
          {
            class: "word",
            role: "button",
            tabindex: 0,
            "data-start": start,
            "data-end": secondsOf(w.endOffset),
            onclick: () => seek(player, start),
            onkeydown: (e: KeyboardEvent) => {
              if (e.key === "Enter" || e.key === " ") {
                e.preventDefault();
                seek(player, start);
              }
            },
          },
          w.word,
        ),
      );
    });
  };
  fill();
  const row = h(
    "div",
    { class: "segment", "data-segment-id": segment.segmentId, "data-channel": segment.channelTag, "data-speaker": segment.speakerLabel },
    h(
      "span",
      { class: "who" },
      segment.speakerLabel && h("span", { class: "speaker", "data-label": segment.speakerLabel }, speakerName(segment.speakerLabel, speakers)),
      segment.channelTag ? ` · ${t("channel")} ${segment.channelTag}` : "",
      " · ",
      h("button", { type: "button", class: "time link", onclick: () => seek(player, secondsOf(segment.startOffset)) }, clock(secondsOf(segment.startOffset))),
      " ",
      h("button", { type: "button", class: "edit", onclick: () => edit() }, t("edit")),
    ),
    text,
  );
  const edit = () => {
    const area = h("textarea", { class: "edit-text", dir: "auto", rows: 2, maxlength: 10000 }) as HTMLTextAreaElement;
    area.value = segment.text;
    const form = h(
      "form",
      {
        class: "edit-form",
        onsubmit: (e: Event) => {
          e.preventDefault();
          void attempt(async () => {
            const res = await api.transcripts.updateSegment({ transcriptId, segmentId: segment.segmentId, text: area.value, expectedRevision: segment.revision });
            if (res.segment) Object.assign(segment, { text: res.segment.text, revision: res.segment.revision });
            form.replaceWith(text);
            fill();
          });
        },
      },
      area,
      h("button", { type: "submit", class: "save" }, t("save")),
      " ",
      h("button", { type: "button", onclick: () => form.replaceWith(text) }, t("cancel")),
    );
    text.replaceWith(form);
    area.focus();
  };
  return row;
}

function seek(player: HTMLAudioElement, at: number): void {
  player.currentTime = at;
  void player.play().catch(() => {
    // swallowed: playback refused (no user gesture yet, or no audio); the position is set all the same
  });
}

async function exportTranscript(transcriptId: string, format: ExportFormat, status: HTMLElement): Promise<void> {
  status.textContent = t("exporting");
  let { export: item } = await api.exports.createExport({ transcriptId, format });
  for (let i = 0; item && item.state !== ExportState.SUCCEEDED && item.state !== ExportState.FAILED && i < 120; i++) {
    await new Promise((r) => setTimeout(r, 500));
    item = (await api.exports.getExport({ exportId: item.exportId })).export;
  }
  status.textContent = "";
  if (!item || item.state !== ExportState.SUCCEEDED) throw new Error(`export ${item ? ExportState[item.state] : "missing"}`);
  const link = h("a", { href: item.downloadUrl, download: item.filename, class: "download" }, item.filename);
  status.replaceChildren(link);
  link.click();
}

/** Search across the organisation's transcripts; the query is kept in the fragment (#search/<query>). */
export function renderSearch(query: string): void {
  const results = h("div", { id: "search-results", dir: "rtl" });
  const input = h("input", { name: "q", id: "search-query", type: "search", required: true, maxlength: 500, dir: "auto", value: query, "aria-label": t("search") }) as HTMLInputElement;
  const form = h(
    "form",
    {
      id: "search",
      onsubmit: (e: Event) => {
        e.preventDefault();
        location.hash = `#search/${encodeURIComponent(input.value.trim())}`;
      },
    },
    h("h2", {}, t("search")),
    input,
    h("button", { type: "submit" }, t("search")),
  );
  main.replaceChildren(h("section", {}, form, results));
  if (!query) return;
  void attempt(async () => {
    const res = await api.transcripts.searchTranscripts({ query, pageSize: 20 });
    results.replaceChildren(
      h("p", { role: "status" }, `${t("found")}: ${res.totalSize}`),
      ...res.results.map((r) =>
        h(
          "div",
          { class: "result", "data-transcript-id": r.transcriptId },
          h("a", { href: `#transcript/${r.transcriptId}`, class: "open-transcript", dir: "auto" }, r.title || t("transcript")),
          ...r.snippets.map((s) => h("p", { class: "snippet", dir: "auto" }, `${clock(secondsOf(s.startOffset))} · `, ...marked(s.text, s.highlights))),
        ),
      ),
    );
  });
}

/** The snippet's text with its matches in <mark>. */
function marked(text: string, highlights: Array<{ start: number; end: number }>): Array<Node | string> {
  const out: Array<Node | string> = [];
  let at = 0;
  for (const { start, end } of [...highlights].sort((a, b) => a.start - b.start)) {
    if (start < at) continue;
    out.push(text.slice(at, start), h("mark", {}, text.slice(start, end)));
    at = end;
  }
  out.push(text.slice(at));
  return out;
}
