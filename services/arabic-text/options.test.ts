// The contract's text fields to the chain's options, and what is refused for callers that skip the
// gateway's validation (the batch worker builds configs in-process).
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ArabicTextConfigSchema, NumeralStyle, RedactionConfigSchema, RedactionType } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";
import { redactionTypeOf, textChainOptions } from "./options.js";

const fields = { verbatim: false, profanityFilter: false };

describe("textChainOptions", () => {
  it("maps every field, with the contract's defaults", () => {
    // FormatText has no punctuation field: its text keeps its punctuation.
    expect(textChainOptions(fields)).toEqual({ verbatim: false, profanityFilter: false, removeDiacritics: false, numeralStyle: "western", redaction: undefined, punctuation: "keep" });
    expect(
      textChainOptions({
        verbatim: true,
        profanityFilter: true,
        arabicTextConfig: create(ArabicTextConfigSchema, { numeralStyle: NumeralStyle.ARABIC_INDIC, removeDiacritics: true }),
        redactionConfig: create(RedactionConfigSchema, { types: [RedactionType.PAYMENT_CARD, RedactionType.DIGIT_SEQUENCE] }),
        enableAutomaticPunctuation: true,
      }),
    ).toEqual({
      verbatim: true,
      profanityFilter: true,
      removeDiacritics: true,
      numeralStyle: "arabic-indic",
      redaction: { types: ["payment_card", "digit_sequence"], minDigitCount: 4 },
      punctuation: "arabic",
    });
    // RecognitionConfig's default (false) removes the model's punctuation.
    expect(textChainOptions({ ...fields, enableAutomaticPunctuation: false }).punctuation).toBe("remove");
  });

  it.each([
    [{ types: [RedactionType.UNSPECIFIED] }, "config.redaction_config.types"],
    [{ types: [42 as RedactionType] }, "config.redaction_config.types"],
    [{ types: [] }, "config.redaction_config.types"],
    [{ types: [RedactionType.PHONE_NUMBER, RedactionType.PHONE_NUMBER] }, "config.redaction_config.types"],
    [{ types: [RedactionType.DIGIT_SEQUENCE], minDigitCount: 2 }, "config.redaction_config.min_digit_count"],
    [{ types: [RedactionType.DIGIT_SEQUENCE], minDigitCount: 21 }, "config.redaction_config.min_digit_count"],
  ])("refuses %j naming %s", (redaction, field) => {
    const call = () => textChainOptions({ ...fields, redactionConfig: create(RedactionConfigSchema, redaction) }, "config.");
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(new RegExp(`^${field.replace(/\./g, "\\.")}: `));
  });

  it("refuses an unknown numeral style", () => {
    expect(() => textChainOptions({ ...fields, arabicTextConfig: create(ArabicTextConfigSchema, { numeralStyle: 9 as NumeralStyle }) })).toThrow(/^arabic_text_config\.numeral_style: /);
  });

  it("gives each kind back as the contract's enum", () => {
    expect(redactionTypeOf("national_id")).toBe(RedactionType.NATIONAL_ID);
    expect(redactionTypeOf("digit_sequence")).toBe(RedactionType.DIGIT_SEQUENCE);
  });
});
