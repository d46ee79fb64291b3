// What each redaction type recognises in a run of digits. The run is plain ASCII digits, whatever was
// written or spoken (0-9, ٠-٩, ۰-۹, number words, DTMF keys) and however it was grouped; chain.ts finds
// the runs. Check digits are hand-written here: they are a few lines each, and no package covers the
// Arab states' ids.
//
// | type           | recognised                                                                              |
// |----------------|-----------------------------------------------------------------------------------------|
// | NATIONAL_ID    | Saudi Arabia: national id (starts 1) and iqama (starts 2), 10 digits, Luhn check digit.  |
// |                | UAE: Emirates ID, 15 digits 784-YYYY-NNNNNNN-C, year 1900-2099, Luhn check digit.       |
// |                | Egypt: national id, 14 digits C YYMMDD GG NNNN K: century 2 (1900s) or 3 (2000s), a real |
// |                | date of birth, a governorate code (01-04, 11-19, 21-35, 88); the check digit's algorithm |
// |                | is not published, so it is not checked.                                                  |
// |                | Kuwait: civil id, 12 digits C YYMMDD NNNN K: century 2 or 3, a real date, check digit    |
// |                | 11 - (Σ wᵢdᵢ mod 11) with weights 2 1 6 3 7 9 10 5 8 4 2.                                 |
// |                | Other states' ids (Qatar, Bahrain, Oman, Jordan, …) have no check this code knows; they |
// |                | are caught by DIGIT_SEQUENCE.                                                            |
// | PAYMENT_CARD   | 13 to 19 digits, first digit 2 to 6 (Mastercard 2/5, Amex 3, Visa and mada 4, Discover   |
// |                | and UnionPay 6), Luhn-valid. First digit 7 is left to Emirates IDs.                       |
// | BANK_ACCOUNT   | IBANs (two letters, two check digits, mod-97 = 1; the Arab states' lengths from the IBAN |
// |                | registry, 15 to 34 characters for other countries), found by chain.ts with the letters;  |
// |                | and any other run of 10 to 30 digits that no more specific enabled type takes (account   |
// |                | numbers have no common format).                                                          |
// | PHONE_NUMBER   | International: "+" or "00", then a country code and a national number of that country's |
// |                | length (Arab states, table below), or any 8 to 15 digits after "+"; the same without     |
// |                | "+"/"00" when 11 digits or more. Local: a trunk 0 and 9 to 11 digits in all (05x mobiles |
// |                | of the Gulf, 01x of Egypt, 07x of Jordan and Iraq, landlines); 8 digits starting 2 to 9  |
// |                | (Kuwait, Qatar, Bahrain, Oman, which dial without a trunk prefix).                       |
// | DIGIT_SEQUENCE | Any run of at least `min_digit_count` digits (default 4).                                |
//
// A run that several enabled types take is reported as the first of: BANK_ACCOUNT (IBAN, found first
// because of its letters), NATIONAL_ID, PAYMENT_CARD, PHONE_NUMBER, BANK_ACCOUNT (other), DIGIT_SEQUENCE.
// The types with a format (ids, cards, phones) are looked for first, longest stretch first, so two numbers
// said one after the other ("0551234567 1087654321") are two spans; account numbers and digit sequences
// take what is left.

export type RedactionKind = "payment_card" | "national_id" | "phone_number" | "bank_account" | "digit_sequence";

export const DEFAULT_MIN_DIGIT_COUNT = 4;

