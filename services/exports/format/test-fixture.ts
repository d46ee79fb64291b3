// A short two-channel customer-service call in Arabic, as the export tests render it: the agent's
// segments carry word times (without the punctuation post-processing added to the text), the customer's
// do not, so both ways of timing subtitle cues are exercised.

import type { ExportTranscript } from "./export-transcript.js";

export const callTranscript: ExportTranscript = {
  id: "7d1c9a52-3f4e-4b8a-9c61-2f0e8d5a4b17",
  title: "مكالمة خدمة العملاء",
  language: "ar",
  durationSeconds: 10,
  channels: 2,
  speakers: [
    { id: "1", label: "الوكيل", channel: 1 },
    { id: "2", label: "العميل", channel: 2 },
  ],
  segments: [
    {
      start: 0.52,
      end: 4.8,
      text: "مرحبا بك في خدمة العملاء، كيف يمكنني مساعدتك اليوم؟",
      speakerId: "1",
      channel: 1,
      confidence: 0.94,
      words: [
        { word: "مرحبا", start: 0.52, end: 0.98, confidence: 0.97 },
        { word: "بك", start: 1.0, end: 1.2, confidence: 0.95 },
        { word: "في", start: 1.22, end: 1.4, confidence: 0.96 },
        { word: "خدمة", start: 1.42, end: 1.8, confidence: 0.93 },
        { word: "العملاء", start: 1.82, end: 2.4, confidence: 0.92 },
        { word: "كيف", start: 2.6, end: 2.9, confidence: 0.95 },
        { word: "يمكنني", start: 2.92, end: 3.5, confidence: 0.94 },
        { word: "مساعدتك", start: 3.52, end: 4.2, confidence: 0.91 },
        { word: "اليوم", start: 4.22, end: 4.8, confidence: 0.93 },
      ],
    },
    {
      start: 5.1,
      end: 7.35,
      text: "أريد الاستفسار عن فاتورة شهر مارس.",
      speakerId: "2",
      channel: 2,
      // A runner-up of the recogniser (max_alternatives): the JSON export shows it, the others do not.
      alternatives: ["أريد الاستفسار عن فاتورة شهر مايو."],
    },
    {
      start: 7.6,
      end: 9.25,
      text: "بالتأكيد، ما هو رقم الحساب؟",
      speakerId: "1",
      channel: 1,
      confidence: 0.9,
      words: [
        { word: "بالتأكيد", start: 7.6, end: 8.2, confidence: 0.9 },
        { word: "ما", start: 8.3, end: 8.45, confidence: 0.88 },
        { word: "هو", start: 8.47, end: 8.6, confidence: 0.91 },
        { word: "رقم", start: 8.62, end: 8.9 },
        { word: "الحساب", start: 8.92, end: 9.25, confidence: 0.9 },
      ],
    },
  ],
  metadata: { diarization: "channel" },
};
