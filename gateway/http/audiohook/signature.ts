// Genesys Cloud signs every AudioHook connection request with an HTTP message signature (RFC 9421, HMAC-SHA256
// keyed with the integration's client secret): `Signature-Input` names the covered components and the
// signature's parameters (keyid = the X-API-KEY, a nonce, created/expires), `Signature` carries the MAC. This
// module checks one: the required components covered, the key id the API key, a fresh `created`, a nonce not
// seen before, and the MAC over the signature base rebuilt from the parsed fields (so a signer that is not
// strict fails rather than a lenient reading passing).
//
// Structured fields (RFC 8941) are parsed here by hand, only the subset these two headers use (a dictionary of
// inner lists of strings with parameters, and of byte sequences): no package in the tree parses them, and the
// subset is small enough to read in one sitting.
import { createHmac, timingSafeEqual } from "node:crypto";

/** The components Genesys covers, all of which a signature must cover here. */
export const REQUIRED_COMPONENTS = ["@request-target", "@authority", "audiohook-organization-id", "audiohook-session-id", "audiohook-correlation-id", "x-api-key"] as const;

/** A signature older than this (by its `created`) is refused: Genesys signs each connection as it opens it. */
export const MAX_SIGNATURE_AGE_S = 10;
/** Clock difference allowed between Genesys and this server, either way. */
export const CLOCK_SKEW_S = 3;
/** Genesys's nonces are 16 random bytes or more, base64: 22 characters at least. */
const MIN_NONCE_LENGTH = 22;
const MAX_NONCE_LENGTH = 256;

export type BareItem = string | number | boolean | Uint8Array | { token: string };
export interface Item {
  value: BareItem;
  params: Array<[string, BareItem]>;
}
export interface InnerList {
  items: Item[];
  params: Array<[string, BareItem]>;
}

/** Thrown for a header that is not a structured-field dictionary of the subset read here. */
export class StructuredFieldError extends Error {}

/** Parses a structured-field dictionary (RFC 8941 §4.2.2) whose members are items or inner lists. */
export function parseDictionary(input: string): Map<string, Item | InnerList> {
  const p = new Parser(input);
  const out = new Map<string, Item | InnerList>();
  p.spaces();
  if (p.done()) return out;
  for (;;) {
    const key = p.key();
    let member: Item | InnerList;
    if (p.peek() === "=") {
      p.at++;
      member = p.peek() === "(" ? p.innerList() : p.item();
    } else {
      member = { value: true, params: p.params() };
    }
    out.set(key, member);
    p.ows();
    if (p.done()) return out;
    p.expect(",");
    p.ows();
    if (p.done()) throw new StructuredFieldError("a trailing comma");
  }
}

