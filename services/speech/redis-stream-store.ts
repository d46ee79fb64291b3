// StreamingRecognize sessions in Redis, so a client resumes on any replica:
//   live:<ns>:stream:<id>      hash: the session (owner, epoch, config, commit point, grace, last heard, ended)
//   live:<ns>:stream:<id>:out  sorted set: kept outputs as JSON, scored by their index
//   live:<ns>:replica:<id>     a replica's heartbeat: sessions of a replica without one are orphans
// Writes are Lua scripts that check the epoch first: a replica whose session was taken over by
// another cannot add to it any more. Both keys expire unless the running replica touches them,
// so a session whose replica died is forgotten once the grace period is over.
import type { Redis } from "ioredis";
import type { EngineOutput } from "./engine/types.js";
import type { Commit, LiveRecognitionConfig } from "./live-recognition.js";
import { MAX_KEPT_OUTPUTS, type TakeOverReason, type NewStoredStream, type StoredStream, type StreamStore } from "./stream-store.js";

/** Fails unless KEYS[1] exists, is not ended and is held under epoch ARGV[1]. */
const HELD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'ended') == '1' then return 0 end
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
`;

const APPEND_SCRIPT = `${HELD}
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[3]) - 1)
redis.call('PEXPIRE', KEYS[2], redis.call('PTTL', KEYS[1]))
return 1
`;

const COMMIT_SCRIPT = `${HELD}
redis.call('HSET', KEYS[1], 'committedBytes', ARGV[2], 'committedSeconds', ARGV[3], 'committedNextIndex', ARGV[4])
return 1
`;

const TOUCH_SCRIPT = `${HELD}
redis.call('HSET', KEYS[1], 'heardAt', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
`;

const END_SCRIPT = `${HELD}
redis.call('HSET', KEYS[1], 'ended', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
`;

// ARGV[4]: "orphan" claims only a session past its grace period, "resume" only one within it.
const TAKE_OVER_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('HGET', KEYS[1], 'ended') ~= '1' then
  local lapsed = tonumber(ARGV[3]) - tonumber(redis.call('HGET', KEYS[1], 'heardAt')) > tonumber(redis.call('HGET', KEYS[1], 'graceMs'))
  if lapsed ~= (ARGV[4] == 'orphan') then return false end
  redis.call('HINCRBY', KEYS[1], 'epoch', 1)
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'heardAt', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return redis.call('HGETALL', KEYS[1])
`;

export interface RedisStreamStoreOptions {
  /**
   * Keys live under `live:<namespace>:`. Replicas that share a database share a namespace (the
   * composition uses the database's name), so a replica never claims a session it cannot store.
   */
  namespace?: string;
}

export class RedisStreamStore implements StreamStore {
  readonly shared = true;
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    options: RedisStreamStoreOptions = {},
  ) {
    this.prefix = `live:${options.namespace ?? "default"}:`;
  }

  private keys(id: string): [string, string] {
    return [`${this.prefix}stream:${id}`, `${this.prefix}stream:${id}:out`];
  }

  async create(stream: NewStoredStream, ttlMs: number): Promise<void> {
    const [record, out] = this.keys(stream.id);
    const fields = {
      organizationId: stream.organizationId,
      // An empty string stands for none: a Redis hash holds strings only.
      apiKeyId: stream.apiKeyId ?? "",
      owner: stream.owner,
      epoch: "1",
      config: JSON.stringify(stream.config),
      model: stream.model,
      languageCode: stream.languageCode,
      channels: String(stream.channels),
      startedAt: String(stream.startedAt),
      graceMs: String(stream.graceMs),
      heardAt: String(Date.now()),
      committedBytes: "0",
      committedSeconds: "0",
      committedNextIndex: "0",
      ended: "0",
    };
    await this.redis.multi().del(out!).hset(record!, fields).pexpire(record!, ttlMs).exec();
  }

  async append(id: string, epoch: number, output: EngineOutput): Promise<boolean> {
    return (await this.redis.eval(APPEND_SCRIPT, 2, ...this.keys(id), String(epoch), JSON.stringify(output), String(MAX_KEPT_OUTPUTS), String(output.index))) === 1;
  }

  async commit(id: string, epoch: number, commit: Commit): Promise<boolean> {
    return (await this.redis.eval(COMMIT_SCRIPT, 2, ...this.keys(id), String(epoch), String(commit.bytes), String(commit.seconds), String(commit.nextIndex))) === 1;
  }

  async touch(ids: Array<{ id: string; epoch: number }>, ttlMs: number): Promise<void> {
    if (ids.length === 0) return;
    const pipeline = this.redis.pipeline();
    const now = String(Date.now());
    for (const { id, epoch } of ids) pipeline.eval(TOUCH_SCRIPT, 2, ...this.keys(id), String(epoch), String(ttlMs), now);
    await pipeline.exec();
  }

  async get(id: string): Promise<StoredStream | undefined> {
    return streamOf(id, await this.redis.hgetall(this.keys(id)[0]));
  }

  async outputs(id: string, fromIndex: number): Promise<EngineOutput[]> {
    return (await this.redis.zrangebyscore(this.keys(id)[1], fromIndex, "+inf")).map((json) => JSON.parse(json) as EngineOutput);
  }

  async takeOver(id: string, owner: string, ttlMs: number, reason: TakeOverReason = "resume"): Promise<StoredStream | undefined> {
    const flat = (await this.redis.eval(TAKE_OVER_SCRIPT, 2, ...this.keys(id), owner, String(ttlMs), String(Date.now()), reason)) as string[] | null;
    if (!flat) return undefined;
    const hash: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
    return streamOf(id, hash);
  }

  async heartbeat(replica: string, ttlMs: number): Promise<void> {
    await this.redis.set(`${this.prefix}replica:${replica}`, "1", "PX", ttlMs);
  }

  async orphans(): Promise<string[]> {
    const found: string[] = [];
    const now = Date.now();
    const streamPrefix = `${this.prefix}stream:`;
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.scan(cursor, "MATCH", `${streamPrefix}*`, "COUNT", 1000);
      cursor = next;
      const records = keys.filter((k) => !k.endsWith(":out"));
      if (records.length === 0) continue;
      const pipeline = this.redis.pipeline();
      for (const key of records) pipeline.hmget(key, "owner", "ended", "heardAt", "graceMs");
      const replies = (await pipeline.exec()) ?? [];
      const owners = new Set<string>();
      const lapsed: Array<{ id: string; owner: string }> = [];
      for (let i = 0; i < records.length; i++) {
        const [owner, ended, heardAt, graceMs] = (replies[i]?.[1] as Array<string | null> | undefined) ?? [];
        if (!owner || ended === "1" || now - Number(heardAt) <= Number(graceMs)) continue;
        lapsed.push({ id: records[i]!.slice(streamPrefix.length), owner });
        owners.add(owner);
      }
      if (lapsed.length === 0) continue;
      const ownerList = [...owners];
      const alive = await this.redis.mget(ownerList.map((o) => `${this.prefix}replica:${o}`));
      const dead = new Set(ownerList.filter((_, i) => alive[i] === null));
      for (const { id, owner } of lapsed) if (dead.has(owner)) found.push(id);
    } while (cursor !== "0");
    return found;
  }

  async end(id: string, epoch: number, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(END_SCRIPT, 2, ...this.keys(id), String(epoch), String(ttlMs))) === 1;
  }
}

function streamOf(id: string, hash: Record<string, string>): StoredStream | undefined {
  if (hash.epoch === undefined) return undefined;
  return {
    id,
    organizationId: hash.organizationId ?? "",
    apiKeyId: hash.apiKeyId || null,
    owner: hash.owner ?? "",
    epoch: Number(hash.epoch),
    config: JSON.parse(hash.config ?? "{}") as LiveRecognitionConfig,
    model: hash.model ?? "",
    languageCode: hash.languageCode ?? "",
    channels: Number(hash.channels),
    startedAt: Number(hash.startedAt),
    graceMs: Number(hash.graceMs),
    heardAt: Number(hash.heardAt),
    committed: { bytes: Number(hash.committedBytes), seconds: Number(hash.committedSeconds), nextIndex: Number(hash.committedNextIndex) },
    ended: hash.ended === "1",
  };
}
