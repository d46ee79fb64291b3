// TextService/FormatText through the public API: the whole platform (auth, validation, error mapping) in
// front of the text chain, over gRPC and Connect. The chain's rules are tested in chain.test.ts; this file
// shows that every request field reaches it, and what the API refuses.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { ApiKeyScope, ApiKeyService } from "../../proto/gen/arabicstt/v1/api_key_pb.js";
import { NumeralStyle, RedactionType } from "../../proto/gen/arabicstt/v1/recognition_pb.js";
import { TextService, type FormatTextRequestSchema } from "../../proto/gen/arabicstt/v1/text_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../../gateway/testing/platform.js";
import { joinAs, registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { MASK } from "./chain.js";

let h: TestPlatform;
let owner: TestAccount;
beforeAll(async () => {
  h = await startTestPlatform(UNTHROTTLED);
  owner = await registerOwner(h);
}, 60_000);
afterAll(() => h?.stop());

const text = (protocol: "grpc" | "connect" = "grpc", credential = owner.accessToken) => h.client(TextService, { credential, protocol });
type Request = MessageInitShape<typeof FormatTextRequestSchema>;

async function refusal(req: Request, credential = owner.accessToken): Promise<{ code: Code; message: string }> {
  try {
    await text("grpc", credential).formatText(req);
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, message: e.rawMessage };
  }
  throw new Error("expected FormatText to fail");
}

describe("TextService/FormatText", () => {
  it("writes numbers of several dialects as digits, Western by default and Arabic-Indic when asked, over gRPC and Connect", async () => {
    for (const protocol of ["grpc", "connect"] as const) {
      const western = await text(protocol).formatText({ text: "دفعت ميتين وخمسين جنيه و تلاتمية واتنين وتلاتين ريال سنة ألفين وعشرين" });
      expect(western).toMatchObject({ text: "دفعت 250 جنيه و 332 ريال سنة 2020", redactions: [] });
      const indic = await text(protocol).formatText({
        text: "خمسة وعشرين و خمسطعش و اربعتاشر",
        arabicTextConfig: { numeralStyle: NumeralStyle.ARABIC_INDIC },
      });
      expect(indic.text).toBe("٢٥ و ١٥ و ١٤");
    }
  });

  it("keeps the words when verbatim, and removes diacritics and tatweel when asked", async () => {
    expect((await text().formatText({ text: "خمسة وعشرين", verbatim: true })).text).toBe("خمسة وعشرين");
    expect((await text().formatText({ text: "خَمْسَةٌ وعِشْرُونَ كتـــابا", verbatim: true, arabicTextConfig: { removeDiacritics: true } })).text).toBe(
      "خمسة وعشرون كتابا",
    );
  });

  it("redacts each type over Western and Arabic-Indic digits and numbers spoken in words, and reports the spans", async () => {
    const res = await text().formatText({
      text: "بطاقتي ٤١١١ ١١١١ ١١١١ ١١١١ وهويتي 1087654321 وجوالي صفر خمسة خمسة واحد اتنين تلاتة اربعة خمسة ستة سبعة والآيبان SA03 8000 0000 6080 1016 7519 والرمز 9876",
      redactionConfig: {
        types: [RedactionType.PAYMENT_CARD, RedactionType.NATIONAL_ID, RedactionType.PHONE_NUMBER, RedactionType.BANK_ACCOUNT, RedactionType.DIGIT_SEQUENCE],
      },
    });
    expect(res.text).toBe(`بطاقتي ${MASK} وهويتي ${MASK} وجوالي ${MASK} والآيبان ${MASK} والرمز ${MASK}`);
    expect(res.redactions.map((r) => r.type)).toEqual([
      RedactionType.PAYMENT_CARD,
      RedactionType.NATIONAL_ID,
      RedactionType.PHONE_NUMBER,
      RedactionType.BANK_ACCOUNT,
      RedactionType.DIGIT_SEQUENCE,
    ]);
    for (const r of res.redactions) expect(res.text.slice(r.startOffset, r.endOffset)).toBe(MASK);
  });

  it("redacts numbers spoken in words when verbatim too, and honours min_digit_count", async () => {
    const res = await text().formatText({
      text: "الرمز تسعة تمانية سبعة والمبلغ خمسة وعشرين",
      verbatim: true,
      redactionConfig: { types: [RedactionType.DIGIT_SEQUENCE], minDigitCount: 3 },
    });
    expect(res.text).toBe(`الرمز ${MASK} والمبلغ خمسة وعشرين`);
  });

  it("masks profanity, keeping the first letter", async () => {
    expect((await text().formatText({ text: "يا شرموطة fuck", profanityFilter: true })).text).toBe("يا ش***** f***");
    expect((await text().formatText({ text: "يا شرموطة fuck" })).text).toBe("يا شرموطة fuck");
  });

  it("answers INVALID_ARGUMENT naming the field for empty or oversized text, unknown redaction types and counts out of range", async () => {
    const cases: Array<[Request, RegExp]> = [
      [{ text: "" }, /text/],
      [{ text: "ا".repeat(100_001) }, /text/],
      [{ text: "نص", redactionConfig: { types: [99 as RedactionType] } }, /redaction_config\.types/],
      [{ text: "نص", redactionConfig: { types: [RedactionType.UNSPECIFIED] } }, /redaction_config\.types/],
      [{ text: "نص", redactionConfig: { types: [] } }, /redaction_config\.types/],
      [{ text: "نص", redactionConfig: { types: [RedactionType.PHONE_NUMBER, RedactionType.PHONE_NUMBER] } }, /redaction_config\.types/],
      [{ text: "نص", redactionConfig: { types: [RedactionType.DIGIT_SEQUENCE], minDigitCount: 2 } }, /redaction_config\.min_digit_count/],
      [{ text: "نص", redactionConfig: { types: [RedactionType.DIGIT_SEQUENCE], minDigitCount: 21 } }, /redaction_config\.min_digit_count/],
      [{ text: "نص", arabicTextConfig: { numeralStyle: 7 as NumeralStyle } }, /arabic_text_config\.numeral_style/],
      [{ text: "نص", languageCode: "Arabic!" }, /language_code/],
    ];
    for (const [req, field] of cases) {
      const { code, message } = await refusal(req);
      expect(code, JSON.stringify(req).slice(0, 80)).toBe(Code.InvalidArgument);
      expect(message).toMatch(field);
    }
    // The longest text allowed is formatted.
    expect((await text().formatText({ text: "ا".repeat(100_000) })).text).toHaveLength(100_000);
  });

  it("needs a member or an API key with the SPEECH scope, like Recognize", async () => {
    expect((await refusal({ text: "نص" }, "")).code).toBe(Code.Unauthenticated);
    const viewer = await joinAs(h, owner.organizationId, "viewer");
    expect((await refusal({ text: "نص" }, viewer.accessToken)).code).toBe(Code.PermissionDenied);
    const member = await joinAs(h, owner.organizationId, "member");
    expect((await text("grpc", member.accessToken).formatText({ text: "خمسة" })).text).toBe("5");
    const keys = h.client(ApiKeyService, { credential: owner.accessToken });
    const speech = await keys.createApiKey({ name: "text", scopes: [ApiKeyScope.SPEECH] });
    expect((await text("grpc", speech.secret).formatText({ text: "خمسة" })).text).toBe("5");
    const jobsOnly = await keys.createApiKey({ name: "jobs", scopes: [ApiKeyScope.JOBS_READ] });
    expect((await refusal({ text: "نص" }, jobsOnly.secret)).code).toBe(Code.PermissionDenied);
  });
});
