// Sequence state as the sidecar keeps it for a sequence-batching model: started, continued and
// ended by the request parameters Triton reads, refused when unknown without a start, ended when
// idle past the config's limit, and bounded in count.
import { describe, expect, it } from "vitest";
import { InferenceInputError, ModelOverloadedError } from "./model.js";
import { sequenceControlOf, SequenceStates, type SequenceControl } from "./sequences.js";

const step = (id: string, start = false, end = false): SequenceControl => ({ key: id, start, end });

describe("sequenceControlOf", () => {
  it("reads Triton's parameters, integer and string ids apart", () => {
    expect(sequenceControlOf({ sequence_id: 7, sequence_start: true }, true)).toEqual({ key: "n:7", start: true, end: false });
    expect(sequenceControlOf({ sequence_id: "7", sequence_end: true }, true)).toEqual({ key: "s:7", start: false, end: true });
    expect(sequenceControlOf({ sequence_id: 2n ** 60n }, true)).toEqual({ key: `n:${2n ** 60n}`, start: false, end: false });
    expect(sequenceControlOf({ language: "ar" }, true)).toBeUndefined();
  });

  it("refuses a malformed parameter, or any for a model without sequence batching, naming it", () => {
    const refusal = (parameters: Record<string, string | number | boolean>, sequenced = true) => {
      try {
        sequenceControlOf(parameters, sequenced);
      } catch (err) {
        return err instanceof InferenceInputError ? err.tensor : err;
      }
      return undefined;
    };
    expect(refusal({ sequence_id: 0 })).toBe("sequence_id");
    expect(refusal({ sequence_id: "" })).toBe("sequence_id");
    expect(refusal({ sequence_id: 1.5 })).toBe("sequence_id");
    expect(refusal({ sequence_start: true })).toBe("sequence_id");
    expect(refusal({ sequence_id: 3, sequence_end: 1 })).toBe("sequence_end");
    expect(refusal({ sequence_id: 3 }, false)).toBe("sequence_id");
    expect(refusal({ sequence_end: true }, false)).toBe("sequence_end");
  });
});

describe("SequenceStates", () => {
  let clock = 0;
  const states = () => new SequenceStates<{ fed: number[] }>({ idleMs: 1000, maxSequences: 2 }, () => clock);

  it("creates the state at the start, continues it, and frees it at the end", () => {
    const table = states();
    table.take(step("a", true), () => ({ fed: [] })).fed.push(1);
    table.take(step("a"), () => ({ fed: [] })).fed.push(2);
    const last = table.take(step("a", false, true), () => ({ fed: [] }));
    expect(last.fed).toEqual([1, 2]);
    expect(table.size).toBe(0);
    expect(() => table.take(step("a"), () => ({ fed: [] }))).toThrow(/sequence_start/);
  });

  it("refuses a continuation of a sequence it never started", () => {
    const table = states();
    expect(() => table.take(step("x"), () => ({ fed: [] }))).toThrow(InferenceInputError);
  });

  it("restarts a sequence whose id is in use when asked to start it again", () => {
    const table = states();
    table.take(step("a", true), () => ({ fed: [1] }));
    expect(table.take(step("a", true), () => ({ fed: [] })).fed).toEqual([]);
    expect(table.size).toBe(1);
  });

  it("ends a sequence idle past the limit, and only that one", () => {
    clock = 0;
    const table = states();
    table.take(step("old", true), () => ({ fed: [] }));
    clock = 600;
    table.take(step("young", true), () => ({ fed: [] }));
    clock = 1500;
    expect(() => table.take(step("old"), () => ({ fed: [] }))).toThrow(InferenceInputError);
    expect(table.take(step("young"), () => ({ fed: [9] })).fed).toEqual([]);
  });

  it("refuses a new sequence beyond the bound as overload, and takes one again once one ends", () => {
    clock = 0;
    const table = states();
    table.take(step("a", true), () => ({ fed: [] }));
    table.take(step("b", true), () => ({ fed: [] }));
    expect(() => table.take(step("c", true), () => ({ fed: [] }))).toThrow(ModelOverloadedError);
    // A restart of a held id is no new sequence.
    table.take(step("b", true), () => ({ fed: [] }));
    table.take(step("a", false, true), () => ({ fed: [] }));
    table.take(step("c", true), () => ({ fed: [] }));
    expect(table.size).toBe(2);
    table.release(step("c", true, true));
    expect(table.size).toBe(1);
  });
});
