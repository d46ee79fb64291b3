// Access tokens denied before they expire (Logout). Entries live exactly as long as the token would:
// in Redis when the platform has it (every gateway replica sees a logout at once), else in memory.
import type { Redis } from "ioredis";

export interface TokenDenylist {
  deny(tokenId: string, until: Date): Promise<void>;
  isDenied(tokenId: string): Promise<boolean>;
}

export class MemoryTokenDenylist implements TokenDenylist {
  private readonly entries = new Map<string, number>();

  async deny(tokenId: string, until: Date): Promise<void> {
    this.prune();
    this.entries.set(tokenId, until.getTime());
  }

  async isDenied(tokenId: string): Promise<boolean> {
    const until = this.entries.get(tokenId);
    return until !== undefined && until > Date.now();
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, until] of this.entries) if (until <= now) this.entries.delete(id);
  }
}

export class RedisTokenDenylist implements TokenDenylist {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "arabicstt:denied-jti:",
  ) {}

  async deny(tokenId: string, until: Date): Promise<void> {
    const ms = until.getTime() - Date.now();
    if (ms > 0) await this.redis.set(this.prefix + tokenId, "1", "PX", ms);
  }

  async isDenied(tokenId: string): Promise<boolean> {
    return (await this.redis.exists(this.prefix + tokenId)) === 1;
  }
}
