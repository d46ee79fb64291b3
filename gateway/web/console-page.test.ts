// The console in a real browser: Chromium (Debian's, driven by playwright-core) opens `/` on a running
// platform, registers, signs out and in again, uploads a WAV of keypad tones through the presigned
// flow, runs a job with the `dtmf` model, watches it succeed, reads the keys in the transcript, exports
// it and gets the download; then makes an API key, sees its secret once, and revokes it. A wrong
// password shows a plain-words error with the request id. On the transcript, a click on a word seeks the
// audio player there; an edited segment stays edited after a reload and an Arabic search finds it. Screenshots of each screen land in
// .tmp/console-screens/ (ignored by git) for a reviewer.
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAudioDir, soxDtmf, type AudioDir } from "../../inference/local/testing/audio.js";
import { startTestPlatform, UNTHROTTLED, type TestPlatform } from "../testing/platform.js";
import { allowBrowserUploads } from "../../services/platform/blobs/testing.js";
import { TEST_PASSWORD, uniqueEmail } from "../testing/accounts.js";
import { testEnvironment } from "../../services/platform/config/test-environment.js";
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from "../testing/smtp.js";

const CHROMIUM = testEnvironment().chromiumPath;
const NEW_PASSWORD = "a brand new passphrase 2026";
const SCREENS = fileURLToPath(new URL("../../.tmp/console-screens/", import.meta.url));

