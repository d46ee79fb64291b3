// The AudioHook request signature (RFC 9421 with HMAC-SHA256, as Genesys signs it): the structured fields
// read back as written, and each rule of the check (required components, key id, freshness, nonce, MAC)
// refuses a request that breaks it, on headers the simulator signs as Genesys does.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { audioHookHeaders } from "./simulator.js";
import { CLOCK_SKEW_S, MAX_SIGNATURE_AGE_S, NonceRegistry, parseDictionary, serializeInnerList, verifyAudioHookSignature, type InnerList } from "./signature.js";

const secret = randomBytes(32);
const url = new URL("wss://stt.example.com/v1/genesys/audiohook?tenant=7");
const ids = { organizationId: "d7934305-0972-4844-938e-9060eef73d05", sessionId: "e160e428-53e2-487c-977d-96989bf5c99d", correlationId: "30b0e395-84d3-4570-ac13-9a62d8f514c0", apiKey: "astt_example_key_0123456789" };

function request(headers: Record<string, string>, overrides: { now?: number; secret?: Uint8Array; nonces?: NonceRegistry; requestTarget?: string } = {}) {
  const lower = Object.fromEntries(Object.entries({ host: url.host, ...headers }).map(([k, v]) => [k.toLowerCase(), v]));
  return verifyAudioHookSignature({
    headers: lower,
    requestTarget: overrides.requestTarget ?? url.pathname + url.search,
    secret: overrides.secret ?? secret,
    now: overrides.now ?? Date.now() / 1000,
    nonces: overrides.nonces ?? new NonceRegistry(),
  });
}

/** Re-signs nothing: rewrites one Signature-Input parameter, so the MAC no longer matches unless the check stops first. */
function withParam(headers: Record<string, string>, key: string, value: string | number): Record<string, string> {
  const input = parseDictionary(headers["Signature-Input"]!).get("sig1") as InnerList;
  const params = input.params.filter(([k]) => k !== key).concat([[key, value]]);
  return { ...headers, "Signature-Input": `sig1=${serializeInnerList({ ...input, params })}` };
}

describe("AudioHook request signatures", () => {
  it("reads the structured fields Genesys writes: an inner list of strings with parameters, and a byte sequence", () => {
    const parsed = parseDictionary('sig1=("@request-target" "x-api-key");keyid="k";nonce="n\\"q";alg="hmac-sha256";created=1700000000;expires=1700000030, sig2=:AQID:;flag');
    expect(parsed.get("sig1")).toEqual({
      items: [
        { value: "@request-target", params: [] },
        { value: "x-api-key", params: [] },
      ],
      params: [
        ["keyid", "k"],
        ["nonce", 'n"q'],
        ["alg", "hmac-sha256"],
        ["created", 1700000000],
        ["expires", 1700000030],
      ],
    });
    expect(parsed.get("sig2")).toEqual({ value: new Uint8Array([1, 2, 3]), params: [["flag", true]] });
    expect(() => parseDictionary('sig1=("a" "b"')).toThrow();
    expect(() => parseDictionary("sig1=:not base64!:")).toThrow();
    expect(() => parseDictionary("sig1=1,")).toThrow();
  });

  it("verifies a request signed as Genesys signs it, with the key id the X-API-KEY", () => {
    expect(request(audioHookHeaders(url, ids, secret))).toEqual({ ok: true, keyId: ids.apiKey });
  });

  it("refuses another secret, a changed covered header or target, and an unsigned request", () => {
    const headers = audioHookHeaders(url, ids, secret);
    expect(request(headers, { secret: randomBytes(32) })).toEqual({ ok: false, reason: "the signature does not match" });
    expect(request({ ...headers, "Audiohook-Correlation-Id": "00000000-0000-4000-8000-000000000000" })).toEqual({ ok: false, reason: "the signature does not match" });
    expect(request(headers, { requestTarget: "/v1/genesys/audiohook" })).toEqual({ ok: false, reason: "the signature does not match" });
    expect(request({ ...headers, host: "evil.example.com" })).toEqual({ ok: false, reason: "the signature does not match" });
    expect(request(audioHookHeaders(url, ids, null))).toMatchObject({ ok: false, reason: expect.stringMatching(/not signed/) });
  });

  it("refuses a key id other than the X-API-KEY, another algorithm, a short nonce, and a signature missing a required component", () => {
    const headers = audioHookHeaders(url, ids, secret);
    expect(request({ ...headers, "X-API-KEY": "astt_other_key_0123456789" })).toEqual({ ok: false, reason: "keyid is not the X-API-KEY" });
    expect(request(withParam(headers, "alg", "rsa-pss-sha512"))).toEqual({ ok: false, reason: "alg must be hmac-sha256" });
    expect(request(withParam(headers, "nonce", "short"))).toMatchObject({ ok: false, reason: expect.stringMatching(/nonce/) });
    const input = parseDictionary(headers["Signature-Input"]!).get("sig1") as InnerList;
    const fewer = { ...input, items: input.items.filter((i) => i.value !== "audiohook-session-id") };
    expect(request({ ...headers, "Signature-Input": `sig1=${serializeInnerList(fewer)}` })).toEqual({ ok: false, reason: "the signature does not cover audiohook-session-id" });
  });

  it("takes a signature only while it is fresh: created not ahead of the clock, not older than the maximum age", () => {
    const headers = audioHookHeaders(url, ids, secret);
    const created = (parseDictionary(headers["Signature-Input"]!).get("sig1") as InnerList).params.find(([k]) => k === "created")![1] as number;
    expect(request(headers, { now: created - CLOCK_SKEW_S - 1 })).toEqual({ ok: false, reason: "created is in the future" });
    expect(request(headers, { now: created + MAX_SIGNATURE_AGE_S + CLOCK_SKEW_S + 1 })).toEqual({ ok: false, reason: "the signature is too old" });
    expect(request(headers, { now: created + MAX_SIGNATURE_AGE_S })).toEqual({ ok: true, keyId: ids.apiKey });
  });

  it("takes each nonce once, and spends none on a forged request", () => {
    const nonces = new NonceRegistry();
    const headers = audioHookHeaders(url, ids, secret);
    expect(request(headers, { nonces, secret: randomBytes(32) }).ok).toBe(false);
    expect(request(headers, { nonces })).toEqual({ ok: true, keyId: ids.apiKey });
    expect(request(headers, { nonces })).toEqual({ ok: false, reason: "the nonce was used before" });
  });

  it("bounds the nonces it keeps: when full of fresh ones it refuses, and makes room as they lapse", () => {
    const nonces = new NonceRegistry(2);
    expect(nonces.remember("a", 110, 100)).toBe(true);
    expect(nonces.remember("b", 120, 100)).toBe(true);
    expect(nonces.remember("c", 120, 105)).toBe(false);
    expect(nonces.remember("c", 120, 111)).toBe(true);
    expect(nonces.remember("b", 130, 111)).toBe(false);
  });
});
