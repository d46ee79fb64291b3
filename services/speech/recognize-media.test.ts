// Recognize with `media_id`: an uploaded, verified media item of the caller's organisation is recognised as
// if its bytes had been sent as `content`, within the same limits (60 s, 10 MiB). Every other case has its
// own clear answer: another organisation's item is NOT_FOUND (as every read of it is), an upload not yet
// verified is FAILED_PRECONDITION, an API key that may recognise but not read media is PERMISSION_DENIED,
// and an item too long for the call is INVALID_ARGUMENT naming media_id. The whole platform runs as shipped
// with its local sidecar; the model is `dtmf`, whose words are exactly the keys sox dialled.
import { readFile } from "node:fs/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAudioDir, sox, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../../gateway/testing/platform.js";
import { registerOwner, type TestAccount } from "../../gateway/testing/accounts.js";
import { uploadByPut } from "../../gateway/testing/media.js";
import { SpeechService } from "../../proto/gen/arabicstt/v1/speech_pb.js";
import { MediaService } from "../../proto/gen/arabicstt/v1/media_pb.js";
import { ApiKeyScope, ApiKeyService } from "../../proto/gen/arabicstt/v1/api_key_pb.js";

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const outcome = await call.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  if (!outcome) throw new Error("the call succeeded");
  return outcome;
}

describe("Recognize with media_id", () => {
  let h: TestPlatform;
  let owner: TestAccount;
  let audio: AudioDir;
  let keysMediaId: string;

  beforeAll(async () => {
    h = await startTestPlatform({ ...UNTHROTTLED });
    owner = await registerOwner(h);
    audio = await createAudioDir("arabicstt-recognize-media-");
    await soxDtmf("3071", audio.path("keys.wav"), { leadMs: 300 });
    const media = h.client(MediaService, { credential: owner.accessToken });
    keysMediaId = (await uploadByPut(media, "keys.wav", new Uint8Array(await readFile(audio.path("keys.wav"))))).mediaId;
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
    await audio?.remove();
  });

  it("recognises the organisation's uploaded media as if its bytes were sent, and bills it", async () => {
    const response = await h.client(SpeechService, { credential: owner.accessToken }).recognize({
      config: { model: "dtmf", enableWordTimeOffsets: true },
      audioSource: { case: "mediaId", value: keysMediaId },
    });
    expect(response.results.map((r) => r.alternatives[0]!.transcript)).toEqual(["3071"]);
    expect(response.results[0]!.alternatives[0]!.words.map((w) => w.word)).toEqual(["3", "0", "7", "1"]);
    const duration = Number(response.metadata!.audioDuration!.seconds) + response.metadata!.audioDuration!.nanos / 1e9;
    expect(duration).toBeGreaterThan(1);
    expect(Number(response.metadata!.billedDuration!.seconds)).toBe(Math.ceil(duration));
  });

  it("answers NOT_FOUND for another organisation's media, and for an id that names nothing", async () => {
    const stranger = await registerOwner(h, "منظمة أخرى");
    const speech = h.client(SpeechService, { credential: stranger.accessToken });
    for (const mediaId of [keysMediaId, "00000000-0000-4000-8000-000000000000"]) {
      const err = await failure(speech.recognize({ config: { model: "dtmf" }, audioSource: { case: "mediaId", value: mediaId } }));
      expect(err.code).toBe(Code.NotFound);
    }
  });

  it("answers FAILED_PRECONDITION for an upload that is not verified yet", async () => {
    const media = h.client(MediaService, { credential: owner.accessToken });
    const pending = await media.createUpload({ filename: "later.wav", sizeBytes: 1000n });
    const err = await failure(
      h.client(SpeechService, { credential: owner.accessToken }).recognize({ config: { model: "dtmf" }, audioSource: { case: "mediaId", value: pending.media!.mediaId } }),
    );
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toMatch(/still waiting for its upload, not ready/);
  });

  it("answers PERMISSION_DENIED to an API key that may recognise but not read media, and serves one that may", async () => {
    const keys = h.client(ApiKeyService, { credential: owner.accessToken });
    const speechOnly = await keys.createApiKey({ name: "speech only", scopes: [ApiKeyScope.SPEECH] });
    const denied = await failure(
      h.client(SpeechService, { credential: speechOnly.secret }).recognize({ config: { model: "dtmf" }, audioSource: { case: "mediaId", value: keysMediaId } }),
    );
    expect(denied.code).toBe(Code.PermissionDenied);
    expect(denied.rawMessage).toMatch(/^media_id: .*media:read scope/);

    const reader = await keys.createApiKey({ name: "speech and media", scopes: [ApiKeyScope.SPEECH, ApiKeyScope.MEDIA_READ] });
    const response = await h.client(SpeechService, { credential: reader.secret }).recognize({ config: { model: "dtmf" }, audioSource: { case: "mediaId", value: keysMediaId } });
    expect(response.results.map((r) => r.alternatives[0]!.transcript)).toEqual(["3071"]);
  });

  it("refuses media longer than Recognize takes with INVALID_ARGUMENT naming media_id, before reading it", async () => {
    await sox("-D", "-n", "-r", "8000", "-c", "1", "-b", "16", audio.path("long.wav"), "synth", "61", "sine", "440", "vol", "0.3");
    const media = h.client(MediaService, { credential: owner.accessToken });
    const long = await uploadByPut(media, "long.wav", new Uint8Array(await readFile(audio.path("long.wav"))));
    const err = await failure(h.client(SpeechService, { credential: owner.accessToken }).recognize({ config: { model: "dtmf" }, audioSource: { case: "mediaId", value: long.mediaId } }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/^media_id: media .* lasts 61\.0 s, more than the 60 s this call takes; transcribe it with a batch job/);
  });
});
