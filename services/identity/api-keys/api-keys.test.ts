// API keys over real gRPC and Connect: shown once, stored hashed, scoped, revocable, expiring, and
// accepted as `authorization: Bearer` or `x-api-key`.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { toJsonString } from "@bufbuild/protobuf";
import { ApiKeyScope, ApiKeyService, ApiKeyState, ListApiKeysResponseSchema } from "../../../proto/gen/arabicstt/v1/api_key_pb.js";
import { AuthService } from "../../../proto/gen/arabicstt/v1/auth_pb.js";
import { JobService } from "../../../proto/gen/arabicstt/v1/job_pb.js";
import { startIdentityGateway, type IdentityGateway } from "../../../gateway/testing/identity-gateway.js";
import { joinAs, registerOwner, type TestAccount } from "../../../gateway/testing/accounts.js";
import { AuditEvent } from "../model/audit-event.entity.js";
import { ApiKey } from "../model/api-key.entity.js";

let h: IdentityGateway;
let owner: TestAccount;
beforeAll(async () => {
  h = await startIdentityGateway();
  owner = await registerOwner(h);
});
afterAll(() => h?.stop());

const failure = async (p: Promise<unknown>): Promise<ConnectError> => {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
};

const keys = () => h.client(ApiKeyService, { credential: owner.accessToken });
const getJob = (headers: Record<string, string>) => failure(h.client(JobService, { headers }).getJob({ jobId: randomUUID() }));