class Parser {
  at = 0;
  constructor(private readonly s: string) {}
  done(): boolean {
    return this.at >= this.s.length;
  }
  peek(): string {
    return this.s[this.at] ?? "";
  }
  expect(c: string): void {
    if (this.s[this.at] !== c) throw new StructuredFieldError(`expected ${JSON.stringify(c)} at ${this.at}`);
    this.at++;
  }
  spaces(): void {
    while (this.s[this.at] === " ") this.at++;
  }
  ows(): void {
    while (this.s[this.at] === " " || this.s[this.at] === "\t") this.at++;
  }
  key(): string {
    const m = /^[a-z*][a-z0-9_\-.*]*/.exec(this.s.slice(this.at));
    if (!m) throw new StructuredFieldError(`a key expected at ${this.at}`);
    this.at += m[0].length;
    return m[0];
  }
  params(): Array<[string, BareItem]> {
    const params: Array<[string, BareItem]> = [];
    while (this.peek() === ";") {
      this.at++;
      this.spaces();
      const key = this.key();
      let value: BareItem = true;
      if (this.peek() === "=") {
        this.at++;
        value = this.bareItem();
      }
      params.push([key, value]);
    }
    return params;
  }
  item(): Item {
    const value = this.bareItem();
    return { value, params: this.params() };
  }
  innerList(): InnerList {
    this.expect("(");
    const items: Item[] = [];
    for (;;) {
      this.spaces();
      if (this.peek() === ")") {
        this.at++;
        return { items, params: this.params() };
      }
      items.push(this.item());
      if (this.peek() !== " " && this.peek() !== ")") throw new StructuredFieldError(`a space or ")" expected at ${this.at}`);
    }
  }
  bareItem(): BareItem {
    const c = this.peek();
    const rest = this.s.slice(this.at);
    if (c === '"') return this.string();
    if (c === ":") {
      const m = /^:([A-Za-z0-9+/=]*):/.exec(rest);
      if (!m) throw new StructuredFieldError(`a byte sequence expected at ${this.at}`);
      this.at += m[0].length;
      return new Uint8Array(Buffer.from(m[1]!, "base64"));
    }
    if (c === "?") {
      const m = /^\?([01])/.exec(rest);
      if (!m) throw new StructuredFieldError(`a boolean expected at ${this.at}`);
      this.at += 2;
      return m[1] === "1";
    }
    const integer = /^-?[0-9]{1,15}(?![0-9.])/.exec(rest);
    if (integer) {
      this.at += integer[0].length;
      return Number(integer[0]);
    }
    const token = /^[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*/.exec(rest);
    if (token) {
      this.at += token[0].length;
      return { token: token[0] };
    }
    throw new StructuredFieldError(`an item expected at ${this.at}`);
  }
  string(): string {
    this.expect('"');
    let out = "";
    for (;;) {
      const c = this.s[this.at++];
      if (c === undefined) throw new StructuredFieldError("an unterminated string");
      if (c === '"') return out;
      if (c === "\\") {
        const next = this.s[this.at++];
        if (next !== '"' && next !== "\\") throw new StructuredFieldError("a bad escape in a string");
        out += next;
      } else if (c < " " || c > "~") {
        throw new StructuredFieldError("a string holds only printable ASCII");
      } else {
        out += c;
      }
    }
  }
}

export function serializeBareItem(value: BareItem): string {
  if (typeof value === "string") return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "?1" : "?0";
  if (value instanceof Uint8Array) return `:${Buffer.from(value).toString("base64")}:`;
  return value.token;
}

function serializeParams(params: Array<[string, BareItem]>): string {
  return params.map(([key, value]) => (value === true ? `;${key}` : `;${key}=${serializeBareItem(value)}`)).join("");
}

export function serializeInnerList(list: InnerList): string {
  return `(${list.items.map((i) => serializeBareItem(i.value) + serializeParams(i.params)).join(" ")})${serializeParams(list.params)}`;
}

/** The signature base (RFC 9421 §2.5) of `components` (name, value pairs in order) under `signatureParams`. */
export function signatureBase(components: Array<[string, string]>, signatureParams: InnerList): string {
  return [...components.map(([name, value]) => `"${name}": ${value}`), `"@signature-params": ${serializeInnerList(signatureParams)}`].join("\n");
}

/** A header field's value as RFC 9421 §2.1 covers it: trimmed, obsolete line folding replaced, repeats joined. */
export function canonicalHeader(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const one = (v: string) => v.trim().replace(/[ \t]*\r\n[ \t]+/g, " ");
  return Array.isArray(value) ? value.map(one).join(", ") : one(value);
}

export type VerifyOutcome = { ok: true; keyId: string } | { ok: false; reason: string };

export interface VerifyRequest {
  headers: Record<string, string | string[] | undefined>;
  /** The request's path and query, as the request line carries them. */
  requestTarget: string;
  /** The integration's client secret (decoded from the base64 Genesys shows). */
  secret: Uint8Array;
  /** Seconds since the epoch. */
  now: number;
  nonces: NonceRegistry;
}

/** Checks an AudioHook connection request's signature. The reason of a refusal is for the log, not the client. */
export function verifyAudioHookSignature(request: VerifyRequest): VerifyOutcome {
  const apiKey = canonicalHeader(request.headers["x-api-key"]);
  if (!apiKey) return { ok: false, reason: "no X-API-KEY header" };
  const inputHeader = canonicalHeader(request.headers["signature-input"]);
  const signatureHeader = canonicalHeader(request.headers["signature"]);
  if (!inputHeader || !signatureHeader) return { ok: false, reason: "the request is not signed (Signature-Input and Signature headers)" };
  let inputs: Map<string, Item | InnerList>;
  let signatures: Map<string, Item | InnerList>;
  try {
    inputs = parseDictionary(inputHeader);
    signatures = parseDictionary(signatureHeader);
  } catch (err) {
    return { ok: false, reason: `a signature header is malformed: ${(err as Error).message}` };
  }
  // Genesys sends one signature; the first is the one checked.
  const [label, input] = [...inputs][0] ?? [];
  if (!label || !input || !("items" in input)) return { ok: false, reason: "Signature-Input holds no inner list" };
  const signature = signatures.get(label);
  if (!signature || !("value" in signature) || !(signature.value instanceof Uint8Array)) return { ok: false, reason: `no byte-sequence Signature labelled ${label}` };

  const params = new Map<string, BareItem>();
  for (const [key, value] of input.params) {
    if (params.has(key)) return { ok: false, reason: `the ${key} parameter twice` };
    params.set(key, value);
  }
  const keyId = params.get("keyid");
  if (typeof keyId !== "string" || keyId !== apiKey) return { ok: false, reason: "keyid is not the X-API-KEY" };
  const alg = params.get("alg");
  if (alg !== undefined && alg !== "hmac-sha256") return { ok: false, reason: "alg must be hmac-sha256" };
  const created = params.get("created");
  if (typeof created !== "number" || !Number.isInteger(created)) return { ok: false, reason: "no integer created parameter" };
  if (created > request.now + CLOCK_SKEW_S) return { ok: false, reason: "created is in the future" };
  if (request.now - created > MAX_SIGNATURE_AGE_S + CLOCK_SKEW_S) return { ok: false, reason: "the signature is too old" };
  const expires = params.get("expires");
  if (expires !== undefined && (typeof expires !== "number" || expires < request.now - CLOCK_SKEW_S)) return { ok: false, reason: "the signature has expired" };
  const nonce = params.get("nonce");
  if (typeof nonce !== "string" || nonce.length < MIN_NONCE_LENGTH || nonce.length > MAX_NONCE_LENGTH) return { ok: false, reason: `the nonce must be ${MIN_NONCE_LENGTH} to ${MAX_NONCE_LENGTH} characters` };
  for (const key of params.keys()) if (!["keyid", "alg", "created", "expires", "nonce"].includes(key)) return { ok: false, reason: `an unknown parameter ${key}` };

  const components: Array<[string, string]> = [];
  for (const item of input.items) {
    if (typeof item.value !== "string" || item.params.length > 0) return { ok: false, reason: "components must be plain strings" };
    const name = item.value;
    if (components.some(([n]) => n === name)) return { ok: false, reason: `${name} covered twice` };
    const value = componentValue(name, request);
    if (value === undefined) return { ok: false, reason: `${name} cannot be covered` };
    components.push([name, value]);
  }
  const missing = REQUIRED_COMPONENTS.filter((name) => !components.some(([n]) => n === name));
  if (missing.length > 0) return { ok: false, reason: `the signature does not cover ${missing.join(", ")}` };

  const expected = createHmac("sha256", request.secret).update(signatureBase(components, input)).digest();
  if (expected.length !== signature.value.length || !timingSafeEqual(expected, signature.value)) return { ok: false, reason: "the signature does not match" };
  // Checked last, so an attacker's forged request never spends a real nonce.
  if (!request.nonces.remember(nonce, created + MAX_SIGNATURE_AGE_S + CLOCK_SKEW_S, request.now)) return { ok: false, reason: "the nonce was used before" };
  return { ok: true, keyId };
}

function componentValue(name: string, request: VerifyRequest): string | undefined {
  if (name === "@request-target") return request.requestTarget;
  // The authority as the client addressed it (the Host header), lower case as RFC 9421 §2.2.3 normalises it.
  if (name === "@authority") return canonicalHeader(request.headers.host)?.toLowerCase();
  if (name.startsWith("@") || name === "signature" || name === "signature-input") return undefined;
  return canonicalHeader(request.headers[name]);
}

/**
 * The nonces of the signatures taken, each until its signature could no longer be fresh, so a captured request
 * cannot be replayed. Bounded: when full of live nonces, new ones are refused (fail closed) until some lapse.
 * Per process: a replay to another gateway replica within the few seconds a signature is fresh is not caught.
 */
export class NonceRegistry {
  private readonly expiries = new Map<string, number>();

  constructor(private readonly capacity = 100_000) {}

  /** Records `nonce` until `until` (epoch seconds); false when it is already recorded or there is no room. */
  remember(nonce: string, until: number, now: number): boolean {
    if (this.expiries.size >= this.capacity) this.prune(now);
    const known = this.expiries.get(nonce);
    if (known !== undefined && known >= now) return false;
    if (this.expiries.size >= this.capacity) return false;
    this.expiries.set(nonce, until);
    return true;
  }

  private prune(now: number): void {
    for (const [nonce, until] of this.expiries) if (until < now) this.expiries.delete(nonce);
  }
}
