// What an organisation does with its items once they exist: read one, list them, get a download URL for
// one, and delete one (audited, and refused while a job still needs it).
import type { AuditLog } from "../identity/audit/audit-log.js";
import type { Caller, Principal } from "../identity/model/principal.js";
import type { BlobStore } from "../platform/blobs/blob-store.js";
import { decodeOffset, encodeOffset, pageSize, type Page } from "../platform/database/paging.js";
import { FailedPreconditionError } from "../platform/errors/errors.js";
import { Media, type MediaStatus } from "./media.entity.js";
import { describeState, type MediaItems } from "./media-items.js";

const DEFAULT_DOWNLOAD_TTL_SECONDS = 15 * 60;

export class MediaCatalog {
  constructor(
    private readonly items: MediaItems,
    private readonly blobs: BlobStore,
    private readonly audit: AuditLog,
  ) {}

  async get(principal: Principal, mediaId: string): Promise<Media> {
    return this.items.find(this.items.tenant(principal.organizationId), mediaId);
  }

  /** Newest first; `status` narrows it to one state. */
  async list(principal: Principal, input: { pageSize: number; pageToken: string; status?: MediaStatus }): Promise<Page<Media>> {
    const tenant = this.items.tenant(principal.organizationId);
    const limit = pageSize(input.pageSize);
    const offset = decodeOffset(input.pageToken);
    const rows = await tenant.find(Media, input.status ? { status: input.status } : {}, {
      orderBy: { createdAt: "desc", id: "desc" },
      limit: limit + 1,
      offset,
      populate: ["organization"],
    });
    return { items: rows.slice(0, limit), nextPageToken: rows.length > limit ? encodeOffset(offset + limit) : "" };
  }

  /** Soft-deletes the item and removes its bytes; refused while a queued or running job uses it. Audited. */
  async delete(principal: Principal, mediaId: string, caller: Caller): Promise<void> {
    const tenant = this.items.tenant(principal.organizationId);
    const media = await this.items.find(tenant, mediaId);
    await this.items.assertNoActiveJob(tenant, media.id);
    await this.items.remove(tenant, media);
    await this.audit.record(
      {
        action: "media.delete",
        outcome: "success",
        organizationId: principal.organizationId,
        ...(principal.kind === "user" ? { actorUserId: principal.userId } : { actorApiKeyId: principal.apiKeyId }),
        targetType: "media",
        targetId: media.id,
        details: { filename: media.filename, state: media.status },
      },
      caller,
    );
  }

  /** A presigned GET of a READY item's bytes, saved under its file name. */
  async downloadUrl(principal: Principal, mediaId: string, expiresInSeconds = DEFAULT_DOWNLOAD_TTL_SECONDS): Promise<{ url: string; expiresAt: Date }> {
    const media = await this.items.find(this.items.tenant(principal.organizationId), mediaId);
    if (media.status !== "ready") {
      throw new FailedPreconditionError(`media_id: the item is ${describeState(media)}; only a READY item can be downloaded`);
    }
    const expiresAt = new Date(Date.now() + expiresInSeconds * 1000);
    const url = await this.blobs.presignGet("media", media.storageKey, { expiresInSeconds, downloadFileName: media.filename });
    return { url, expiresAt };
  }
}
