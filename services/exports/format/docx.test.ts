// The DOCX export as Word's formats are read outside Word: its XML (with Info-ZIP's unzip) for the
// right-to-left properties, and its text as LibreOffice (Debian's libreoffice-writer-nogui) converts it.
import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderExport, type ExportOptions, type ExportTranscript } from "./index.js";
import { callTranscript } from "./test-fixture.js";

const run = promisify(execFile);

const libreOfficeMissing = spawnSync("soffice", ["--version"], { stdio: "ignore" }).status !== 0;
if (libreOfficeMissing) {
  console.warn(
    "docx.test.ts: skipping the LibreOffice conversion test: `soffice` is not installed " +
      "(Debian: apt-get install -y --no-install-recommends libreoffice-writer-nogui)",
  );
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "export-docx-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function exportedDocx(name: string, options: ExportOptions = {}, transcript: ExportTranscript = callTranscript): Promise<string> {
  const { bytes, contentType, fileExtension } = await renderExport("docx", transcript, options);
  expect({ contentType, fileExtension }).toEqual({
    contentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    fileExtension: "docx",
  });
  const file = join(dir, `${name}.docx`);
  await writeFile(file, bytes);
  return file;
}

async function zipEntry(file: string, entry: string): Promise<string> {
  const { stdout } = await run("unzip", ["-p", file, entry], { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

describe("DOCX export", () => {
  it("makes every paragraph right-to-left, Arabic runs right-to-left and the speaker bold", async () => {
    const file = await exportedDocx("call");
    const document = await zipEntry(file, "word/document.xml");
    const paragraphs = document.match(/<w:p>.*?<\/w:p>/gsu) ?? [];
    expect(paragraphs).toHaveLength(5);
    for (const paragraph of paragraphs) expect(paragraph).toContain("<w:bidi/>");
    expect(document).toMatch(/<w:r><w:rPr><w:rtl\/><\/w:rPr><w:t xml:space="preserve">مرحبا بك في خدمة العملاء، كيف يمكنني مساعدتك اليوم؟<\/w:t><\/w:r>/u);
    expect(document).toMatch(/<w:rPr><w:b\/><w:bCs\/><w:rtl\/><\/w:rPr><w:t xml:space="preserve">الوكيل: <\/w:t>/u);
    // The time has no Arabic letter, so it is not marked right-to-left.
    const timeRun = document.match(/<w:r>(?:(?!<w:r>).)*?\[00:00:05\] <\/w:t><\/w:r>/su)?.[0];
    expect(timeRun).toBeDefined();
    expect(timeRun).not.toContain("<w:rtl");

    const styles = await zipEntry(file, "word/styles.xml");
    const defaults = styles.match(/<w:docDefaults>.*<\/w:docDefaults>/su)?.[0];
    expect(defaults).toContain('<w:rFonts w:ascii="Arial" w:cs="Arial" w:eastAsia="Arial" w:hAnsi="Arial"/>');
    expect(defaults).toContain('<w:lang w:bidi="ar-SA"/>');
  });

  it("leaves out times and speakers when asked", async () => {
    const document = await zipEntry(await exportedDocx("plain", { includeTimestamps: false, includeSpeakers: false }), "word/document.xml");
    expect(document).not.toContain("[00:00:");
    expect(document).not.toContain("الوكيل:");
    expect(document).not.toContain("<w:b/>");
    expect(document).toContain("بالتأكيد، ما هو رقم الحساب؟");
  });

  it("sets the proofing language to the transcript's Arabic dialect when it names one", async () => {
    const file = await exportedDocx("egyptian", {}, { ...callTranscript, language: "ar-eg" });
    expect(await zipEntry(file, "word/styles.xml")).toContain('<w:lang w:bidi="ar-EG"/>');
  });

  it.skipIf(libreOfficeMissing)("holds the Arabic content in order when LibreOffice converts it to text", async () => {
    const file = await exportedDocx("for-libreoffice");
    // A profile of its own, so that no other LibreOffice running on the machine holds its lock.
    const profile = pathToFileURL(join(dir, "libreoffice-profile")).href;
    await run("soffice", [`-env:UserInstallation=${profile}`, "--headless", "--convert-to", "txt:Text (encoded):UTF8", "--outdir", dir, file], {
      timeout: 55_000,
    });
    const text = (await readFile(join(dir, "for-libreoffice.txt"), "utf8")).replace(/^\ufeff/u, "");
    expect(text.split(/\r?\n/u).filter((line) => line !== "")).toEqual([
      "مكالمة خدمة العملاء",
      "اللغة: ar · المدة: 00:00:10 · المتحدثون: 2 · القنوات: 2",
      "[00:00:00] الوكيل: مرحبا بك في خدمة العملاء، كيف يمكنني مساعدتك اليوم؟",
      "[00:00:05] العميل: أريد الاستفسار عن فاتورة شهر مارس.",
      "[00:00:07] الوكيل: بالتأكيد، ما هو رقم الحساب؟",
    ]);
  });
});
