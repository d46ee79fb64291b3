/** What a sign-in hands out: a short-lived access token and the refresh token that renews it, for one organisation. */
export interface Tokens {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  organizationId: string;
}
