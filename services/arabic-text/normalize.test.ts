import { describe, expect, it } from "vitest";
import { DISPLAY_PRESET, SCORING_PRESET, normalizeArabic, resolveNormalizeOptions } from "./normalize.js";
import type { NormalizeOptions } from "./normalize.js";

/** Only the named rule on (everything else off), to test one rule at a time. */
const NOTHING: NormalizeOptions = {
  foldPresentationForms: false,
  unicodeForm: "NFC",
  removeFormatControls: false,
  removeDiacritics: false,
  removeTatweel: false,
  foldAlef: false,
  foldHamza: false,
  foldTaaMarbuta: false,
  foldAlefMaqsura: false,
  foldFarsiLetters: false,
  digits: "keep",
  punctuation: "keep",
  lowercase: false,
};
const only = (rule: Partial<NormalizeOptions>) => ({ ...NOTHING, ...rule });

describe("normalizeArabic, one rule at a time", () => {
  it("1: folds presentation forms into the letters they draw", () => {
    const rule = only({ foldPresentationForms: true });
    expect(normalizeArabic("\uFEFB", rule)).toBe("لا"); // ﻻ lam-alef ligature
    expect(normalizeArabic("\uFDF2", rule)).toBe("الله"); // ﷲ
    expect(normalizeArabic("\uFE8D\uFEDF\uFEE4\uFEAE", rule)).toBe("المر"); // ﺍﻟﻤﺮ
    expect(normalizeArabic("\uFE91\uFEF4\uFE96", rule)).toBe("بيت"); // ﺑﻴﺖ
    // An isolated mark form attaches to the letter before it instead of leaving a space.
    expect(normalizeArabic("ب\uFE76", rule)).toBe("بَ"); // ﹶ fatha isolated form
    // Nothing else is touched: Latin compatibility characters are rule 2's business.
    expect(normalizeArabic("x²", rule)).toBe("x²");
    expect(normalizeArabic("\uFEFB", NOTHING)).toBe("\uFEFB");
  });

  it("2: NFC composes; NFKC also folds compatibility characters", () => {
    expect(normalizeArabic("\u0627\u0654", only({ unicodeForm: "NFC" }))).toBe("\u0623"); // ا + hamza above → أ
    expect(normalizeArabic("\u0627\u0653", only({ unicodeForm: "NFC" }))).toBe("\u0622"); // ا + maddah → آ
    expect(normalizeArabic("x² Ａ", only({ unicodeForm: "NFC" }))).toBe("x² Ａ");
    expect(normalizeArabic("x² Ａ", only({ unicodeForm: "NFKC" }))).toBe("x2 A");
  });

  it("3: drops invisible format controls", () => {
    const rule = only({ removeFormatControls: true });
    expect(normalizeArabic("\u200Fمر\u200Cحبا\u200D\u200E\u061C\uFEFF\u2066x\u2069\u202B\u202C\u2060\u200B", rule)).toBe("مرحباx");
    expect(normalizeArabic("مر\u200Cحبا", NOTHING)).toBe("مر\u200Cحبا");
  });

  it("4: drops tashkeel, superscript alef and Quranic marks", () => {
    const rule = only({ removeDiacritics: true });
    expect(normalizeArabic("مُحَمَّدٌ", rule)).toBe("محمد"); // damma, fatha, shadda, dammatan
    expect(normalizeArabic("كِتَابًا", rule)).toBe("كتابا"); // kasra, fathatan
    expect(normalizeArabic("قُلْ", rule)).toBe("قل"); // sukun
    expect(normalizeArabic("هٰذا", rule)).toBe("هذا"); // U+0670 superscript alef
    expect(normalizeArabic("الرَّحِيمِ ۝١", rule)).toBe("الرحيم ١"); // U+06DD end of ayah
    expect(normalizeArabic("عَلَيْهِمْ ۖ", rule)).toBe("عليهم"); // U+06D6 small high ligature
    expect(normalizeArabic("صلى الله عليه وسلم\u0610", rule)).toBe("صلى الله عليه وسلم"); // U+0610 honorific
    // Every code point of the documented ranges goes.
    const ranges: Array<[number, number]> = [[0x064b, 0x065f], [0x0670, 0x0670], [0x0610, 0x061a], [0x06d6, 0x06ed], [0x08d3, 0x08ff]];
    for (const [from, to] of ranges) {
      for (let c = from; c <= to; c++) expect(normalizeArabic(`ب${String.fromCodePoint(c)}ت`, rule), c.toString(16)).toBe("بت");
    }
    // Letters with a hamza or maddah are letters, not diacritics.
    expect(normalizeArabic("أإآؤئ", rule)).toBe("أإآؤئ");
    expect(normalizeArabic("مُحَمَّد", NOTHING)).toBe("مُحَمَّد");
  });

  it("5: drops tatweel", () => {
    expect(normalizeArabic("كتـــاب الـZoom", only({ removeTatweel: true }))).toBe("كتاب الZoom");
    expect(normalizeArabic("كتـاب", NOTHING)).toBe("كتـاب");
  });

  it("6: folds alef forms to bare alef", () => {
    expect(normalizeArabic("أحمد إبراهيم آمنة ٱلله", only({ foldAlef: true }))).toBe("احمد ابراهيم امنة الله");
    expect(normalizeArabic("أحمد", NOTHING)).toBe("أحمد");
  });

  it("7: folds hamza on waw and yaa, keeps lone hamza", () => {
    expect(normalizeArabic("مسؤول مسائل سماء", only({ foldHamza: true }))).toBe("مسوول مسايل سماء");
    expect(normalizeArabic("مسؤول", NOTHING)).toBe("مسؤول");
  });

  it("8: folds taa marbuta to haa", () => {
    expect(normalizeArabic("مدرسة جميلة", only({ foldTaaMarbuta: true }))).toBe("مدرسه جميله");
    expect(normalizeArabic("مدرسة", NOTHING)).toBe("مدرسة");
  });

  it("9: folds alef maqsura to yaa", () => {
    expect(normalizeArabic("على مستشفى", only({ foldAlefMaqsura: true }))).toBe("علي مستشفي");
    expect(normalizeArabic("على", NOTHING)).toBe("على");
  });

  it("10: folds Persian yeh and keheh to Arabic yaa and kaf", () => {
    expect(normalizeArabic("\u06CCوم \u06A9تاب", only({ foldFarsiLetters: true }))).toBe("يوم كتاب");
    expect(normalizeArabic("\u06A9", NOTHING)).toBe("\u06A9");
  });

  it("11: converts digits either way", () => {
    const ascii = only({ digits: "ascii" });
    expect(normalizeArabic("٠١٢٣٤٥٦٧٨٩", ascii)).toBe("0123456789");
    expect(normalizeArabic("۰۱۲۳۴۵۶۷۸۹", ascii)).toBe("0123456789");
    expect(normalizeArabic("٣٫٥ و ١٬٠٠٠", ascii)).toBe("3.5 و 1000"); // decimal and thousands separators
    const arabic = only({ digits: "arabic-indic" });
    expect(normalizeArabic("2024 و ۱۲", arabic)).toBe("٢٠٢٤ و ١٢");
    expect(normalizeArabic("٢٠٢٤ 2024", NOTHING)).toBe("٢٠٢٤ 2024");
  });

  describe("12: punctuation", () => {
    it("remove: every punctuation mark and symbol becomes a space", () => {
      const rule = only({ punctuation: "remove" });
      expect(normalizeArabic("قال، ثم سأل: لماذا؟ نعم؛ «حسناً» “ok” (نعم) - end! ۔ 50٪ 50%", rule)).toBe(
        "قال ثم سأل لماذا نعم حسناً ok نعم end 50 50",
      );
      expect(normalizeArabic("co-op it's a.b", rule)).toBe("co op it s a b");
      expect(normalizeArabic("$5 + 3 = 8 ★", rule)).toBe("5 3 8");
    });

    it("remove: keeps a decimal point and drops a thousands comma inside a number", () => {
      const rule = only({ punctuation: "remove" });
      expect(normalizeArabic("3.5 1,000 ٣٫٥ ١٬٠٠٠", rule)).toBe("3.5 1000 ٣.٥ ١٠٠٠");
      expect(normalizeArabic("رقم 3. ثم ,4", rule)).toBe("رقم 3 ثم 4");
    });

    it("latin: Arabic marks become their Latin counterparts and quotes are unified", () => {
      expect(normalizeArabic("قال، لماذا؟ نعم؛ ۔ ٪ «حسنا» “x” ‘y’", only({ punctuation: "latin" }))).toBe(
        'قال, لماذا? نعم; . % "حسنا" "x" \'y\'',
      );
    });

    it("arabic: Latin comma, semicolon and question mark become Arabic, except inside numbers", () => {
      expect(normalizeArabic("قال, لماذا? نعم; 1,000 “x”", only({ punctuation: "arabic" }))).toBe('قال، لماذا؟ نعم؛ 1,000 "x"');
    });

    it("keep: unchanged", () => {
      expect(normalizeArabic("قال، لماذا؟", NOTHING)).toBe("قال، لماذا؟");
    });
  });

  it("13: lower-cases", () => {
    expect(normalizeArabic("Zoom IPHONE مرحبا", only({ lowercase: true }))).toBe("zoom iphone مرحبا");
    expect(normalizeArabic("Zoom", NOTHING)).toBe("Zoom");
  });

  it("14: always collapses whitespace and trims", () => {
    expect(normalizeArabic("  مرحبا\t\tبك\n\u00A0\u2003يا\u3000صديقي  ", NOTHING)).toBe("مرحبا بك يا صديقي");
    expect(normalizeArabic("", NOTHING)).toBe("");
    expect(normalizeArabic(" \n ", NOTHING)).toBe("");
  });
});

