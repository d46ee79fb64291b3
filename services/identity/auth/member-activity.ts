// Member.last_active_at: when a member last made an authenticated request in the organisation. Kept to the
// minute, so a busy member costs one write a minute, not one per request; the write is conditional, so
// replicas seeing the same stale value at once still write it once.
import type { EntityManager } from "@mikro-orm/postgresql";
import { Membership } from "../model/membership.entity.js";

/** The resolution of last_active_at: a request within this long of the recorded time writes nothing. */
export const ACTIVITY_RESOLUTION_MS = 60_000;

/** Records the member's request at `now` if the recorded time is older than the resolution (or unset). */
export async function noteMemberActivity(em: EntityManager, membership: Pick<Membership, "id" | "lastActiveAt">, now = Date.now()): Promise<void> {
  if (membership.lastActiveAt && now - membership.lastActiveAt.getTime() < ACTIVITY_RESOLUTION_MS) return;
  const at = new Date(Math.floor(now / ACTIVITY_RESOLUTION_MS) * ACTIVITY_RESOLUTION_MS);
  await em.nativeUpdate(Membership, { id: membership.id, $or: [{ lastActiveAt: null }, { lastActiveAt: { $lt: at } }] }, { lastActiveAt: at });
}
