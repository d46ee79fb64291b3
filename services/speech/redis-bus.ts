// The live-session bus on Redis, so any gateway replica can serve any call of a session:
//   live:<id>        hash: the SessionRecord
//   live:<id>:audio  stream: numbered audio, appended by a Lua script that checks the sequence
//                    number atomically (idempotent SendLiveAudio from any replica), read by the owner
//   live:<id>:out    stream: outputs with entry id "<index + 1>-0", so a watcher resumes at an
//                    index with XRANGE; an entry of kind "end" closes it
// Blocking reads (XREAD BLOCK) each take a connection of their own, duplicated from the shared one.
import type { Redis } from "ioredis";
import type { AudioEntry, LiveSessionBus, PublishedOutput, SendOutcome, SessionRecord, SendStatus, LiveSessionState } from "./bus.js";

const SEND_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local nextSeq = tonumber(redis.call('HGET', KEYS[1], 'nextSequence'))
local state = redis.call('HGET', KEYS[1], 'state')
local seq = tonumber(ARGV[1])
if seq < nextSeq then return {'duplicate', nextSeq, state} end
if state ~= 'active' then return {'not_active', nextSeq, state} end
if seq > nextSeq then return {'out_of_order', nextSeq, state} end
if redis.call('XLEN', KEYS[2]) >= tonumber(ARGV[5]) then return {'busy', nextSeq, state} end
redis.call('XADD', KEYS[2], '*', 'kind', 'audio', 'sequence', ARGV[1], 'audio', ARGV[2], 'finalize', ARGV[3])
redis.call('HSET', KEYS[1], 'nextSequence', nextSeq + 1, 'lastActivityAt', ARGV[4], 'lastAudioAt', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'bytesReceived', string.len(ARGV[2]))
return {'accepted', nextSeq + 1, state}
`;

const CLOSE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('HGET', KEYS[1], 'state') == 'active' then
  redis.call('HSET', KEYS[1], 'state', 'closing', 'lastActivityAt', ARGV[1])
  redis.call('XADD', KEYS[2], '*', 'kind', 'close')
end
return redis.call('HGETALL', KEYS[1])
`;

const NUMBER_FIELDS = ["nextSequence", "bytesReceived", "nextResultIndex", "processedSeconds", "channels", "createdAt", "lastActivityAt", "lastAudioAt", "expiresAt"] as const;

export interface RedisBusOptions {
  /** How long a session's keys live at most (a safety net; sessions remove themselves). Default 5 h. */
  keyTtlMs?: number;
  /** Longest wait of one blocking read before the signal is checked again. Default 1 s. */
  blockMs?: number;
}

export class RedisBus implements LiveSessionBus {
  private readonly keyTtlMs: number;
  private readonly blockMs: number;

  constructor(
    private readonly redis: Redis,
    options: RedisBusOptions = {},
  ) {
    this.keyTtlMs = options.keyTtlMs ?? 5 * 3600_000;
    this.blockMs = options.blockMs ?? 1000;
  }

  async create(record: SessionRecord): Promise<void> {
    const key = keys(record.id);
    await this.redis.multi().hset(key.record, flatten(record)).pexpire(key.record, this.keyTtlMs).exec();
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    return parseRecord(await this.redis.hgetall(keys(id).record));
  }

