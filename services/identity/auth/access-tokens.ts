// Short-lived JWT access tokens. HS256 only (a token naming any other algorithm, `none` included,
// is refused), with the signing key's id in the header so keys rotate without logging anyone out.
import { randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import type { JwtKey } from "../../platform/config/config.js";
import { UnauthenticatedError } from "../../platform/errors/errors.js";
import { ROLES, type Role } from "../model/membership.entity.js";

export interface AccessClaims {
  userId: string;
  organizationId: string;
  role: Role;
  tokenId: string;
  /** To the millisecond (the `iat` claim has whole seconds only), so revocation is exact. */
  issuedAt: Date;
  expiresAt: Date;
}

export interface IssuedAccessToken {
  token: string;
  tokenId: string;
  expiresAt: Date;
}

const ALGORITHM = "HS256";

export class AccessTokens {
  constructor(
    private readonly keys: JwtKey[],
    private readonly issuer: string,
    readonly ttlSeconds: number,
  ) {
    if (keys.length === 0) throw new Error("at least one JWT signing key is required");
  }

  issue(subject: { userId: string; organizationId: string; role: Role }): IssuedAccessToken {
    const [key] = this.keys;
    const tokenId = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const token = jwt.sign({ org: subject.organizationId, role: subject.role, iat_ms: Date.now() }, key!.secret, {
      algorithm: ALGORITHM,
      keyid: key!.kid,
      issuer: this.issuer,
      subject: subject.userId,
      jwtid: tokenId,
      expiresIn: this.ttlSeconds,
      notBefore: 0,
    });
    return { token, tokenId, expiresAt: new Date((now + this.ttlSeconds) * 1000) };
  }

  /** Whether the credential looks like a JWT at all (three base64url parts), so API keys go elsewhere. */
  static looksLikeJwt(credential: string): boolean {
    return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);
  }

  verify(token: string): AccessClaims {
    const decoded = jwt.decode(token, { complete: true });
    const key = decoded && this.keys.find((k) => k.kid === decoded.header.kid);
    if (!decoded || !key) throw new UnauthenticatedError("access token is invalid; log in again");
    let payload: jwt.JwtPayload;
    try {
      payload = jwt.verify(token, key.secret, { algorithms: [ALGORITHM], issuer: this.issuer }) as jwt.JwtPayload;
    } catch (err) {
      if (err instanceof jwt.TokenExpiredError) {
        throw new UnauthenticatedError("access token has expired; exchange your refresh token with RefreshToken");
      }
      throw new UnauthenticatedError("access token is invalid; log in again");
    }
    const { sub, org, role, jti, exp, iat_ms: issuedMs } = payload as jwt.JwtPayload & { org?: unknown; role?: unknown; iat_ms?: unknown };
    if (
      typeof sub !== "string" ||
      typeof org !== "string" ||
      typeof jti !== "string" ||
      typeof exp !== "number" ||
      typeof issuedMs !== "number" ||
      !ROLES.includes(role as Role)
    ) {
      throw new UnauthenticatedError("access token is invalid; log in again");
    }
    return { userId: sub, organizationId: org, role: role as Role, tokenId: jti, issuedAt: new Date(issuedMs), expiresAt: new Date(exp * 1000) };
  }
}