describe("presets", () => {
  const raw = "\u200Fقَالَ أَحْمَدُ: «الْمَدْرَسَةُ عَلَى بُعْدِ ٣ كيلومترات»، هَلْ تَـــذْهَبُ إلى Zoom؟ ﻻ";

  it("scoring folds every spelling variant speech cannot distinguish", () => {
    expect(normalizeArabic(raw)).toBe("قال احمد المدرسه علي بعد 3 كيلومترات هل تذهب الي zoom لا");
    expect(normalizeArabic(raw, "scoring")).toBe(normalizeArabic(raw, SCORING_PRESET));
  });

  it("scoring makes spelling variants of the same words equal", () => {
    expect(normalizeArabic("إلى المدرسة، مسؤول!")).toBe(normalizeArabic("الى المدرسه مسوول"));
    expect(normalizeArabic("٢٠٢٤ ۱۲")).toBe(normalizeArabic("2024 12"));
  });

  it("display keeps letters, diacritics, digits and punctuation as written", () => {
    expect(normalizeArabic(raw, "display")).toBe("قَالَ أَحْمَدُ: «الْمَدْرَسَةُ عَلَى بُعْدِ ٣ كيلومترات»، هَلْ تَذْهَبُ إلى Zoom؟ لا");
    expect(normalizeArabic(raw, "display")).toBe(normalizeArabic(raw, DISPLAY_PRESET));
  });

  it("partial options start from the scoring preset", () => {
    expect(resolveNormalizeOptions({ foldTaaMarbuta: false })).toEqual({ ...SCORING_PRESET, foldTaaMarbuta: false });
    expect(normalizeArabic("مدرسة", { foldTaaMarbuta: false })).toBe("مدرسة");
  });

  it("is idempotent", () => {
    for (const preset of ["scoring", "display"] as const) {
      const once = normalizeArabic(raw, preset);
      expect(normalizeArabic(once, preset)).toBe(once);
    }
  });
});
