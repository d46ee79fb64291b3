// The text chain, word by word: numbers of several dialects to digits in both numeral styles, verbatim
// keeping words, redaction over each digit form, profanity, and word times and confidences kept.
import { describe, expect, it } from "vitest";
import { formatText, formatWords, MASK, type TextChainOptions, type TextWord } from "./chain.js";

const itn = (text: string, options: TextChainOptions = {}) => formatText(text, options).text;

/** Words 1 s apart, each 0.8 s long, confidence falling from 0.99 by 0.01 a word. */
function timed(text: string): TextWord[] {
  return text.split(" ").map((word, i) => ({ word, start: i, end: i + 0.8, confidence: 0.99 - i / 100 }));
}

describe("numbers in words become digits", () => {
  it.each([
    // Modern Standard Arabic
    ["دفعت خمسة وعشرين ريالا", "دفعت 25 ريالا"],
    ["ثلاثمائة وخمسة وأربعون", "345"],
    ["مئتان وخمسون", "250"],
    ["أحد عشر لاعبا", "11 لاعبا"],
    ["ثلاث عشرة سنة", "13 سنة"],
    ["ثلاثة آلاف وخمسمائة", "3500"],
    ["مليونان", "2000000"],
    ["خمسة ملايين وثلاثمائة ألف", "5300000"],
    ["عشرون ألف", "20000"],
    ["أحد عشر ألفًا", "11000"],
    ["مئة وخمسة عشر", "115"],
    ["ثلاثة ملايين ومئتان وخمسون ألفا", "3250000"],
    // Egyptian
    ["ميتين وخمسين جنيه", "250 جنيه"],
    ["تلاتمية واتنين وتلاتين", "332"],
    ["تلات تلاف جنيه", "3000 جنيه"],
    ["خمستلاف", "5000"],
    ["خمستاشر يوم", "15 يوم"],
    ["تلات مية", "300"],
    // Levantine and Gulf
    ["تنين وتلاتين", "32"],
    ["خمسطعش دقيقة", "15 دقيقة"],
    ["اثنعش ساعة", "12 ساعة"],
    ["تمنمية وتسعين", "890"],
    // Maghrebi
    ["جوج ديال الدراري", "2 ديال الدراري"],
    ["ربعطاش", "14"],
    // "و" as its own word, and the diacritised spelling
    ["خمسة و عشرين", "25"],
    ["خَمْسَةٌ وَعِشْرُونَ", "25"],
    // Years
    ["سنة ألفين وعشرين", "سنة 2020"],
    ["ألف وتسعمية وخمسة وتسعين", "1995"],
  ])("%s → %s", (spoken, written) => {
    expect(itn(spoken)).toBe(written);
  });

  it("reads digits spoken one by one as one number: phone and card numbers", () => {
    expect(itn("رقمي صفر خمسة خمسة واحد اتنين تلاتة اربعة خمسة ستة سبعة")).toBe("رقمي 0551234567");
    expect(itn("صفر تسعة")).toBe("09");
    expect(itn("اربعة واحد واحد واحد")).toBe("4111");
  });

  it("keeps punctuation around the number and a leading و", () => {
    expect(itn("عندي تلاتة ولاد، وخمسة بنات.")).toBe("عندي 3 ولاد، و5 بنات.");
    expect(itn("(خمسة وعشرين)")).toBe("(25)");
    // A comma ends a number: two numbers, not one.
    expect(itn("خمسة، وعشرين")).toBe("5، و20");
  });

  it("leaves numbers inside ordinary words alone", () => {
    expect(itn("واحدة من الناس")).toBe("واحدة من الناس");
    expect(itn("واحد صاحبي")).toBe("واحد صاحبي");
    expect(itn("في شهر صفر")).toBe("في شهر صفر");
    expect(itn("ألف مبروك")).toBe("ألف مبروك");
    expect(itn("كوباية مية")).toBe("كوباية مية");
    expect(itn("ست البيت")).toBe("ست البيت");
    expect(itn("بخمسة جنيه")).toBe("بخمسة جنيه");
    expect(itn("يوم الاثنين")).toBe("يوم الاثنين");
  });

  it("writes Arabic-Indic digits when asked, the input's digits included", () => {
    const style: TextChainOptions = { numeralStyle: "arabic-indic" };
    expect(itn("خمسة وعشرين", style)).toBe("٢٥");
    expect(itn("ميتين وخمسين جنيه", style)).toBe("٢٥٠ جنيه");
    expect(itn("الغرفة 12", style)).toBe("الغرفة ١٢");
    expect(itn("الغرفة ١٢ و خمسطعش")).toBe("الغرفة 12 و 15");
  });

  it("keeps the words, and the digits as written, when verbatim", () => {
    expect(itn("دفعت خمسة وعشرين ريال", { verbatim: true })).toBe("دفعت خمسة وعشرين ريال");
    expect(itn("صفر خمسة خمسة", { verbatim: true, numeralStyle: "arabic-indic" })).toBe("صفر خمسة خمسة");
    expect(itn("الغرفة ١٢", { verbatim: true })).toBe("الغرفة ١٢");
  });
});

