// The console's live screen in a real browser: Chromium (Debian's, driven by playwright-core) takes a WAV
// of keypad tones as its microphone, streams it through the live-session trio (CreateLiveSession,
// SendLiveAudio, WatchLiveSession) with Connect-Web, and shows the keys as a final result with DTMF
// events beside it and the level meter moving. A reload keeps what was said (the session is watched again
// from its first result) and Start goes on sending into the same session. A file can be the source too,
// a key sounding to its very end included. A network drop in the middle of a session (a proxy goes silent,
// then resets every connection) loses nothing and repeats nothing: every key shows once.
// On this platform, which runs no jobs, a queued job is cancelled and retried from the jobs list.
// Screenshots land in .tmp/console-screens/ (ignored by git).
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAudioDir, sox, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../testing/platform.js";
import { allowBrowserUploads } from "../../services/platform/blobs/testing.js";
import { TEST_PASSWORD, uniqueEmail } from "../testing/accounts.js";
import { testEnvironment } from "../../services/platform/config/test-environment.js";
import { startChaosProxy, type ChaosProxy } from "../testing/chaos-proxy.js";

const CHROMIUM = testEnvironment().chromiumPath;
/** Keys of the network drop's recording: long enough for the drop to fall in the middle. */
const DIGITS = "0123456789#";
const SCREENS = fileURLToPath(new URL("../../.tmp/console-screens/", import.meta.url));

