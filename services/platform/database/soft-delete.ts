/**
 * Entities that users delete keep their row with `deletedAt` set (retention, audit, undo), and this filter,
 * on by default, keeps such rows out of every EntityManager query so nothing deleted can leak into a list or
 * a lookup by omission. Purge and restore code opts out with `filters: { notDeleted: false }`.
 * Raw SQL does not see filters: add `deleted_at is null` by hand there.
 */
export const notDeletedFilter = { name: "notDeleted", cond: { deletedAt: null }, default: true };