  async patch(id: string, fields: Partial<Omit<SessionRecord, "id">>): Promise<void> {
    const key = keys(id).record;
    // Only an existing session: a patch after removal must not bring it back.
    await this.redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], unpack(ARGV)) end return 1",
      1,
      key,
      ...Object.entries(fields).flatMap(([k, v]) => [k, String(v)]),
    );
  }

  async send(id: string, sequence: number, audio: Uint8Array, finalize: boolean, now: number, maxBacklog: number): Promise<SendOutcome | undefined> {
    const key = keys(id);
    const reply = (await this.redis.eval(SEND_SCRIPT, 2, key.record, key.audio, String(sequence), Buffer.from(audio), finalize ? "1" : "0", String(now), String(maxBacklog))) as
      | [SendStatus, number, LiveSessionState]
      | null;
    if (!reply) return undefined;
    return { status: reply[0], nextSequence: Number(reply[1]), state: reply[2] };
  }

  async requestClose(id: string, now: number): Promise<SessionRecord | undefined> {
    const key = keys(id);
    const reply = (await this.redis.eval(CLOSE_SCRIPT, 2, key.record, key.audio, String(now))) as string[] | null;
    if (!reply) return undefined;
    const fields: Record<string, string> = {};
    for (let i = 0; i < reply.length; i += 2) fields[reply[i]!] = reply[i + 1]!;
    return parseRecord(fields);
  }

  async *audio(id: string, signal: AbortSignal): AsyncIterable<AudioEntry> {
    const key = keys(id).audio;
    for await (const [entryId, fields] of this.read(key, "0-0", signal)) {
      // The owner holds the audio now; the stream need not keep it.
      await this.redis.xdel(key, entryId);
      if (fields.kind?.toString() === "close") {
        yield { kind: "close" };
        return;
      }
      yield { kind: "audio", sequence: Number(fields.sequence!.toString()), audio: new Uint8Array(fields.audio!), finalize: fields.finalize!.toString() === "1" };
    }
  }

  async publish(id: string, output: PublishedOutput): Promise<void> {
    const key = keys(id);
    await this.redis
      .multi()
      .xadd(key.out, `${output.index + 1}-0`, "kind", "output", "output", output.output)
      .pexpire(key.out, this.keyTtlMs)
      .hset(key.record, "nextResultIndex", String(output.index + 1))
      .exec();
  }

  async end(id: string): Promise<void> {
    const key = keys(id);
    const next = Number(await this.redis.hget(key.record, "nextResultIndex")) || 0;
    await this.redis.multi().xadd(key.out, `${next + 1}-0`, "kind", "end").pexpire(key.out, this.keyTtlMs).exec();
  }

  async *outputs(id: string, fromIndex: number, signal: AbortSignal): AsyncIterable<PublishedOutput> {
    // Entry "<i + 1>-0" is output i: start just before output fromIndex.
    for await (const [entryId, fields] of this.read(keys(id).out, `${fromIndex}-0`, signal)) {
      if (fields.kind!.toString() === "end") return;
      yield { index: Number(entryId.split("-")[0]) - 1, output: fields.output!.toString() };
    }
  }

  async remove(id: string): Promise<void> {
    const key = keys(id);
    await this.redis.del(key.record, key.audio, key.out);
  }

  /** Entries of a stream after `after`, waiting for more on a connection of its own, until the signal aborts. */
  private async *read(key: string, after: string, signal: AbortSignal): AsyncIterable<[string, Record<string, Buffer>]> {
    if (signal.aborted) return;
    const connection = this.redis.duplicate();
    connection.on("error", () => undefined);
    const hangUp = () => connection.disconnect();
    signal.addEventListener("abort", hangUp, { once: true });
    try {
      let last = after;
      while (!signal.aborted) {
        let reply: Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
        try {
          reply = (await connection.xreadBuffer("COUNT", 256, "BLOCK", this.blockMs, "STREAMS", key, last)) as typeof reply;
        } catch (err) {
          if (signal.aborted) return;
          throw err;
        }
        for (const [, entries] of reply ?? []) {
          for (const [rawId, rawFields] of entries) {
            last = rawId.toString();
            const fields: Record<string, Buffer> = {};
            for (let i = 0; i < rawFields.length; i += 2) fields[rawFields[i]!.toString()] = rawFields[i + 1]!;
            yield [last, fields];
          }
        }
      }
    } finally {
      signal.removeEventListener("abort", hangUp);
      connection.disconnect();
    }
  }
}

function keys(id: string) {
  return { record: `live:${id}`, audio: `live:${id}:audio`, out: `live:${id}:out` };
}

function flatten(record: SessionRecord): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, String(v)]));
}

function parseRecord(fields: Record<string, string>): SessionRecord | undefined {
  if (!fields.id) return undefined;
  const record: Record<string, unknown> = { ...fields };
  for (const name of NUMBER_FIELDS) record[name] = Number(fields[name]);
  return record as unknown as SessionRecord;
}