describe("word times and confidences", () => {
  it("a number of several words spans the first word's start to the last one's end, at the lowest confidence", () => {
    const words = timed("دفعت خمسة وعشرين ريال");
    const out = formatWords(words, {});
    expect(out.words.map((w) => w.word)).toEqual(["دفعت", "25", "ريال"]);
    expect(out.words[1]).toMatchObject({ start: 1, end: 2.8, confidence: 0.97 });
    expect(out.words[0]).toMatchObject({ start: 0, end: 0.8, confidence: 0.99 });
    expect(out.words[2]).toMatchObject({ start: 3, end: 3.8, confidence: 0.96 });
  });

  it("keeps every word's own time when verbatim", () => {
    const words = timed("دفعت خمسة وعشرين ريال");
    const out = formatWords(words, { verbatim: true });
    expect(out.words).toEqual(words);
  });

  it("keeps the other fields of the first word (a speaker label) and a word's separator", () => {
    const words = [
      { word: "1", start: 0, end: 0.1, confidence: 0.9, speaker: "2", separator: "" },
      { word: "2", start: 0.2, end: 0.3, confidence: 0.8, speaker: "2", separator: "" },
      { word: "#", start: 0.4, end: 0.5, confidence: 0.7, speaker: "2", separator: "" },
    ];
    const out = formatWords(words, {});
    expect(out.text).toBe("12#");
    expect(out.words[0]).toEqual(words[0]);
  });

  it("drops a word that was only diacritics and tatweel when they are removed", () => {
    const out = formatWords([...timed("كِتَابٌ"), { word: "ـــ", start: 5, end: 6, confidence: 1 }, ...timed("جَمـــيل")], { removeDiacritics: true });
    expect(out.text).toBe("كتاب جميل");
    expect(out.words.map((w) => w.start)).toEqual([0, 0]);
  });

  it("keeps diacritics and tatweel unless asked", () => {
    expect(itn("كِتَابٌ جَمـــيل")).toBe("كِتَابٌ جَمـــيل");
    expect(itn("كِتَابٌ جَمـــيل", { removeDiacritics: true })).toBe("كتاب جميل");
  });
});