/** Luhn (ISO/IEC 7812-1): doubling every second digit from the right, the sum ends in 0. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 1 && sum % 10 === 0;
}

function realDate(century: number, yy: string, mm: string, dd: string): boolean {
  const year = century + Number(yy);
  const month = Number(mm);
  const day = Number(dd);
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const EGYPT_GOVERNORATES = new Set(["01", "02", "03", "04", "11", "12", "13", "14", "15", "16", "17", "18", "19", "21", "22", "23", "24", "25", "26", "27", "28", "29", "31", "32", "33", "34", "35", "88"]);
const CENTURIES: Record<string, number> = { "2": 1900, "3": 2000 };
const KUWAIT_WEIGHTS = [2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

export function isSaudiId(d: string): boolean {
  return /^[12]\d{9}$/.test(d) && luhnValid(d);
}

export function isEmiratesId(d: string): boolean {
  if (!/^784\d{12}$/.test(d)) return false;
  const year = Number(d.slice(3, 7));
  return year >= 1900 && year <= 2099 && luhnValid(d);
}

export function isEgyptianId(d: string): boolean {
  if (!/^[23]\d{13}$/.test(d)) return false;
  return realDate(CENTURIES[d[0]!]!, d.slice(1, 3), d.slice(3, 5), d.slice(5, 7)) && EGYPT_GOVERNORATES.has(d.slice(7, 9));
}

export function isKuwaitiCivilId(d: string): boolean {
  if (!/^[23]\d{11}$/.test(d)) return false;
  if (!realDate(CENTURIES[d[0]!]!, d.slice(1, 3), d.slice(3, 5), d.slice(5, 7))) return false;
  const sum = KUWAIT_WEIGHTS.reduce((s, w, i) => s + w * (d.charCodeAt(i) - 48), 0);
  const check = 11 - (sum % 11);
  return check <= 9 && check === d.charCodeAt(11) - 48;
}

export function isNationalId(d: string): boolean {
  return isSaudiId(d) || isEmiratesId(d) || isEgyptianId(d) || isKuwaitiCivilId(d);
}

export function isPaymentCard(d: string): boolean {
  return /^[2-6]\d{12,18}$/.test(d) && luhnValid(d);
}

/** National number lengths (after the country code) of the Arab states. */
const COUNTRY_CODES: ReadonlyArray<{ code: string; min: number; max: number }> = [
  { code: "966", min: 8, max: 9 }, // Saudi Arabia
  { code: "971", min: 8, max: 9 }, // UAE
  { code: "20", min: 9, max: 10 }, // Egypt
  { code: "962", min: 8, max: 9 }, // Jordan
  { code: "965", min: 8, max: 8 }, // Kuwait
  { code: "974", min: 8, max: 8 }, // Qatar
  { code: "973", min: 8, max: 8 }, // Bahrain
  { code: "968", min: 8, max: 8 }, // Oman
  { code: "961", min: 7, max: 8 }, // Lebanon
  { code: "963", min: 8, max: 9 }, // Syria
  { code: "964", min: 8, max: 10 }, // Iraq
  { code: "970", min: 8, max: 9 }, // Palestine
  { code: "967", min: 7, max: 9 }, // Yemen
  { code: "212", min: 9, max: 9 }, // Morocco
  { code: "213", min: 8, max: 9 }, // Algeria
  { code: "216", min: 8, max: 8 }, // Tunisia
  { code: "218", min: 8, max: 9 }, // Libya
  { code: "249", min: 9, max: 9 }, // Sudan
  { code: "222", min: 8, max: 8 }, // Mauritania
];

function arabCountryNumber(rest: string): boolean {
  return COUNTRY_CODES.some((c) => rest.startsWith(c.code) && rest.length - c.code.length >= c.min && rest.length - c.code.length <= c.max);
}

/** `plus`: the run was written with a leading "+". */
export function isPhoneNumber(d: string, plus: boolean): boolean {
  if (plus) return arabCountryNumber(d) || (d.length >= 8 && d.length <= 15);
  if (d.startsWith("00") && arabCountryNumber(d.slice(2))) return true;
  if (d.length >= 11 && arabCountryNumber(d)) return true;
  return /^0[1-9]\d{7,9}$/.test(d) || /^[2-9]\d{7}$/.test(d);
}

export function isAccountNumber(d: string): boolean {
  return d.length >= 10 && d.length <= 30;
}

/** IBAN lengths of the Arab states in the SWIFT IBAN registry; other countries: 15 to 34 characters. */
const IBAN_LENGTHS: Record<string, number> = {
  SA: 24, AE: 23, EG: 29, JO: 30, KW: 30, QA: 29, BH: 22, OM: 23, LB: 28, IQ: 23, PS: 29, TN: 24, MR: 27, LY: 25, SD: 18,
};

/** An IBAN: country letters, check digits, the account; spaces removed; mod-97 (ISO 13616) equals 1. */
export function isIban(candidate: string): boolean {
  const s = candidate.toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(s)) return false;
  const expected = IBAN_LENGTHS[s.slice(0, 2)];
  if (expected !== undefined && s.length !== expected) return false;
  const rearranged = s.slice(4) + s.slice(0, 4);
  let remainder = 0;
  for (const c of rearranged) {
    const value = c >= "A" ? String(c.charCodeAt(0) - 55) : c;
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

/** The most specific enabled type with a format (ids, cards, phones) that takes the run, or undefined. */
export function classifyDigits(d: string, plus: boolean, enabled: ReadonlySet<RedactionKind>): RedactionKind | undefined {
  if (enabled.has("national_id") && isNationalId(d)) return "national_id";
  if (enabled.has("payment_card") && isPaymentCard(d)) return "payment_card";
  if (enabled.has("phone_number") && isPhoneNumber(d, plus)) return "phone_number";
  return undefined;
}

/** For digits that no type with a format took: an account number, else a digit sequence, or undefined. */
export function classifyLeftover(d: string, enabled: ReadonlySet<RedactionKind>, minDigits: number): RedactionKind | undefined {
  if (enabled.has("bank_account") && isAccountNumber(d)) return "bank_account";
  if (enabled.has("digit_sequence") && d.length >= minDigits) return "digit_sequence";
  return undefined;
}
