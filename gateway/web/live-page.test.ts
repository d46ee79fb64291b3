// The live page in a real browser: Chromium (Debian's, driven by playwright-core) opens /live,
// takes a WAV file of keypad tones as its microphone, streams it through the live-session trio
// with Connect-Web, and shows the keys as a final result, right to left.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAudioDir, sox, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../testing/platform.js";
import { registerOwner } from "../testing/accounts.js";
import { ApiKeyScope, ApiKeyService } from "../../proto/gen/arabicstt/v1/api_key_pb.js";
import { testEnvironment } from "../../services/platform/config/test-environment.js";

const CHROMIUM = testEnvironment().chromiumPath;

describe.skipIf(!existsSync(CHROMIUM))(`the live page in Chromium (${CHROMIUM}; apt-get install chromium)`, () => {
  let audio: AudioDir;
  let platform: TestPlatform;
  let apiKey: string;
  let browser: Browser;

  beforeAll(async () => {
    audio = await createAudioDir();
    // The whole platform, through the root `npm start` uses, with its own in-process sidecar: the page is
    // served by its HTTP listener.
    platform = await startTestPlatform({ JOB_DEFAULT_MODEL: "whisper", ...UNTHROTTLED });
    const owner = await registerOwner(platform);
    const created = await platform.client(ApiKeyService, { credential: owner.accessToken }).createApiKey({ name: "live page", scopes: [ApiKeyScope.SPEECH] });
    apiKey = created.secret;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await audio?.remove();
  });

  it("streams the microphone through the live-session trio and shows the final result", async () => {
    // Chromium loops the file: the keys, then silence long enough for the endpoint.
    await soxDtmf("159#", audio.path("keys.wav"), { rate: 16_000, leadMs: 600, toneMs: 150, gapMs: 150 });
    await sox("-D", audio.path("keys.wav"), "-r", "48000", audio.path("mic.wav"), "pad", "0", "3");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        `--use-file-for-fake-audio-capture=${audio.path("mic.wav")}`,
        "--autoplay-policy=no-user-gesture-required",
        "--no-sandbox",
      ],
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(`http://127.0.0.1:${platform.platform.gateway.httpPort}/live?model=dtmf#key=${apiKey}`);
    expect(await page.locator("html").getAttribute("dir")).toBe("rtl");
    await page.click("#start");
    await page.locator(".final", { hasText: "159#" }).first().waitFor({ timeout: 30_000 });
    await page.click("#stop");
    await page.locator("#status", { hasText: "انتهت الجلسة" }).waitFor({ timeout: 15_000 });
    expect(errors).toEqual([]);
  }, 60_000);
});
