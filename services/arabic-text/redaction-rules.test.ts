// The checks behind each redaction type, digit string by digit string.
import { describe, expect, it } from "vitest";
import { classifyDigits, classifyLeftover, isEgyptianId, isEmiratesId, isIban, isKuwaitiCivilId, isPaymentCard, isPhoneNumber, isSaudiId, luhnValid, type RedactionKind } from "./redaction-rules.js";

const ALL: ReadonlySet<RedactionKind> = new Set(["payment_card", "national_id", "phone_number", "bank_account", "digit_sequence"]);

describe("redaction rules", () => {
  it("Luhn: test card numbers pass, a changed digit fails", () => {
    for (const card of ["4111111111111111", "5500000000000004", "378282246310005", "6011111111111117", "2223003122003222"]) {
      expect(luhnValid(card), card).toBe(true);
      expect(isPaymentCard(card), card).toBe(true);
    }
    expect(luhnValid("4111111111111112")).toBe(false);
    // Luhn-valid, but an Emirates ID's 784 is no card prefix, and 12 digits is too short.
    expect(isPaymentCard("784199012345676")).toBe(false);
    expect(isPaymentCard("411111111113")).toBe(false);
  });

  it("Saudi ids and iqamas: 10 digits, 1 or 2 first, Luhn check digit", () => {
    expect(isSaudiId("1087654321")).toBe(true);
    expect(isSaudiId("2456789011")).toBe(true);
    expect(isSaudiId("3087654329")).toBe(false);
    expect(isSaudiId("1087654320")).toBe(false);
  });

  it("Emirates IDs: 784, a year, Luhn", () => {
    expect(isEmiratesId("784199012345676")).toBe(true);
    expect(isEmiratesId("784189012345670")).toBe(false);
    expect(isEmiratesId("784199012345675")).toBe(false);
  });

  it("Egyptian national ids: century, a real birth date, a governorate", () => {
    expect(isEgyptianId("29001010123456")).toBe(true);
    expect(isEgyptianId("30402292112345")).toBe(true); // 29 February 2004, Giza
    expect(isEgyptianId("30302292112345")).toBe(false); // 2003 had no 29 February
    expect(isEgyptianId("29001010523456")).toBe(false); // governorate 05 does not exist
    expect(isEgyptianId("19001010123456")).toBe(false); // century 1
  });

  it("Kuwaiti civil ids: century, a real date, the weighted mod-11 check digit", () => {
    expect(isKuwaitiCivilId("290010112346")).toBe(true);
    expect(isKuwaitiCivilId("290010112345")).toBe(false);
    expect(isKuwaitiCivilId("291310112346")).toBe(false);
  });

  it("IBANs: registry lengths of Arab states and mod 97", () => {
    for (const iban of ["SA0380000000608010167519", "AE070331234567890123456", "EG380019000500000000263180002", "GB82WEST12345698765432", "sa0380000000608010167519"]) {
      expect(isIban(iban), iban).toBe(true);
    }
    expect(isIban("SA0380000000608010167518")).toBe(false);
    expect(isIban("SA03800000006080101675")).toBe(false); // a valid remainder is not enough: SA is 24 long
  });

  it("phone numbers: country codes with their lengths, trunk-prefixed local numbers, Gulf 8-digit numbers", () => {
    const phones: Array<[string, boolean]> = [
      ["966501234567", false], ["966501234567", true], ["00966501234567", false], ["971501234567", true], ["201012345678", true],
      ["96522345678", false], ["0551234567", false], ["01012345678", false], ["0791234567", false], ["22345678", false], ["4412345678", true],
    ];
    for (const [d, plus] of phones) expect(isPhoneNumber(d, plus), d).toBe(true);
    for (const d of ["12345", "1234567", "12345678", "96612", "0123"]) expect(isPhoneNumber(d, false), d).toBe(false);
  });

  it("classifies ids before cards before phones, and leaves account numbers and digit runs to what is left over", () => {
    expect(classifyDigits("1087654321", false, ALL)).toBe("national_id");
    expect(classifyDigits("1087654321", false, new Set(["phone_number"]))).toBeUndefined();
    expect(classifyDigits("4111111111111111", false, ALL)).toBe("payment_card");
    expect(classifyDigits("0551234567", false, ALL)).toBe("phone_number");
    expect(classifyDigits("123456789012", false, ALL)).toBeUndefined();
    expect(classifyLeftover("123456789012", ALL, 4)).toBe("bank_account");
    expect(classifyLeftover("1234", ALL, 4)).toBe("digit_sequence");
    expect(classifyLeftover("1234", ALL, 5)).toBeUndefined();
  });
});