describe.skipIf(!existsSync(CHROMIUM))(`the console in Chromium (${CHROMIUM}; apt-get install chromium)`, () => {
  let audio: AudioDir;
  let platform: TestPlatform;
  let browser: Browser;
  let page: Page;
  let smtp: TestSmtpServer;
  const pageErrors: string[] = [];
  const email = uniqueEmail();
  /** The link to `path` in a message, as the mail gives it (the console's own origin: PUBLIC_BASE_URL). */
  const linkIn = (mail: ReceivedMail, path: string) => {
    const link = new RegExp(`http://127\\.0\\.0\\.1:\\d+${path}\\?token=[A-Za-z0-9_-]+`).exec(mail.text)?.[0];
    if (!link) throw new Error(`no ${path} link in:\n${mail.text}`);
    return link;
  };

  const shot = (name: string) => page.screenshot({ path: `${SCREENS}${name}.png`, fullPage: true });
  /** Waits for an element; when it does not come, the failure says what the page shows instead. */
  const waitOrReport = (locator: Locator, timeout: number) =>
    locator.waitFor({ timeout }).catch(async (err: Error) => {
      await shot("failed");
      throw new Error(`${err.message}\n${await page.locator("body").innerText()}`);
    });

  beforeAll(async () => {
    audio = await createAudioDir();
    await mkdir(SCREENS, { recursive: true });
    // Mail goes to an SMTP server in the test, whose links the browser follows.
    smtp = await startSmtpServer();
    // The API process runs the jobs itself (with Redis too), recognising with its in-process sidecar.
    platform = await startTestPlatform({ ...UNTHROTTLED, SMTP_URL: smtp.url }, { jobs: { runJobs: true } });
    await allowBrowserUploads(platform.blobs, `http://127.0.0.1:${platform.platform.gateway.httpPort}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    page = await browser.newPage({ acceptDownloads: true });
    page.on("pageerror", (err) => pageErrors.push(err.message));
    // The filesystem store signs upload URLs for 127.0.0.1: the page is opened on the same origin.
    await page.goto(`http://127.0.0.1:${platform.platform.gateway.httpPort}/`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await smtp?.close();
    await audio?.remove();
  });

  it("is right to left and Arabic first, and switches to English and back", async () => {
    expect(await page.locator("html").getAttribute("dir")).toBe("rtl");
    await expect.poll(() => page.locator("#register h2").textContent()).toBe("إنشاء حساب");
    await page.click("#language");
    expect(await page.locator("html").getAttribute("dir")).toBe("ltr");
    expect(await page.locator("#register h2").textContent()).toBe("Create account");
    await page.click("#language");
    expect(await page.locator("html").getAttribute("lang")).toBe("ar");
  });

  it("registers, signs out, and signs in again; a wrong password is explained with the request id", async () => {
    await shot("01-account");
    await page.fill("#register [name=displayName]", "سارة");
    await page.fill("#register [name=organizationName]", "مركز اتصال جدة");
    await page.fill("#register [name=email]", email);
    await page.fill("#register [name=password]", TEST_PASSWORD);
    // From the keyboard: Enter in the last field submits the form.
    await page.press("#register [name=password]", "Enter");
    await page.locator("#upload").waitFor();
    await page.click("#sign-out");
    await page.locator("#sign-in").waitFor();

    await page.fill("#sign-in [name=email]", email);
    await page.fill("#sign-in [name=password]", "not the password at all");
    await page.click("#sign-in button[type=submit]");
    const error = page.locator(".error[role=alert]");
    await error.waitFor();
    expect(await error.textContent()).toContain("سجّل الدخول مرة أخرى");
    expect(await error.locator(".request-id").textContent()).toMatch(/^[\w-]{8,}$/);
    await shot("02-error");
    await error.locator("button").press("Enter");

    await page.fill("#sign-in [name=password]", TEST_PASSWORD);
    await page.click("#sign-in button[type=submit]");
    await page.locator("#upload").waitFor();
  }, 30_000);

  it("uploads a file of keypad tones, runs a dtmf job to its transcript, and exports it", async () => {
    await soxDtmf("159#", audio.path("keys.wav"), { leadMs: 300 });
    await page.setInputFiles("#file", audio.path("keys.wav"));
    await page.fill("#model", "dtmf");
    await page.click("#upload button[type=submit]");
    const done = page.locator(".job[data-state=SUCCEEDED] a.open-transcript").first();
    await waitOrReport(done, 60_000);
    await shot("03-jobs");
    await done.click();
    await waitOrReport(page.locator("#segments .segment").first(), 30_000);
    expect(await page.locator("#segments").getAttribute("dir")).toBe("rtl");
    expect((await page.locator("#segments .text").allTextContents()).join(" ").replace(/\s+/g, "")).toContain("159#");
    await shot("04-transcript");

    await page.selectOption("#export-format", { label: "SRT" });
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: 30_000 }), page.click("#export")]);
    expect(download.suggestedFilename()).toMatch(/\.srt$/);
    const srt = await readFile((await download.path())!, "utf8");
    expect(srt).toContain("-->");
    expect(srt.replace(/\s+/g, "")).toContain("159#");
  }, 90_000);

  it("takes a file dropped on the upload form", async () => {
    await page.click("a[href='#jobs']");
    await page.locator("#upload").waitFor();
    const before = await page.locator(".job[data-state=SUCCEEDED]").count();
    const bytes = (await readFile(audio.path("keys.wav"))).toString("base64");
    const dataTransfer = await page.evaluateHandle(
      `(() => { const dt = new DataTransfer(); dt.items.add(new File([Uint8Array.from(atob(${JSON.stringify(bytes)}), (c) => c.charCodeAt(0))], "dropped.wav", { type: "audio/wav" })); return dt; })()`,
    );
    await page.dispatchEvent("#upload", "drop", { dataTransfer });
    expect(await page.locator("#file").evaluate((i) => (i as unknown as { files: Array<{ name: string }> }).files[0]?.name)).toBe("dropped.wav");
    await page.fill("#model", "dtmf");
    await page.click("#upload button[type=submit]");
    await expect.poll(() => page.locator(".job[data-state=SUCCEEDED]").count(), { timeout: 60_000 }).toBe(before + 1);
    // Back to the first transcript for the next steps.
    await page.locator(".job[data-state=SUCCEEDED] a.open-transcript").last().click();
    await page.locator("#segments .segment").first().waitFor({ timeout: 15_000 });
  }, 90_000);

  it("plays the media beside the transcript: a click on a word seeks there and highlights it", async () => {
    const player = page.locator("#player");
    // The media's download URL has loaded far enough to know its duration.
    await expect.poll(() => player.evaluate((a) => (a as unknown as { readyState: number }).readyState), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    const word = page.locator("#segments .word", { hasText: "9" }).first();
    const start = Number(await word.getAttribute("data-start"));
    expect(start).toBeGreaterThan(0);
    await word.click();
    await expect.poll(() => player.evaluate((a) => (a as unknown as { currentTime: number }).currentTime)).toBeGreaterThanOrEqual(start);
    await page.locator("#segments .word.current").first().waitFor({ timeout: 10_000 });
    await shot("04b-player");
  }, 30_000);

  it("edits a segment and names its speaker, keeps both across a reload, and finds it by an Arabic search", async () => {
    const segment = page.locator("#segments .segment").first();
    await segment.locator("button.edit").click();
    await segment.locator("textarea.edit-text").fill("المكالمات المسجلة ١٥٩");
    await segment.locator("button.save").click();
    await segment.locator(".text", { hasText: "المكالمات المسجلة" }).waitFor();
    // The dtmf model labels its one speaker; naming it relabels the segments.
    const speakerForm = page.locator("#speakers .speaker-form").first();
    await speakerForm.locator("input").fill("أحمد");
    await speakerForm.locator("button[type=submit]").click();
    await segment.locator(".speaker", { hasText: "أحمد" }).waitFor();
    await page.reload();
    await page.locator("#segments .segment .speaker", { hasText: "أحمد" }).first().waitFor({ timeout: 15_000 });
    await page.locator("#segments .segment .text", { hasText: "المكالمات المسجلة ١٥٩" }).waitFor({ timeout: 15_000 });
    // The search stems and folds: «مكالمة» finds «المكالمات».
    await page.click("a[href='#search']");
    await page.fill("#search-query", "مكالمة");
    await page.press("#search-query", "Enter");
    const result = page.locator("#search-results .result").first();
    await waitOrReport(result, 15_000);
    expect(await result.locator("mark").first().textContent()).toContain("المكالمات");
    await shot("04c-search");
    await result.locator("a.open-transcript").click();
    await page.locator("#segments .segment .text", { hasText: "المكالمات المسجلة" }).waitFor();
  }, 60_000);

  it("makes an API key, shows its secret once, and revokes it", async () => {
    await page.click("a[href='#keys']");
    await page.fill("#create-key [name=name]", "مفتاح التجربة");
    await page.click("#create-key button[type=submit]");
    const secret = page.locator("code.secret");
    await secret.waitFor();
    expect(await secret.textContent()).toMatch(/^astt_/);
    const row = page.locator(".key", { hasText: "مفتاح التجربة" });
    expect(await row.getAttribute("data-state")).toBe("ACTIVE");
    await shot("05-keys");
    await row.locator("button.revoke").click();
    await page.locator(".key[data-state=REVOKED]", { hasText: "مفتاح التجربة" }).waitFor();
    // The secret is not shown again once the screen is left.
    await page.click("a[href='#jobs']");
    await page.click("a[href='#keys']");
    await page.locator(".key[data-state=REVOKED]").waitFor();
    expect(await page.locator("code.secret").count()).toBe(0);
  }, 30_000);

  it("verifies the e-mail from the link in the mail, after asking for the mail again", async () => {
    await page.click("a[href='#members']");
    await page.locator("#account[data-verified=false]").waitFor();
    // The registration's mail, then a new one asked for from the screen (it replaces the first token).
    await smtp.next(email);
    await page.click("#resend-verification");
    await page.locator("#verification-sent").waitFor();
    await page.goto(linkIn(await smtp.next(email), "/verify-email"));
    await waitOrReport(page.locator("#link-status[data-done=true]"), 15_000);
    expect(await page.locator("#link-status").textContent()).toContain(email);
    // The token left the address bar.
    expect(page.url()).not.toContain("token=");
    await shot("08a-verified");
    await page.click("a[href='#members']");
    await page.locator("#account[data-verified=true]").waitFor({ timeout: 15_000 });
  }, 30_000);

  it("invites a member, who joins from the mailed link; the owner changes their role and removes them", async () => {
    const invitee = uniqueEmail();
    await page.fill("#invite [name=email]", invitee);
    await page.selectOption("#invite-role", { label: "مسؤول" });
    await page.click("#invite button[type=submit]");
    await page.locator(`#invitations li[data-email="${invitee}"]`).waitFor();
    const link = linkIn(await smtp.next(invitee), "/accept-invitation");
    // The invitee, in a browser of their own, with no account yet.
    const theirs = await browser.newContext();
    try {
      const invited = await theirs.newPage();
      invited.on("pageerror", (err) => pageErrors.push(err.message));
      await invited.goto(link);
      await invited.fill("#accept-invitation [name=displayName]", "خالد");
      await invited.fill("#accept-invitation [name=password]", TEST_PASSWORD);
      await invited.click("#accept-invitation button[type=submit]");
      await invited.locator(`.member[data-email="${invitee}"][data-role=ADMIN]`).waitFor({ timeout: 15_000 });
      await invited.screenshot({ path: `${SCREENS}08b-invitation-accepted.png`, fullPage: true });
    } finally {
      await theirs.close();
    }
    await page.click("a[href='#jobs']");
    await page.click("a[href='#members']");
    const row = page.locator(`.member[data-email="${invitee}"]`);
    expect(await row.getAttribute("data-role")).toBe("ADMIN");
    // From the keyboard: the role chosen, then the button pressed with Enter.
    await row.locator("select.role").selectOption({ label: "مُطّلع" });
    await row.locator("button.change-role").press("Enter");
    await page.locator(`.member[data-email="${invitee}"][data-role=VIEWER]`).waitFor();
    await shot("08-members");
    await page.locator(`.member[data-email="${invitee}"] button.remove-member`).click();
    await row.waitFor({ state: "detached" });
    expect(await page.locator(".member").count()).toBe(1);
  }, 60_000);

  it("shows the usage of the last days as a chart, the job counted, and the plan's quotas", async () => {
    // Usage is counted as the job finishes; the screen is opened again until it shows.
    await expect
      .poll(
        async () => {
          await page.click("a[href='#jobs']");
          await page.click("a[href='#usage']");
          await page.locator("#usage-totals").waitFor();
          return Number(await page.locator("#usage-jobs").textContent());
        },
        { timeout: 20_000 },
      )
      .toBeGreaterThanOrEqual(1);
    expect(await page.locator("#usage-chart .bar-row").count()).toBeGreaterThanOrEqual(14);
    expect(Math.max(...(await page.locator("#usage-chart .bar-row").evaluateAll((rows) => rows.map((r) => Number((r as unknown as { dataset: { seconds: string } }).dataset.seconds)))))).toBeGreaterThan(0);
    expect(await page.locator("#quota .quota").count()).toBeGreaterThan(0);
    await shot("05b-usage");
  }, 30_000);

  it("sends the batch options a user chose (speakers, noise, redaction, phrase hints) and shows them in the job's details", async () => {
    await page.click("a[href='#jobs']");
    await page.locator("#upload").waitFor();
    await page.locator(".job").first().waitFor();
    const before = await page.locator(".job").count();
    await page.setInputFiles("#file", audio.path("keys.wav"));
    await page.fill("#model", "dtmf");
    // The options fold away; the keyboard opens them.
    await page.focus("#job-options summary");
    await page.keyboard.press("Enter");
    await page.check("#diarize");
    await page.fill("#min-speakers", "3");
    await page.fill("#max-speakers", "2");
    await page.click("#upload button[type=submit]");
    // Refused in the page, in words, before any upload.
    await expect.poll(() => page.locator(".error[role=alert]").textContent()).toContain("أقل عدد من المتحدثين يجب ألا يتجاوز أكبر عدد");
    await page.locator(".error button").click();
    expect(await page.locator(".job").count()).toBe(before);
    await page.fill("#min-speakers", "1");
    await page.selectOption("#denoise", { label: "طيفية (سريعة)" });
    await page.check("#redaction input[value='1']");
    await page.check("#redaction input[value='3']");
    await page.fill("#phrases", "فودافون كاش\n\n  مركز اتصال جدة  ");
    await shot("03b-job-options");
    await page.click("#upload button[type=submit]");
    await expect.poll(() => page.locator(".job").count(), { timeout: 30_000 }).toBe(before + 1);
    // As the server keeps them: the list is read again.
    await page.reload();
    const details = page.locator(".job").first().locator(".job-options");
    await details.locator("summary").click();
    const shown = await details.locator("dd").allTextContents();
    expect(shown).toEqual(["dtmf", "ar", "تمييز المتحدثين: 1–2", "طيفية (سريعة)", "أرقام البطاقات، أرقام الهواتف", "فودافون كاش، مركز اتصال جدة"]);
    await shot("03c-job-details");
  }, 60_000);

  it("resets a forgotten password from the mailed link, and signs in with the new one", async () => {
    await page.click("#sign-out");
    await page.click("#forgot");
    await page.fill("#forgot-password [name=email]", email);
    await page.click("#forgot-password button[type=submit]");
    await page.locator("#link-status[data-done=true]").waitFor();
    await page.goto(linkIn(await smtp.next(email), "/reset-password"));
    await page.fill("#reset-password [name=password]", NEW_PASSWORD);
    await page.fill("#reset-password [name=repeat]", `${NEW_PASSWORD}!`);
    await page.click("#reset-password button[type=submit]");
    // Two different entries are caught in the page.
    await expect.poll(() => page.locator(".error[role=alert]").textContent()).toContain("كلمتا السر غير متطابقتين");
    await page.locator(".error button").click();
    await page.fill("#reset-password [name=repeat]", NEW_PASSWORD);
    await page.click("#reset-password button[type=submit]");
    await page.locator("#link-status[data-done=true]").waitFor({ timeout: 15_000 });
    await shot("08c-password-reset");
    await page.click("#reset-password a");
    await page.fill("#sign-in [name=email]", email);
    await page.fill("#sign-in [name=password]", TEST_PASSWORD);
    await page.click("#sign-in button[type=submit]");
    await page.locator(".error[role=alert]").waitFor();
    await page.locator(".error button").click();
    await page.fill("#sign-in [name=password]", NEW_PASSWORD);
    await page.click("#sign-in button[type=submit]");
    await page.locator("#upload").waitFor();
  }, 60_000);

  it("fits a phone's width on every screen, with every action in reach of the keyboard, and stays signed in across a reload", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.click("a[href='#jobs']");
    await page.locator(".job").first().waitFor();
    const transcript = await page.locator(".job[data-state=SUCCEEDED] a.open-transcript").first().getAttribute("href");
    /** Opens a screen, waits for `ready`, and checks it at this width and from the keyboard. */
    const check = async (name: string, open: () => Promise<unknown>, ready: string) => {
      await open();
      await page.locator(ready).first().waitFor({ timeout: 15_000 });
      // Folded options open, so that what they hold is checked too.
      await page.evaluate(`document.querySelectorAll("details").forEach((d) => (d.open = true))`);
      expect(await page.evaluate(`document.documentElement.scrollWidth - document.documentElement.clientWidth`), `${name}: sideways scroll`).toBeLessThanOrEqual(0);
      // Any element reaching past either edge of the screen.
      const wide = await page.evaluate(`[...document.querySelectorAll("body *")].filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && (r.right > innerWidth + 1 || r.left < -1); }).map((e) => e.tagName + "." + e.className + "#" + e.id)`);
      expect(wide, name).toEqual([]);
      expect(await keyboardMisses(page), `${name}: controls the Tab key never reaches`).toEqual([]);
      await shot(`09-phone-${name}`);
    };
    const go = (hash: string) => () => page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
    await check("jobs", go("#jobs"), ".job");
    await check("transcript", go(transcript!), "#segments .segment");
    await check("search", go("#search/مكالمة"), "#search-results .result");
    await check("live", go("#live"), "#live-form");
    await check("keys", go("#keys"), ".key");
    await check("usage", go("#usage"), "#usage-chart .bar-row");
    await check("members", go("#members"), ".member");
    await page.click("#sign-out");
    await check("account", go("#"), "#sign-in");
    await check("forgot", go("#forgot"), "#forgot-password");
    const origin = new URL(page.url()).origin;
    await check("reset", () => page.goto(`${origin}/reset-password?token=unused`), "#reset-password");
    await check("invitation", () => page.goto(`${origin}/accept-invitation?token=unused`), "#accept-invitation");
    await check("verify", () => page.goto(`${origin}/verify-email?token=unused`), ".error[role=alert]");
    expect(pageErrors).toEqual([]);
  }, 90_000);
});

