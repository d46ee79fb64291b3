import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, signWebhook, verifyWebhookSignature } from "./signature.js";
import { retryDelayMs } from "./dispatcher.js";
import { SecretBox } from "./secret-box.js";

describe("webhook signatures (Standard Webhooks)", () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const body = '{"id":"evt","type":"job.succeeded"}';
  const at = new Date(1_764_000_000_000);

  it("signs `${id}.${timestamp}.${body}` with the secret's base64-decoded bytes", () => {
    const headers = signWebhook([secret], "msg_1", body, at);
    const expected = createHmac("sha256", Buffer.from("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "base64")).update(`msg_1.1764000000.${body}`).digest("base64");
    expect(headers).toEqual({ "webhook-id": "msg_1", "webhook-timestamp": "1764000000", "webhook-signature": `v1,${expected}` });
    expect(verifyWebhookSignature(secret, headers as unknown as Record<string, string>, body, 300, at)).toEqual({ ok: true });
  });

  it("rejects a changed body, another secret, an old timestamp and missing headers", () => {
    const headers = signWebhook([secret], "msg_1", body, at) as unknown as Record<string, string>;
    expect(verifyWebhookSignature(secret, headers, body + " ", 300, at).ok).toBe(false);
    expect(verifyWebhookSignature(newWebhookSecret(), headers, body, 300, at).ok).toBe(false);
    expect(verifyWebhookSignature(secret, headers, body, 300, new Date(at.getTime() + 301_000))).toEqual({ ok: false, reason: "timestamp outside tolerance" });
    expect(verifyWebhookSignature(secret, { ...headers, "webhook-id": "msg_2" }, body, 300, at).ok).toBe(false);
    expect(verifyWebhookSignature(secret, {}, body)).toEqual({ ok: false, reason: "missing headers" });
  });

  it("carries one signature per secret while a rotated secret is valid; each verifies", () => {
    const next = newWebhookSecret();
    const headers = signWebhook([next, secret], "msg_1", body, at) as unknown as Record<string, string>;
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(verifyWebhookSignature(next, headers, body, 300, at).ok).toBe(true);
    expect(verifyWebhookSignature(secret, headers, body, 300, at).ok).toBe(true);
  });
});

describe("retry schedule", () => {
  it("grows fourfold from the base, within ±20 % jitter, capped at 6 hours", () => {
    expect(retryDelayMs(1, 10_000, () => 0.5)).toBe(10_000);
    expect(retryDelayMs(3, 10_000, () => 0.5)).toBe(160_000);
    expect(retryDelayMs(2, 10_000, () => 0)).toBe(32_000);
    expect(retryDelayMs(2, 10_000, () => 1)).toBe(48_000);
    expect(retryDelayMs(20, 10_000, () => 0.5)).toBe(6 * 3600 * 1000);
  });
});

describe("secret box", () => {
  it("opens what it sealed, and nothing sealed under another key", () => {
    const box = new SecretBox("a".repeat(32));
    const sealed = box.seal("whsec_abc");
    expect(sealed).not.toContain("whsec_abc");
    expect(box.open(sealed)).toBe("whsec_abc");
    expect(() => new SecretBox("b".repeat(32)).open(sealed)).toThrow();
  });
});