describe.skipIf(!existsSync(CHROMIUM))(`the console's live screen in Chromium (${CHROMIUM}; apt-get install chromium)`, () => {
  let audio: AudioDir;
  let platform: TestPlatform;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  const shot = (name: string) => page.screenshot({ path: `${SCREENS}${name}.png`, fullPage: true });
  const waitOrReport = (locator: Locator, timeout: number) =>
    locator.waitFor({ timeout }).catch(async (err: Error) => {
      await shot("live-failed");
      throw new Error(`${err.message}\n${await page.locator("body").innerText()}`);
    });
  const finals = (text: string) => page.locator("#live-finals .final", { hasText: text });

  beforeAll(async () => {
    audio = await createAudioDir();
    await mkdir(SCREENS, { recursive: true });
    // No job runner here: a job stays queued, to be cancelled and retried.
    platform = await startTestPlatform({ JOB_DEFAULT_MODEL: "whisper", ...UNTHROTTLED }, { jobs: { runJobs: false } });
    await allowBrowserUploads(platform.blobs, `http://127.0.0.1:${platform.platform.gateway.httpPort}`);
    // Chromium loops the file: the keys, then silence long enough for the endpoint.
    await soxDtmf("159#", audio.path("keys.wav"), { rate: 16_000, leadMs: 600, toneMs: 150, gapMs: 150 });
    await sox("-D", audio.path("keys.wav"), "-r", "48000", audio.path("mic.wav"), "pad", "0", "3");
    // A recording that ends right on its last tone: the gap soxDtmf leaves after each key is cut off.
    await sox("-D", audio.path("keys.wav"), audio.path("ends-on-tone.wav"), "reverse", "trim", "0.15", "reverse");
    await soxDtmf(DIGITS, audio.path("digits.wav"), { rate: 16_000, leadMs: 600, toneMs: 150, gapMs: 150 });
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
    page = await browser.newPage();
    page.on("pageerror", (err) => pageErrors.push(err.message));
    await page.goto(`http://127.0.0.1:${platform.platform.gateway.httpPort}/`);
    await page.fill("#register [name=displayName]", "هند");
    await page.fill("#register [name=organizationName]", "مركز اتصال");
    await page.fill("#register [name=email]", uniqueEmail());
    await page.fill("#register [name=password]", TEST_PASSWORD);
    await page.click("#register button[type=submit]");
    await page.locator("#upload").waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await audio?.remove();
  });

  it("streams the microphone and shows the keys as a final, with DTMF events and the level meter moving", async () => {
    await page.click("a[href='#live']");
    await page.fill("#live-model", "dtmf");
    await page.click("#live-start");
    await expect.poll(() => page.evaluate<number>(`document.getElementById("level").value`), { timeout: 10_000 }).toBeGreaterThan(0);
    await waitOrReport(finals("159#").first(), 30_000);
    await expect.poll(() => page.locator("#live-events .dtmf .digit").allTextContents(), { timeout: 10_000 }).toEqual(expect.arrayContaining(["1", "5", "9", "#"]));
    expect(await page.locator("#live-output").getAttribute("dir")).toBe("rtl");
    await shot("07-live");
  }, 60_000);

  it("keeps what was said across a reload, and goes on sending into the same session", async () => {
    const sessionId = await page.locator("#live-output").getAttribute("data-session-id");
    await page.reload();
    await waitOrReport(finals("159#").first(), 15_000);
    expect(await page.locator("#live-output").getAttribute("data-session-id")).toBe(sessionId);
    const before = await finals("159#").count();
    await page.click("#live-start");
    await expect.poll(() => finals("159#").count(), { timeout: 30_000 }).toBeGreaterThan(before);
    await page.click("#live-stop");
    await page.locator("#live-status", { hasText: "انتهت الجلسة" }).waitFor({ timeout: 15_000 });
  }, 60_000);

  it("takes an audio file as the source in a new session, keeping a key that sounds to the file's very end", async () => {
    await page.click("#live-new");
    await page.check("#source-file");
    await page.fill("#live-model", "dtmf");
    // No silence after the last key: every sample of the file is sent, and the close (no FINALIZE cutting
    // into the last tone) gives the keys as one final.
    await page.setInputFiles("#live-file", audio.path("ends-on-tone.wav"));
    await page.click("#live-start");
    await waitOrReport(page.locator("#live-output"), 10_000);
    // The file's end stops the capture and closes the session.
    await waitOrReport(page.locator("#live-status", { hasText: "انتهت الجلسة" }), 30_000);
    expect(await page.locator("#live-finals .final").allTextContents()).toEqual(["159#"]);
    expect(await page.locator("#live-events .dtmf .digit").allTextContents()).toEqual(["1", "5", "9", "#"]);
  }, 60_000);

  it("loses nothing when the network drops in the middle of a session: every key shows once", async () => {
    // This page reaches the gateway through a proxy that can cut it off; its own account, its own tab.
    const proxy: ChaosProxy = await startChaosProxy({ target: { host: "127.0.0.1", port: platform.platform.gateway.httpPort } });
    const dropped = await browser.newPage();
    try {
      const failed: string[] = [];
      dropped.on("requestfailed", (r) => failed.push(r.url()));
      dropped.on("pageerror", (err) => pageErrors.push(err.message));
      await dropped.goto(`http://127.0.0.1:${proxy.port}/`);
      await dropped.fill("#register [name=displayName]", "نور");
      await dropped.fill("#register [name=organizationName]", "مركز");
      await dropped.fill("#register [name=email]", uniqueEmail());
      await dropped.fill("#register [name=password]", TEST_PASSWORD);
      await dropped.click("#register button[type=submit]");
      await dropped.locator("#upload").waitFor();
      await dropped.click("a[href='#live']");
      await dropped.check("#source-file");
      await dropped.fill("#live-model", "dtmf");
      await dropped.setInputFiles("#live-file", audio.path("digits.wav"));
      // Every status the page shows, to see that it noticed the drop.
      await dropped.evaluate(`new MutationObserver(() => { const s = document.getElementById("live-status"); if (s) (window.statuses ??= []).push(s.textContent); }).observe(document.getElementById("main"), { subtree: true, childList: true, characterData: true })`);
      await dropped.click("#live-start");
      await dropped.locator("#live-status", { hasText: "يستمع" }).waitFor({ timeout: 10_000 });
      // A second into the file: the line goes silent (a pulled cable), then every connection is reset.
      await dropped.waitForTimeout(1_000);
      proxy.freeze();
      await dropped.waitForTimeout(2_000);
      proxy.reset();
      proxy.thaw();
      const closed = dropped.locator("#live-status", { hasText: "انتهت الجلسة" });
      await closed.waitFor({ timeout: 40_000 }).catch(async (err: Error) => {
        throw new Error(`${err.message}\n${await dropped.locator("body").innerText()}`);
      });
      // The drop was real: the open watch stream broke (a chunk's call cut before its answer is resent by
      // Chromium itself, or by the page after its timeout).
      expect(failed.filter((url) => url.includes("WatchLiveSession")).length, failed.join("\n")).toBeGreaterThan(0);
      expect(await dropped.evaluate<string[]>("window.statuses")).toContain("انقطع الاتصال، جارٍ إعادة الاتصال دون فقدان ما قيل…");
      expect((await dropped.locator("#live-finals .final").allTextContents()).join("")).toBe(DIGITS);
      expect((await dropped.locator("#live-events .dtmf .digit").allTextContents()).join("")).toBe(DIGITS);
      await dropped.screenshot({ path: `${SCREENS}07c-live-after-drop.png`, fullPage: true });
    } finally {
      await dropped.close();
      await proxy.close();
    }
  }, 90_000);

  it("cancels a queued job and retries it (no job runner: it stays queued)", async () => {
    await page.click("a[href='#jobs']");
    await page.setInputFiles("#file", audio.path("keys.wav"));
    await page.fill("#model", "dtmf");
    await page.click("#upload button[type=submit]");
    const row = page.locator(".job").first();
    await waitOrReport(page.locator(".job[data-state=QUEUED] button.cancel-job").first(), 30_000);
    await row.locator("button.cancel-job").click();
    await page.locator(".job[data-state=CANCELLED] button.retry-job").first().waitFor({ timeout: 10_000 });
    await row.locator("button.retry-job").click();
    await page.locator(".job[data-state=QUEUED] button.cancel-job").first().waitFor({ timeout: 10_000 });
    expect(await page.locator(".job").count()).toBe(1);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