describe("redaction", () => {
  const only = (...types: NonNullable<TextChainOptions["redaction"]>["types"]): TextChainOptions => ({ redaction: { types } });

  it("redacts a Luhn-valid card in any grouping and digit form, and reports the span", () => {
    for (const card of ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "٤١١١ ١١١١ ١١١١ ١١١١", "۴۱۱۱۱۱۱۱۱۱۱۱۱۱۱۱"]) {
      const out = formatText(`البطاقة ${card} شكرا`, only("payment_card"));
      expect(out.text, card).toBe(`البطاقة ${MASK} شكرا`);
      expect(out.redactions).toEqual([{ type: "payment_card", start: 8, end: 8 + MASK.length }]);
      expect(out.text.slice(out.redactions[0]!.start, out.redactions[0]!.end)).toBe(MASK);
    }
    // One digit off: the Luhn check fails, so it is not a card.
    expect(formatText("البطاقة 4111 1111 1111 1112", only("payment_card")).text).toBe("البطاقة 4111 1111 1111 1112");
  });

  it("redacts a card spoken in words, digit by digit and in groups, written or verbatim", () => {
    const spoken = "رقم البطاقة اربعة واحد واحد واحد واحد واحد واحد واحد واحد واحد واحد واحد واحد واحد واحد واحد";
    expect(itn(spoken, only("payment_card"))).toBe(`رقم البطاقة ${MASK}`);
    const verbatim = formatWords(timed(spoken), { verbatim: true, ...only("payment_card") });
    expect(verbatim.text).toBe(`رقم البطاقة ${MASK}`);
    expect(verbatim.redactions[0]).toMatchObject({ type: "payment_card", wordIndex: 2, fromWord: 2, toWord: 18, startTime: 2, endTime: 17.8 });
    expect(verbatim.words[2]).toMatchObject({ word: MASK, start: 2, end: 17.8 });
    // "خمسة خمسة صفر صفر" groups: 5500 0000 0000 0004, a Mastercard test number.
    const groups = "خمسة خمسة صفر صفر، صفر صفر صفر صفر، صفر صفر صفر صفر، صفر صفر صفر اربعة";
    expect(itn(groups)).toBe("5500، 0000، 0000، 0004");
    expect(itn(`البطاقة خمسة خمسة صفر صفر صفر صفر صفر صفر صفر صفر صفر صفر صفر صفر صفر اربعة`, only("payment_card"))).toBe(`البطاقة ${MASK}`);
  });

  it("redacts national ids by their formats and check digits", () => {
    const ids = {
      "Saudi national id": "1087654321",
      "Saudi iqama": "2456789011",
      "Emirates ID, grouped": "784-1990-1234567-6",
      "Egyptian national id": "29001010123456",
      "Kuwaiti civil id": "290010112346",
    };
    for (const [name, id] of Object.entries(ids)) {
      const out = formatText(`الهوية ${id} تمام`, only("national_id"));
      expect(out.text, name).toBe(`الهوية ${MASK} تمام`);
      expect(out.redactions[0]?.type, name).toBe("national_id");
    }
    // Wrong check digit, an Egyptian id born on 30 February: not ids.
    for (const notId of ["1087654322", "784199012345677", "29002300123456"]) {
      expect(formatText(`الهوية ${notId}`, only("national_id")).text).toBe(`الهوية ${notId}`);
    }
    // Spoken digit by digit.
    expect(itn("هويتي واحد صفر تمانية سبعة ستة خمسة اربعة تلاتة اتنين واحد", only("national_id"))).toBe(`هويتي ${MASK}`);
  });

  it("redacts phone numbers, local and international", () => {
    for (const phone of ["0551234567", "055 123 4567", "+966 50 123 4567", "00971501234567", "+20 10 1234 5678", "01012345678", "+962791234567", "(050) 123-4567", "٠٥٥١٢٣٤٥٦٧", "55123456"]) {
      const out = formatText(`اتصل على ${phone}.`, only("phone_number"));
      expect(out.text, phone).toBe(`اتصل على ${MASK}.`);
      expect(out.redactions[0]?.type).toBe("phone_number");
    }
    expect(itn("رقمي صفر خمسة خمسة واحد اتنين تلاتة اربعة خمسة ستة سبعة شكرا", only("phone_number"))).toBe(`رقمي ${MASK} شكرا`);
    // Three digits are no phone number.
    expect(itn("الغرفة 305", only("phone_number"))).toBe("الغرفة 305");
  });

  it("redacts IBANs with their letters, checked mod 97, and other account numbers", () => {
    const out = formatText("الآيبان SA03 8000 0000 6080 1016 7519 تمام", only("bank_account"));
    expect(out).toEqual({ text: `الآيبان ${MASK} تمام`, redactions: [{ type: "bank_account", start: 8, end: 18 }] });
    expect(itn("IBAN: EG380019000500000000263180002.", only("bank_account"))).toBe(`IBAN: ${MASK}.`);
    // A wrong check: not an IBAN; its 20 digits are still an account number.
    expect(itn("SA03 8000 0000 6080 1016 7518", only("bank_account"))).toBe(`SA${MASK}`);
    expect(itn("الحساب 123456789012", only("bank_account"))).toBe(`الحساب ${MASK}`);
  });

  it("redacts any run of min_digit_count digits, 4 by default", () => {
    expect(itn("الرمز 1234 والمبلغ 12", only("digit_sequence"))).toBe(`الرمز ${MASK} والمبلغ 12`);
    expect(itn("الرمز 123", only("digit_sequence"))).toBe("الرمز 123");
    expect(itn("الرمز 123", { redaction: { types: ["digit_sequence"], minDigitCount: 3 } })).toBe(`الرمز ${MASK}`);
    expect(itn("الرمز 12345", { redaction: { types: ["digit_sequence"], minDigitCount: 6 } })).toBe("الرمز 12345");
    // Spoken in words, and in groups that are short one by one.
    expect(itn("الرمز تسعة تمانية سبعة ستة", only("digit_sequence"))).toBe(`الرمز ${MASK}`);
    expect(itn("الرمز 12 34", only("digit_sequence"))).toBe(`الرمز ${MASK}`);
  });

  it("redacts DTMF key strings, and keypad digits that arrive as words of their own", () => {
    expect(itn("*4111111111111111#", only("payment_card"))).toBe(`*${MASK}#`);
    const keys = "0551234567".split("").map((word, i) => ({ word, start: i, end: i + 0.1, confidence: 1, separator: "" }));
    const out = formatWords(keys, only("phone_number"));
    expect(out.text).toBe(MASK);
    expect(out.words).toEqual([{ word: MASK, start: 0, end: 9.1, confidence: 1, separator: "" }]);
  });

  it("reports the most specific enabled type, and two spans in one run", () => {
    const all = only("payment_card", "national_id", "phone_number", "bank_account", "digit_sequence");
    expect(formatText("1087654321", all).redactions[0]?.type).toBe("national_id");
    expect(formatText("0551234567", all).redactions[0]?.type).toBe("phone_number");
    expect(formatText("4111111111111111", all).redactions[0]?.type).toBe("payment_card");
    expect(formatText("2026", all).redactions[0]?.type).toBe("digit_sequence");
    const two = formatText("ارقامي 0551234567 1087654321 تمام", all);
    expect(two.text).toBe(`ارقامي ${MASK} ${MASK} تمام`);
    expect(two.redactions.map((r) => [r.type, r.start])).toEqual([["phone_number", 7], ["national_id", 18]]);
  });

  it("redacts nothing without types, and leaves digits that no enabled type takes", () => {
    expect(itn("0551234567")).toBe("0551234567");
    expect(itn("ولدت سنة 1995", only("payment_card", "phone_number"))).toBe("ولدت سنة 1995");
  });
});