describe("API keys", () => {
  it("shows the secret once, with a recognisable prefix, and stores only its hash", async () => {
    const created = await keys().createApiKey({ name: "call-centre-riyadh", scopes: [ApiKeyScope.JOBS_READ, ApiKeyScope.SPEECH] });
    expect(created.secret).toMatch(/^astt_[A-Za-z0-9_-]{40,}$/);
    expect(created.secret.startsWith(created.apiKey!.prefix)).toBe(true);
    expect(created.apiKey!.prefix.length).toBeLessThan(16);
    expect(created.apiKey).toMatchObject({ name: "call-centre-riyadh", state: ApiKeyState.ACTIVE, createdByUserId: owner.userId });
    expect(created.apiKey!.scopes).toEqual([ApiKeyScope.SPEECH, ApiKeyScope.JOBS_READ]);

    const row = await h.testDb.db.fork().findOneOrFail(ApiKey, { id: created.apiKey!.apiKeyId });
    expect(row.keyHash).not.toContain(created.secret);
    expect(JSON.stringify(row)).not.toContain(created.secret);
    const listed = await keys().listApiKeys({});
    expect(toJsonString(ListApiKeysResponseSchema, listed)).not.toContain(created.secret.slice(created.apiKey!.prefix.length));
    expect(listed.apiKeys.map((k) => k.apiKeyId)).toContain(created.apiKey!.apiKeyId);
  });

  it("is accepted as Bearer or x-api-key for RPCs in its scopes, and records its last use", async () => {
    const { secret, apiKey } = await keys().createApiKey({ name: "reader", scopes: [ApiKeyScope.JOBS_READ] });
    // A job nobody has: NOT_FOUND means the key got past authentication and authorisation.
    expect((await getJob({ authorization: `Bearer ${secret}` })).code).toBe(Code.NotFound);
    expect((await getJob({ "x-api-key": secret })).code).toBe(Code.NotFound);
    const listed = await keys().listApiKeys({});
    expect(listed.apiKeys.find((k) => k.apiKeyId === apiKey!.apiKeyId)?.lastUsedAt).toBeDefined();
  });

  it("refuses RPCs outside its scopes, and every identity service, with PERMISSION_DENIED", async () => {
    const { secret } = await keys().createApiKey({ name: "reader", scopes: [ApiKeyScope.JOBS_READ] });
    const create = await failure(h.client(JobService, { credential: secret }).createJob({}));
    expect(create.code).toBe(Code.PermissionDenied);
    expect(create.rawMessage).toMatch(/lacks the scope/);
    expect((await failure(h.client(ApiKeyService, { credential: secret }).listApiKeys({}))).code).toBe(Code.PermissionDenied);
    expect((await failure(h.client(AuthService, { credential: secret }).getCurrentUser({}))).code).toBe(Code.PermissionDenied);
  });

  it("stops working at once when revoked; revoking again returns it unchanged", async () => {
    const { secret, apiKey } = await keys().createApiKey({ name: "short-lived", scopes: [ApiKeyScope.JOBS_READ] });
    const revoked = await keys().revokeApiKey({ apiKeyId: apiKey!.apiKeyId });
    expect(revoked.apiKey?.state).toBe(ApiKeyState.REVOKED);
    expect(revoked.apiKey?.revokedAt).toBeDefined();
    const again = await keys().revokeApiKey({ apiKeyId: apiKey!.apiKeyId });
    expect(again.apiKey?.revokedAt).toEqual(revoked.apiKey?.revokedAt);
    const err = await getJob({ "x-api-key": secret });
    expect(err.code).toBe(Code.Unauthenticated);
    expect((await keys().listApiKeys({})).apiKeys.map((k) => k.apiKeyId)).not.toContain(apiKey!.apiKeyId);
    const all = await keys().listApiKeys({ includeInactive: true });
    expect(all.apiKeys.find((k) => k.apiKeyId === apiKey!.apiKeyId)?.state).toBe(ApiKeyState.REVOKED);
    const actions = (await h.testDb.db.fork().find(AuditEvent, { targetId: apiKey!.apiKeyId })).map((e) => e.action).sort();
    expect(actions).toEqual(["api_key.create", "api_key.revoke"]);
  });

  it("stops working when it expires, and refuses forged secrets that share a real prefix", async () => {
    const { secret, apiKey } = await keys().createApiKey({
      name: "expiring",
      scopes: [ApiKeyScope.JOBS_READ],
      expiresAt: timestampFromDate(new Date(Date.now() + 3_600_000)),
    });
    expect((await getJob({ "x-api-key": secret })).code).toBe(Code.NotFound);
    const forged = secret.slice(0, apiKey!.prefix.length) + "A".repeat(secret.length - apiKey!.prefix.length);
    expect((await getJob({ "x-api-key": forged })).code).toBe(Code.Unauthenticated);
    // A key just used (and so remembered by the gateway) is refused from the moment it expires, not a TTL later.
    const soon = await keys().createApiKey({ name: "expiring soon", scopes: [ApiKeyScope.JOBS_READ], expiresAt: timestampFromDate(new Date(Date.now() + 1500)) });
    expect((await getJob({ "x-api-key": soon.secret })).code).toBe(Code.NotFound);
    const expiresAt = (await h.testDb.db.fork().findOneOrFail(ApiKey, { id: soon.apiKey!.apiKeyId })).expiresAt!.getTime();
    await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now() + 10));
    expect((await getJob({ "x-api-key": soon.secret })).code).toBe(Code.Unauthenticated);
    const all = await keys().listApiKeys({ includeInactive: true });
    expect(all.apiKeys.find((k) => k.apiKeyId === soon.apiKey!.apiKeyId)?.state).toBe(ApiKeyState.EXPIRED);
    expect(all.apiKeys.find((k) => k.apiKeyId === apiKey!.apiKeyId)?.state).toBe(ApiKeyState.ACTIVE);
  });

  it("rejects an expiry in the past, and no scopes, with INVALID_ARGUMENT", async () => {
    const past = await failure(keys().createApiKey({ name: "x", scopes: [ApiKeyScope.SPEECH], expiresAt: timestampFromDate(new Date(Date.now() - 60_000)) }));
    expect(past.code).toBe(Code.InvalidArgument);
    expect((await failure(keys().createApiKey({ name: "x", scopes: [] }))).code).toBe(Code.InvalidArgument);
  });

  it("needs the admin role: members may not create or list keys", async () => {
    const member = await joinAs(h, owner.organizationId, "member");
    const asMember = h.client(ApiKeyService, { credential: member.accessToken, protocol: "connect" });
    expect((await failure(asMember.createApiKey({ name: "mine", scopes: [ApiKeyScope.SPEECH] }))).code).toBe(Code.PermissionDenied);
    expect((await failure(asMember.listApiKeys({}))).code).toBe(Code.PermissionDenied);
    const admin = await joinAs(h, owner.organizationId, "admin");
    const created = await h.client(ApiKeyService, { credential: admin.accessToken, protocol: "connect" }).createApiKey({ name: "admin's", scopes: [ApiKeyScope.SPEECH] });
    expect(created.apiKey?.createdByUserId).toBe(admin.userId);
  });

  it("pages through the list, newest first", async () => {
    const other = await registerOwner(h);
    const client = h.client(ApiKeyService, { credential: other.accessToken });
    for (const name of ["k1", "k2", "k3"]) await client.createApiKey({ name, scopes: [ApiKeyScope.SPEECH] });
    const first = await client.listApiKeys({ pageSize: 2 });
    expect(first.apiKeys.map((k) => k.name)).toEqual(["k3", "k2"]);
    const second = await client.listApiKeys({ pageSize: 2, pageToken: first.nextPageToken });
    expect(second.apiKeys.map((k) => k.name)).toEqual(["k1"]);
    expect(second.nextPageToken).toBe("");
    expect((await failure(client.listApiKeys({ pageToken: "garbage" }))).code).toBe(Code.InvalidArgument);
  });
});
