// Which model and language a job runs with when its request leaves them unset, on a platform configured as
// shipped: the server's default model is whisper, whose weights are not installed (the sidecar serves it as
// unavailable), and dtmf is ready. The organisation's defaults come before the server's; a default that this
// server lacks is the operator's or admin's to fix (FAILED_PRECONDITION, saying how), never the client's.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { JobService, JobState } from "../../proto/gen/arabicstt/v1/job_pb.js";
import { MediaService } from "../../proto/gen/arabicstt/v1/media_pb.js";
import { OrganizationService } from "../../proto/gen/arabicstt/v1/organization_pb.js";
import { startIdentityGateway, type IdentityGateway } from "../../gateway/testing/identity-gateway.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { makeMediaFiles, uploadByStream, type MediaFiles } from "../../gateway/testing/media.js";

let h: IdentityGateway;
let files: MediaFiles;
beforeAll(async () => {
  [h, files] = await Promise.all([startIdentityGateway(), makeMediaFiles()]);
  expect(h.platform.config.jobs.defaultModel).toBe("whisper");
});
afterAll(async () => {
  await h?.stop();
  await files?.remove();
});

const jobs = (account: TestAccount) => h.client(JobService, { credential: account.accessToken });
const orgs = (account: TestAccount) => h.client(OrganizationService, { credential: account.accessToken });
const failure = (p: Promise<unknown>): Promise<ConnectError> =>
  p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (err: unknown) => ConnectError.from(err),
  );

async function ownerWithMedia(): Promise<{ owner: TestAccount; mediaId: string }> {
  const owner = await registerOwner(h);
  const media = await uploadByStream(h.client(MediaService, { credential: owner.accessToken }), { filename: "call.wav" }, files.wav);
  return { owner, mediaId: media.mediaId };
}

describe("CreateJob without a model", () => {
  it("is FAILED_PRECONDITION when the server's default model is not installed, saying how an operator installs it", async () => {
    const { owner, mediaId } = await ownerWithMedia();
    const refused = await failure(jobs(owner).createJob({ mediaId, config: {} }));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.rawMessage).toMatch(/^config\.model: the server's default model "whisper" is not available on this server; an operator installs it .*JOB_DEFAULT_MODEL/);
    expect(refused.rawMessage).not.toMatch(/\/tmp\/|\/work\/|data\/models/);
    // A model the client names itself that does not exist is still the client's mistake.
    expect((await failure(jobs(owner).createJob({ mediaId, config: { model: "no_such_model" } }))).code).toBe(Code.InvalidArgument);
  });

  it("runs with the organisation's default model and language, and keeps them in its config", async () => {
    const { owner, mediaId } = await ownerWithMedia();
    await orgs(owner).updateOrganization({ defaultModel: "dtmf", defaultLanguageCode: "ar-EG" });
    const created = await jobs(owner).createJob({ mediaId, config: {} });
    expect(created.job!.state).toBe(JobState.QUEUED);
    expect(created.job!.config).toMatchObject({ model: "dtmf", languageCode: "ar-EG" });

    // What the request sets wins over the organisation's defaults.
    const own = await jobs(owner).createJob({ mediaId, config: { languageCode: "ar-SA", model: "dtmf" } });
    expect(own.job!.config).toMatchObject({ model: "dtmf", languageCode: "ar-SA" });
  });

  it("is FAILED_PRECONDITION naming the organisation's default when that model is not there, and who can change it", async () => {
    const { owner, mediaId } = await ownerWithMedia();
    await orgs(owner).updateOrganization({ defaultModel: "retired_model" });
    const refused = await failure(jobs(owner).createJob({ mediaId, config: {} }));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.rawMessage).toMatch(/^config\.model: the organisation's default model "retired_model" is not installed on this server; an admin sets another with UpdateOrganization \(default_model\)/);
  });
});