describe("profanity", () => {
  it("keeps the first letter, matching after letter forms, case and prefixes are folded", () => {
    expect(itn("يا شرموطة", { profanityFilter: true })).toBe("يا ش*****");
    expect(itn("يا شرموطه", { profanityFilter: true })).toBe("يا ش*****");
    expect(itn("والشرموطة", { profanityFilter: true })).toBe("و********");
    expect(itn("What the FUCK!", { profanityFilter: true })).toBe("What the F***!");
    expect(itn("What the FUCK!")).toBe("What the FUCK!");
  });

  it("leaves ordinary words alone", () => {
    expect(itn("كلب الجيران حمار", { profanityFilter: true })).toBe("كلب الجيران حمار");
  });
});

describe("punctuation (enable_automatic_punctuation)", () => {
  const words = (text: string) => timed(text).map((w) => ({ ...w, speaker: "S1" }));

  it("writes the model's marks the Arabic way when kept, word by word, times kept", () => {
    const out = formatWords(words("مرحبا, كيف حالك? تمام; شكرا."), { punctuation: "arabic" });
    expect(out.text).toBe("مرحبا، كيف حالك؟ تمام؛ شكرا.");
    expect(out.words.map((w) => [w.word, w.start, w.end, w.speaker])).toEqual([
      ["مرحبا،", 0, 0.8, "S1"],
      ["كيف", 1, 1.8, "S1"],
      ["حالك؟", 2, 2.8, "S1"],
      ["تمام؛", 3, 3.8, "S1"],
      ["شكرا.", 4, 4.8, "S1"],
    ]);
    // Marks between digits are a number's: a decimal comma and a time stay as written.
    expect(itn("الساعة 10:30 والسعر 3,5؟", { punctuation: "arabic" })).toBe("الساعة 10:30 والسعر 3,5؟");
    // Already Arabic marks stay; curly quotes are unified.
    expect(itn("قال «نعم»، ثم سأل: لماذا؟", { punctuation: "arabic" })).toBe('قال "نعم"، ثم سأل: لماذا؟');
  });

  it("removes sentence marks at the words' edges, and a word that was only marks, when not asked for", () => {
    const out = formatWords(words("مرحبا، كيف حالك ؟ تمام... شكرا!"), { punctuation: "remove" });
    expect(out.text).toBe("مرحبا كيف حالك تمام شكرا");
    // The lone "؟" (the fourth input word) is gone; the others keep their own times.
    expect(out.words.map((w) => [w.word, w.start])).toEqual([
      ["مرحبا", 0],
      ["كيف", 1],
      ["حالك", 2],
      ["تمام", 4],
      ["شكرا", 5],
    ]);
    // Marks inside a word, the keypad's * and #, brackets, a "+" and MASK stay.
    expect(itn("الساعة 10:30، السعر 3.5. اضغط *123#، أو اتصل على +966 (055).", { punctuation: "remove" })).toBe("الساعة 10:30 السعر 3.5 اضغط *123# أو اتصل على +966 (055)");
    const redacted = formatText("رقمي 0551234567.", { punctuation: "remove", redaction: { types: ["phone_number"] } });
    expect(redacted).toEqual({ text: `رقمي ${MASK}`, redactions: [{ type: "phone_number", start: 5, end: 15 }] });
  });

  it("reads numbers before punctuation goes: a comma the model put between two numbers keeps them apart", () => {
    expect(itn("ألفين، وعشرين", { punctuation: "remove" })).toBe("2000 و20");
    expect(itn("ألفين وعشرين", { punctuation: "remove" })).toBe("2020");
  });

  it("keeps punctuation as written by default (FormatText)", () => {
    expect(itn("مرحبا, كيف حالك?")).toBe("مرحبا, كيف حالك?");
  });
});

describe("plain text", () => {
  it("collapses whitespace and reports offsets in the output text", () => {
    const out = formatText("  رقمي\n0551234567   شكرا ", { redaction: { types: ["phone_number"] } });
    expect(out.text).toBe(`رقمي ${MASK} شكرا`);
    expect(out.redactions).toEqual([{ type: "phone_number", start: 5, end: 15 }]);
  });
});