/**
 * The page's visible, enabled controls that pressing Tab from the top never focuses (radio buttons
 * other than a group's chosen one are reached with the arrow keys, as browsers do).
 */
async function keyboardMisses(page: Page): Promise<string[]> {
  const controls = `[...document.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex='-1'])")].filter((e) => !e.disabled && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden" && !(e.type === "radio" && !e.checked))`;
  const count = await page.evaluate<number>(`(window.reached = new Set(), document.addEventListener("focusin", (e) => window.reached.add(e.target)), document.activeElement?.blur(), ${controls}.length)`);
  for (let i = 0; i < 2 * count + 10; i++) await page.keyboard.press("Tab");
  return page.evaluate<string[]>(`${controls}.filter((e) => !window.reached.has(e)).map((e) => e.tagName + "." + e.className + "#" + e.id + " " + (e.textContent ?? "").trim().slice(0, 30))`);
}

describe.skipIf(!existsSync(CHROMIUM))("the console's session with short-lived access tokens", () => {
  let platform: TestPlatform;
  let browser: Browser;

  beforeAll(async () => {
    platform = await startTestPlatform({ ...UNTHROTTLED, ACCESS_TOKEN_TTL_SECONDS: "2" });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it("refreshes the access token silently: calls made after it has expired several times still work", async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    await page.goto(`http://127.0.0.1:${platform.platform.gateway.httpPort}/#keys`);
    await page.fill("#register [name=displayName]", "ليلى");
    await page.fill("#register [name=organizationName]", "مركز");
    await page.fill("#register [name=email]", uniqueEmail());
    await page.fill("#register [name=password]", TEST_PASSWORD);
    await page.click("#register button[type=submit]");
    await page.click("a[href='#keys']");
    for (const name of ["أول", "ثانٍ", "ثالث"]) {
      // Longer than the token's life between calls.
      await page.waitForTimeout(2_500);
      await page.fill("#create-key [name=name]", name);
      await page.click("#create-key button[type=submit]");
      await page.locator(".key", { hasText: name }).waitFor({ timeout: 10_000 });
    }
    expect(await page.locator(".error").count()).toBe(0);
    expect(await page.locator("#sign-out").count()).toBe(1);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
