// The batch job options a user can weigh, on the upload form and in each job's details: speakers
// (diarization, with the fewest and most expected), noise reduction, redaction of sensitive numbers,
// and phrase hints (one a line). The form's limits are the API's, so the browser stops a wrong value
// before the call; what it lets through the API still checks.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { DenoiseMode, RedactionType, type RecognitionConfig, type RecognitionConfigSchema } from "../../../proto/gen/arabicstt/v1/recognition_pb.js";
import { field, h } from "./dom.js";
import { t } from "./i18n.js";

const REDACTION_TYPES = [RedactionType.PAYMENT_CARD, RedactionType.NATIONAL_ID, RedactionType.PHONE_NUMBER, RedactionType.BANK_ACCOUNT, RedactionType.DIGIT_SEQUENCE];
const DENOISE_MODES = [DenoiseMode.OFF, DenoiseMode.SPECTRAL, DenoiseMode.NEURAL];
/** The API's limits (recognition.proto): phrases per list and characters per phrase; speakers. */
const MAX_PHRASES = 1000;
const MAX_PHRASE_CHARS = 100;
const MAX_SPEAKERS = 10;

/** The options' fields, inside the upload form. */
export function jobOptionsFields(): HTMLElement {
  const speakers = (name: string, label: string) =>
    field(label, h("input", { name, id: name, type: "number", min: 1, max: MAX_SPEAKERS, step: 1, inputmode: "numeric", dir: "ltr", disabled: true }));
  const diarization = h(
    "fieldset",
    { id: "diarization" },
    h("legend", {}, t("options.speakers")),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "diarize", id: "diarize" }), t("options.diarize")),
    h("div", { class: "pair" }, speakers("min-speakers", t("options.minSpeakers")), speakers("max-speakers", t("options.maxSpeakers"))),
  );
  // The counts mean something only with diarization on.
  diarization.addEventListener("change", () => {
    const on = (diarization.querySelector("#diarize") as HTMLInputElement).checked;
    for (const input of diarization.querySelectorAll<HTMLInputElement>("input[type=number]")) input.disabled = !on;
  });
  return h(
    "details",
    { id: "job-options" },
    h("summary", {}, t("options")),
    diarization,
    field(
      t("options.denoise"),
      h("select", { name: "denoise", id: "denoise" }, ...DENOISE_MODES.map((m) => h("option", { value: m }, t(`denoise.${m}`)))),
    ),
    h(
      "fieldset",
      { id: "redaction" },
      h("legend", {}, t("options.redaction")),
      ...REDACTION_TYPES.map((r) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "redact", value: r }), t(`redaction.${r}`))),
    ),
    field(
      t("options.phrases"),
      h("textarea", { name: "phrases", id: "phrases", rows: 3, dir: "auto", placeholder: t("options.phrasesHint") }),
    ),
  );
}

/** The options chosen in `form`, as the parts of a RecognitionConfig they set. */
export function readJobOptions(form: HTMLFormElement): MessageInitShape<typeof RecognitionConfigSchema> {
  const input = (name: string) => form.querySelector(`[name=${name}]`) as HTMLInputElement;
  const count = (name: string) => (input(name).value ? Number(input(name).value) : 0);
  const diarize = input("diarize").checked;
  const minSpeakers = count("min-speakers");
  const maxSpeakers = count("max-speakers");
  if (diarize && minSpeakers && maxSpeakers && minSpeakers > maxSpeakers) throw new Error(t("options.speakersOrder"));
  const redact = [...form.querySelectorAll<HTMLInputElement>("input[name=redact]:checked")].map((i) => Number(i.value) as RedactionType);
  const phrases = (form.querySelector("[name=phrases]") as HTMLTextAreaElement).value
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  if (phrases.length > MAX_PHRASES) throw new Error(t("options.tooManyPhrases"));
  const long = phrases.find((p) => p.length > MAX_PHRASE_CHARS);
  if (long) throw new Error(`${t("options.phraseTooLong")}: ${long.slice(0, 30)}…`);
  return {
    diarizationConfig: diarize ? { enableSpeakerDiarization: true, minSpeakerCount: minSpeakers, maxSpeakerCount: maxSpeakers } : undefined,
    denoise: Number(input("denoise").value) as DenoiseMode,
    redactionConfig: redact.length > 0 ? { types: redact } : undefined,
    phraseHints: phrases.length > 0 ? { phrases: phrases.map((value) => ({ value })) } : undefined,
  };
}

/** A job's options in words, for its details. */
export function describeJobOptions(config: RecognitionConfig | undefined): HTMLElement {
  const rows: Array<[string, string]> = [
    [t("model"), config?.model || t("defaultModel")],
    [t("language"), config?.languageCode || "—"],
  ];
  const d = config?.diarizationConfig;
  rows.push([
    t("options.speakers"),
    d?.enableSpeakerDiarization ? `${t("options.diarize")}: ${d.minSpeakerCount || 1}–${d.maxSpeakerCount || 6}` : t("options.none"),
  ]);
  rows.push([t("options.denoise"), t(`denoise.${config?.denoise || DenoiseMode.OFF}`)]);
  const types = config?.redactionConfig?.types ?? [];
  rows.push([t("options.redaction"), types.length ? types.map((r) => t(`redaction.${r}`)).join("، ") : t("options.none")]);
  const phrases = config?.phraseHints?.phrases ?? [];
  rows.push([t("options.phraseList"), phrases.length ? phrases.map((p) => p.value).join("، ") : t("options.none")]);
  return h(
    "details",
    { class: "job-options" },
    h("summary", {}, t("options.details")),
    h("dl", {}, ...rows.flatMap(([name, value]) => [h("dt", {}, name), h("dd", { dir: "auto" }, value)])),
  );
}
