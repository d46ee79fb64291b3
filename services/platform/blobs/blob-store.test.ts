import { describe, expect, it } from "vitest";
import { InvalidBlobKeyError, assertValidBlobKey, contentDispositionAttachment } from "./blob-store.js";
import { FsUrlSigner } from "./fs-signed-url.js";

describe("blob keys", () => {
  it("accepts the paths the services build, Arabic names included", () => {
    for (const key of ["orgs/o1/media/m1.wav", "a", "exports/تفريغ المكالمة.docx", "x/.hidden", "a..b/c"]) {
      expect(() => assertValidBlobKey(key), key).not.toThrow();
    }
  });

  it("refuses traversal, absolute paths and unportable names", () => {
    const bad = ["", "..", "a/..", "./a", "/a", "a/", "a//b", "a\\b", "a\tb", "\ud800", "x".repeat(256), "a/".repeat(600)];
    for (const key of bad) expect(() => assertValidBlobKey(key), JSON.stringify(key)).toThrow(InvalidBlobKeyError);
  });
});

describe("content disposition", () => {
  it("gives old clients an ASCII name and new ones the real UTF-8 name", () => {
    expect(contentDispositionAttachment('تفريغ "1".srt')).toBe(
      `attachment; filename="_____ _1_.srt"; filename*=UTF-8''${encodeURIComponent("تفريغ _1_.srt")}`,
    );
  });

  it("keeps only the last path segment, without leading dots, whatever the uploader named the file", () => {
    expect(contentDispositionAttachment("../../etc/passwd")).toBe(`attachment; filename="passwd"; filename*=UTF-8''passwd`);
    expect(contentDispositionAttachment("C:\\Windows\\..\\win.ini")).toBe(`attachment; filename="win.ini"; filename*=UTF-8''win.ini`);
    expect(contentDispositionAttachment("..")).toBe(`attachment; filename="download"; filename*=UTF-8''download`);
    expect(contentDispositionAttachment("a;b.wav")).toBe(`attachment; filename="a_b.wav"; filename*=UTF-8''a_b.wav`);
  });
});

describe("filesystem URL signer", () => {
  const signer = new FsUrlSigner("a-signing-secret-of-32-characters!", "http://gw.test/");
  const grant = { method: "GET" as const, bucket: "media" as const, key: "a/b c.wav", expires: 2_000_000_000 };

  it("verifies its own URLs and nothing else", () => {
    const url = new URL(signer.sign(grant));
    expect(url.pathname).toBe("/blobs/media/a/b%20c.wav");
    expect(signer.verify("GET", "media", "a/b c.wav", url.searchParams, 1_000)).toEqual({ ok: true, grant });
    expect(signer.verify("PUT", "media", "a/b c.wav", url.searchParams, 1_000)).toEqual({ ok: false, reason: "invalid" });
    expect(signer.verify("GET", "exports", "a/b c.wav", url.searchParams, 1_000).ok).toBe(false);
    const other = new FsUrlSigner("another-signing-secret-32-chars!!!", "http://gw.test");
    expect(other.verify("GET", "media", "a/b c.wav", url.searchParams, 1_000).ok).toBe(false);
  });

  it("says expired only for a genuine URL past its time", () => {
    const url = new URL(signer.sign(grant));
    expect(signer.verify("GET", "media", "a/b c.wav", url.searchParams, 2_000_000_001)).toEqual({
      ok: false,
      reason: "expired",
    });
  });

  it("ignores empty parameters a client appends, since they were never signed", () => {
    const url = new URL(signer.sign(grant));
    url.searchParams.set("contentType", "");
    url.searchParams.set("unrelated", "1");
    expect(signer.verify("GET", "media", "a/b c.wav", url.searchParams, 1_000)).toEqual({ ok: true, grant });
  });
});
