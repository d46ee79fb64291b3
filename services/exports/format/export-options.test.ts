import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../platform/errors/errors.js";
import { DEFAULT_EXPORT_OPTIONS, resolveExportOptions } from "./export-options.js";
import { renderExport } from "./index.js";
import { callTranscript } from "./test-fixture.js";

describe("export options", () => {
  it("default to what export.proto documents", () => {
    expect(resolveExportOptions()).toEqual({
      includeSpeakers: true,
      includeTimestamps: true,
      includeWords: true,
      maxLineLength: 42,
      maxLinesPerCue: 2,
      maxCueDurationSeconds: 7,
      addRtlMarks: true,
    });
    expect(resolveExportOptions({ maxLineLength: undefined, includeWords: false })).toEqual({ ...DEFAULT_EXPORT_OPTIONS, includeWords: false });
  });

  it.each([
    [{ maxLineLength: 19 }, "options.max_line_length"],
    [{ maxLineLength: 81 }, "options.max_line_length"],
    [{ maxLineLength: 30.5 }, "options.max_line_length"],
    [{ maxLinesPerCue: 0 }, "options.max_lines_per_cue"],
    [{ maxLinesPerCue: 4 }, "options.max_lines_per_cue"],
    [{ maxCueDurationSeconds: 0.5 }, "options.max_cue_duration"],
    [{ maxCueDurationSeconds: 11 }, "options.max_cue_duration"],
    [{ maxCueDurationSeconds: Number.NaN }, "options.max_cue_duration"],
  ])("reject %o naming %s", async (options, field) => {
    const rendering = renderExport("srt", callTranscript, options);
    await expect(rendering).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(rendering).rejects.toMatchObject({ field });
  });
});
