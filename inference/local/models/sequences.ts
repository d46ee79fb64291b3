// Triton's sequence batching as the local sidecar serves it: a model whose config.pbtxt declares
// `sequence_batching` keeps state per sequence (a correlation id), and the requests of a sequence
// carry the KServe parameters Triton reads: `sequence_id` (a non-zero integer or a non-empty
// string), `sequence_start` on the first request (it also restarts a sequence whose id is in use)
// and `sequence_end` on the last (its state is freed). As in Triton, a request of a sequence the
// server does not hold, without sequence_start, is refused, and a sequence idle longer than
// `max_sequence_idle_microseconds` is ended. Unlike Triton, a request to such a model without a
// sequence_id is accepted as a sequence of its own (start and end in one); the inference client
// always sends one, so the same calls work against Triton.
import type { ModelConfig } from "../../../proto/gen/inference/model_config_pb.js";
import { InferenceInputError, ModelOverloadedError, type InferParameters } from "./model.js";

/** The request parameters of sequence batching, as Triton names them. */
export const SEQUENCE_PARAMETERS = { id: "sequence_id", start: "sequence_start", end: "sequence_end" } as const;

/** Sequences a model holds at most when its config does not say (the direct strategy's slots are Triton's, not ours). */
const DEFAULT_MAX_SEQUENCES = 4096;

export interface SequenceControl {
  /** The correlation id as a key: integers and strings never collide. */
  key: string;
  start: boolean;
  end: boolean;
}

export interface SequenceLimits {
  /** A sequence with no request for this long is ended. */
  idleMs: number;
  /** Sequences held at once; a start beyond it is refused as overload. */
  maxSequences: number;
}

/** The limits of a model that declares sequence batching; undefined for any other model. */
export function sequenceLimitsOf(config: ModelConfig): SequenceLimits | undefined {
  if (config.schedulingChoice.case !== "sequenceBatching") return undefined;
  const { maxSequenceIdleMicroseconds: idleUs, strategyChoice } = config.schedulingChoice.value;
  const candidates = strategyChoice.case === "oldest" ? strategyChoice.value.maxCandidateSequences : 0;
  return {
    // Triton's default when the field is 0 or left out: one second.
    idleMs: idleUs > 0n ? Number(idleUs / 1000n) : 1000,
    maxSequences: candidates > 0 ? candidates : DEFAULT_MAX_SEQUENCES,
  };
}

/**
 * The sequence a request belongs to, from its parameters; undefined when it names none. Throws
 * InferenceInputError naming the parameter when one is malformed, or when the model does not
 * declare sequence batching (`sequenced` false) and the request names a sequence anyway.
 */
export function sequenceControlOf(parameters: InferParameters, sequenced: boolean): SequenceControl | undefined {
  const { id, start, end } = SEQUENCE_PARAMETERS;
  const given = [id, start, end].filter((name) => parameters[name] !== undefined);
  if (given.length === 0) return undefined;
  if (!sequenced) throw new InferenceInputError(given[0] as string, "names a sequence, but the model does not declare sequence_batching");
  const value = parameters[id];
  let key: string;
  if (typeof value === "string" && value !== "") key = `s:${value}`;
  else if ((typeof value === "number" && Number.isInteger(value) && value !== 0) || (typeof value === "bigint" && value !== 0n)) key = `n:${String(value)}`;
  else throw new InferenceInputError(id, `must be a non-zero integer or a non-empty string (got ${JSON.stringify(typeof value === "bigint" ? String(value) : value)})`);
  const flag = (name: string): boolean => {
    const v = parameters[name];
    if (v === undefined) return false;
    if (typeof v !== "boolean") throw new InferenceInputError(name, `must be a boolean (got ${JSON.stringify(typeof v === "bigint" ? String(v) : v)})`);
    return v;
  };
  return { key, start: flag(start), end: flag(end) };
}

/**
 * The state of each sequence a model holds, by correlation id, oldest use first. Idle sequences
 * are ended when the next request comes (a model thread has nothing else to do meanwhile, and the
 * count bound holds either way).
 */
export class SequenceStates<S> {
  private readonly states = new Map<string, { state: S; usedAt: number }>();

  constructor(
    private readonly limits: SequenceLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Sequences held. */
  get size(): number {
    return this.states.size;
  }

  /** The state of `control`'s sequence: `create()`d afresh at its start, else the one it holds. */
  take(control: SequenceControl, create: () => S): S {
    const now = this.now();
    this.expire(now);
    const held = this.states.get(control.key);
    this.states.delete(control.key);
    let state: S;
    if (control.start) {
      if (!held && this.states.size >= this.limits.maxSequences) {
        throw new ModelOverloadedError(`${this.states.size} sequences are in progress, the most the model holds (max_candidate_sequences)`, 1);
      }
      state = create();
    } else if (held) {
      state = held.state;
    } else {
      throw new InferenceInputError(
        SEQUENCE_PARAMETERS.id,
        "names no sequence in progress (never started, ended, or idle past max_sequence_idle_microseconds): its first request must set sequence_start",
      );
    }
    // Re-inserted, so the map stays in order of last use and expiry stops at the first one still live.
    if (!control.end) this.states.set(control.key, { state, usedAt: now });
    return state;
  }

  /** Ends `control`'s sequence, if held: a sequence of one request (start and end) takes no slot. */
  release(control: SequenceControl): void {
    this.states.delete(control.key);
  }

  private expire(now: number): void {
    for (const [key, { usedAt }] of this.states) {
      if (now - usedAt <= this.limits.idleMs) return;
      this.states.delete(key);
    }
  }
}
