// Live partials never show digits that the final redacts: a growing hypothesis holds back its trailing
// digit run, whatever form the digits take, until the run is followed by a word or the final comes.
import { describe, expect, it } from "vitest";
import { MASK, type TextWord } from "./chain.js";
import { carriesDigits, StreamingRedactor } from "./streaming.js";

const DIGITS = /[0-9\u0660-\u0669]/u;
const phone = new StreamingRedactor({ redaction: { types: ["phone_number"] } });

/** Every prefix of `words`, as successive interim hypotheses would bring them. */
function growing(text: string): string[] {
  const words = text.split(" ");
  return words.map((_, i) => words.slice(0, i + 1).join(" "));
}

describe("StreamingRedactor", () => {
  it("never shows a phone number spoken digit by digit in any partial, and redacts it in the final", () => {
    const said = "رقمي صفر خمسة خمسة واحد اتنين تلاتة اربعة خمسة ستة سبعة";
    for (const partial of growing(said)) {
      const out = phone.partialText(partial);
      expect(out.text, partial).toBe("رقمي");
      expect(out.text).not.toMatch(DIGITS);
    }
    expect(phone.finalText(said)).toEqual({ text: `رقمي ${MASK}`, redactions: [{ type: "phone_number", start: 5, end: 15 }] });
  });

  it("holds back written digits that straddle two partials (Western and Arabic-Indic), then redacts the whole run", () => {
    const partials = ["اتصل على 055", "اتصل على 055 123", "اتصل على ٠٥٥ ١٢٣ ٤٥٦٧", "اتصل على ٠٥٥ ١٢٣ ٤٥٦٧ لو سمحت"];
    const shown = partials.map((p) => phone.partialText(p));
    expect(shown.map((s) => s.text)).toEqual(["اتصل على", "اتصل على", "اتصل على", `اتصل على ${MASK} لو سمحت`]);
    expect(shown.map((s) => s.heldBack)).toEqual([1, 2, 3, 0]);
    for (const s of shown) expect(s.text).not.toMatch(DIGITS);
  });

  it("shows a finished run that no type takes as soon as a word follows it", () => {
    expect(phone.partialText("الغرفة 305").text).toBe("الغرفة");
    expect(phone.partialText("الغرفة 305 في").text).toBe("الغرفة 305 في");
    expect(phone.finalText("الغرفة 305").text).toBe("الغرفة 305");
  });

  it("holds back a trailing number word and a trailing و, kept as words when verbatim", () => {
    const verbatim = new StreamingRedactor({ verbatim: true, redaction: { types: ["digit_sequence"] } });
    expect(verbatim.partialText("الرمز تسعة تمانية و").text).toBe("الرمز");
    expect(verbatim.partialText("الرمز تسعة تمانية سبعة ستة").text).toBe("الرمز");
    expect(verbatim.finalText("الرمز تسعة تمانية سبعة ستة").text).toBe(`الرمز ${MASK}`);
    expect(verbatim.partialText("عندي خمسة ولاد").text).toBe("عندي خمسة ولاد");
  });

  it("holds back keypad digits that arrive one word at a time, and keeps word times", () => {
    const keys: TextWord[] = "4111111111111111".split("").map((word, i) => ({ word, start: i, end: i + 0.1, confidence: 1, separator: "" }));
    const card = new StreamingRedactor({ redaction: { types: ["payment_card"] } });
    for (let n = 1; n <= keys.length; n++) expect(card.partial(keys.slice(0, n)).words).toEqual([]);
    const final = card.final(keys);
    expect(final.words).toEqual([{ word: MASK, start: 0, end: 15.1, confidence: 1, separator: "" }]);
    expect(final.redactions[0]).toMatchObject({ type: "payment_card", fromWord: 0, toWord: 16, startTime: 0, endTime: 15.1 });
  });

  it("holds nothing back without redaction, and still formats numbers", () => {
    const plain = new StreamingRedactor({});
    expect(plain.partialText("دفعت خمسة وعشرين")).toEqual({ text: "دفعت 25", redactions: [], heldBack: 0 });
  });

  it("knows which words may carry digits", () => {
    for (const w of ["5", "٥", "*", "#12", "خمسة", "وعشرين", "و", "صفر،"]) expect(carriesDigits(w), w).toBe(true);
    for (const w of ["رقمي", "شكرا", "ولاد", "."]) expect(carriesDigits(w), w).toBe(false);
  });
});
