import { describe, expect, it } from "vitest";
import jwt from "jsonwebtoken";
import { AccessTokens } from "./access-tokens.js";
import { UnauthenticatedError } from "../../platform/errors/errors.js";

const OLD = { kid: "k2026", secret: "o".repeat(40) };
const NEW = { kid: "k2027", secret: "n".repeat(40) };
const subject = { userId: "u-1", organizationId: "o-1", role: "admin" as const };

describe("access token signing keys", () => {
  it("rotate without logging anyone out: the new key signs, the old one still verifies", () => {
    const before = new AccessTokens([OLD], "arabicstt", 900);
    const during = new AccessTokens([NEW, OLD], "arabicstt", 900);
    const after = new AccessTokens([NEW], "arabicstt", 900);
    const oldToken = before.issue(subject).token;
    expect(during.verify(oldToken)).toMatchObject({ userId: "u-1", organizationId: "o-1", role: "admin" });
    const newToken = during.issue(subject).token;
    expect(jwt.decode(newToken, { complete: true })!.header.kid).toBe(NEW.kid);
    expect(after.verify(newToken).userId).toBe("u-1");
    // Once the old key is dropped, its tokens stop working.
    expect(() => after.verify(oldToken)).toThrow(UnauthenticatedError);
  });

  it("refuses a token from another issuer signed with the same key", () => {
    const other = new AccessTokens([OLD], "someone-else", 900);
    expect(() => new AccessTokens([OLD], "arabicstt", 900).verify(other.issue(subject).token)).toThrow(UnauthenticatedError);
  });

  it("writes the configured lifetime into the token and reports the same expiry", () => {
    const issued = new AccessTokens([OLD], "arabicstt", 900).issue(subject);
    const payload = jwt.decode(issued.token) as jwt.JwtPayload;
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(issued.expiresAt.getTime()).toBe(payload.exp! * 1000);
  });
});
