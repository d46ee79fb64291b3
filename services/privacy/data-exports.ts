// An organisation's data, all of it, as one ZIP archive (PrivacyService.CreateDataExport): every table's rows
// of the organisation as NDJSON (`<table>.ndjson`, secrets left out), the media files under `media/`, and a
// `manifest.json` saying what is where. Written in the background, a page of rows and one file at a time, to a
// scratch file and then into the `exports` bucket, so an organisation of any size is never held in memory. The
// row is the job's state: a lease says which process is writing it, and one whose process died (lapsed lease)
// is started over by the next sweep.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import archiver, { type Archiver } from "archiver";
import type { Logger } from "pino";
import type { Database } from "../platform/database/database.js";
import type { BlobStore } from "../platform/blobs/blob-store.js";
import { FailedPreconditionError, NotFoundError } from "../platform/errors/errors.js";
import { DataExport } from "./data-export.entity.js";

/** How long a download URL lasts; GetDataExport makes a fresh one. */
export const DATA_EXPORT_URL_TTL_SECONDS = 15 * 60;
/** How long a writer holds an export without renewing; it renews every third of it. */
const LEASE_MS = 5 * 60_000;
/** Rows read and written per query. */
const PAGE_ROWS = 1000;

/**
 * The organisation's tables, in the archive's order: each selects the organisation's rows by id pages
 * (parameters: the organisation, the last id of the previous page, the page size). Secrets and derived search columns are left out.
 */
const TABLES: ReadonlyArray<{ name: string; sql: string; omit?: readonly string[] }> = [
  { name: "organization", sql: `select * from organizations where id = ? and id > ? order by id limit ?` },
  {
    name: "members",
    sql: `select u.id, u.email, u.display_name, u.email_verified_at, u.last_login_at, u.created_at, m.role, m.created_at as joined_at
          from memberships m join users u on u.id = m.user_id where m.organization_id = ? and u.id > ? order by u.id limit ?`,
  },
  { name: "invitations", sql: `select * from invitations where organization_id = ? and id > ? order by id limit ?`, omit: ["token_hash"] },
  { name: "api_keys", sql: `select * from api_keys where organization_id = ? and id > ? order by id limit ?`, omit: ["key_hash"] },
  { name: "media", sql: `select * from media where organization_id = ? and id > ? order by id limit ?` },
  { name: "jobs", sql: `select * from jobs where organization_id = ? and id > ? order by id limit ?`, omit: ["webhook_secret", "request_hash"] },
  { name: "transcripts", sql: `select * from transcripts where organization_id = ? and id > ? order by id limit ?` },
  { name: "speakers", sql: `select * from speakers where organization_id = ? and id > ? order by id limit ?` },
  { name: "segments", sql: `select * from segments where organization_id = ? and id > ? order by id limit ?`, omit: ["search_ar", "search_simple"] },
  { name: "exports", sql: `select * from exports where organization_id = ? and id > ? order by id limit ?` },
  { name: "usage_records", sql: `select * from usage_records where organization_id = ? and id > ? order by id limit ?` },
  { name: "live_sessions", sql: `select * from live_sessions where organization_id = ? and id > ? order by id limit ?` },
  { name: "webhook_endpoints", sql: `select * from webhook_endpoints where organization_id = ? and id > ? order by id limit ?`, omit: ["secret_encrypted", "previous_secret_encrypted"] },
  { name: "webhook_deliveries", sql: `select * from webhook_deliveries where organization_id = ? and id > ? order by id limit ?` },
  { name: "audit_events", sql: `select * from audit_events where organization_id = ? and id > ? order by id limit ?` },
];

const NIL_UUID = "00000000-0000-0000-0000-000000000000";

export interface DataExportView {
  row: DataExport;
  /** Set once succeeded. */
  downloadUrl?: string;
  expiresAt?: Date;
}

export interface DataExportsOptions {
  /** Where archives are written before they go to the blob store. */
  scratchDir: string;
  /** Days an archive is kept after completion (EXPORT_RETENTION_DAYS). */
  retentionDays: number;
  logger: Logger;
}

export class DataExports {
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly database: Database,
    private readonly blobs: BlobStore,
    private readonly options: DataExportsOptions,
  ) {}

  /**
   * Records an export of the organisation and starts writing it in the background. One at a time per
   * organisation: each copies every media file, so a second while one is being written is refused.
   */
  async create(organizationId: string, requestedBy: string): Promise<DataExportView> {
    const em = this.database.fork();
    const busy = await em.findOne(DataExport, { organization: organizationId, status: { $in: ["pending", "running"] } }, { fields: ["id"] });
    if (busy) throw new FailedPreconditionError(`an export of this organisation is already being written (data_export_id ${busy.id}); wait for it with GetDataExport`);
    const row = em.create(DataExport, { organization: organizationId, requestedBy });
    await em.flush();
    this.start(row.id);
    return { row };
  }

  async get(organizationId: string, dataExportId: string): Promise<DataExportView> {
    const row = await this.database.fork().findOne(DataExport, { id: dataExportId, organization: organizationId });
    if (!row) throw new NotFoundError("data export", dataExportId);
    if (row.status !== "succeeded" || !row.storageKey) return { row };
    const downloadUrl = await this.blobs.presignGet("exports", row.storageKey, {
      expiresInSeconds: DATA_EXPORT_URL_TTL_SECONDS,
      downloadFileName: `organization-${organizationId}-${row.createdAt.toISOString().slice(0, 10)}.zip`,
    });
    return { row, downloadUrl, expiresAt: this.expiresAt(row) };
  }

  expiresAt(row: DataExport): Date | undefined {
    return row.completedAt && row.status === "succeeded" ? new Date(row.completedAt.getTime() + this.options.retentionDays * 86_400_000) : undefined;
  }

  /** Starts every export that waits or whose writer died (lapsed lease); deletes archives past their retention. */
  async sweep(now = new Date()): Promise<void> {
    const em = this.database.fork();
    const due = await em.find(DataExport, { $or: [{ status: "pending" }, { status: "running", leaseUntil: { $lt: now } }] }, { fields: ["id"], limit: 100 });
    for (const { id } of due) this.start(id);
    const cutoff = new Date(now.getTime() - this.options.retentionDays * 86_400_000);
    const expired = await em.find(DataExport, { status: { $in: ["succeeded", "failed"] }, completedAt: { $lt: cutoff } }, { limit: 100 });
    for (const row of expired) {
      if (row.storageKey) await this.blobs.delete("exports", row.storageKey);
      await em.nativeDelete(DataExport, { id: row.id });
    }
  }

  /** Waits for the exports being written by this process (they stop at their next step). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running]);
  }

  private start(id: string): void {
    if (this.closed) return;
    const run = this.write(id)
      .catch((err: unknown) => this.options.logger.error({ err, data_export_id: id }, "data export failed"))
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /** Claims the export (pending, or running with a lapsed lease) and writes it; false if another process has it. */
  private async claim(id: string): Promise<DataExport | null> {
    const em = this.database.fork();
    const now = new Date();
    const won = await em.nativeUpdate(
      DataExport,
      { id, $or: [{ status: "pending" }, { status: "running", leaseUntil: { $lt: now } }] },
      { status: "running", progressPercent: 0, leaseUntil: new Date(now.getTime() + LEASE_MS) },
    );
    return won === 1 ? em.findOne(DataExport, { id }) : null;
  }

  private async write(id: string): Promise<void> {
    const row = await this.claim(id);
    if (!row) return;
    const organizationId = typeof row.organization === "string" ? row.organization : row.organization.id;
    const em = this.database.fork();
    const renew = setInterval(() => {
      // swallowed: a missed renewal is retried on the next tick; a lease that lapses only lets another process start the same export over.
      void em.fork().nativeUpdate(DataExport, { id, status: "running" }, { leaseUntil: new Date(Date.now() + LEASE_MS) }).catch(() => undefined);
    }, LEASE_MS / 3);
    renew.unref();
    await mkdir(this.options.scratchDir, { recursive: true });
    const file = path.join(this.options.scratchDir, `data-export-${id}-${randomUUID()}.zip`);
    try {
      await this.writeArchive(organizationId, file, (percent) => em.fork().nativeUpdate(DataExport, { id, status: "running" }, { progressPercent: percent }));
      const key = `orgs/${organizationId}/data-exports/${id}.zip`;
      const { size } = await stat(file);
      await this.blobs.put("exports", key, createReadStream(file), { contentType: "application/zip" });
      const done = await em.fork().nativeUpdate(DataExport, { id, status: "running" }, { status: "succeeded", progressPercent: 100, storageKey: key, sizeBytes: size, leaseUntil: null, completedAt: new Date() });
      // The organisation was erased (its export row with it) while the archive was written: nothing may keep it.
      if (done !== 1) await this.blobs.delete("exports", key);
    } catch (err) {
      await em.fork().nativeUpdate(DataExport, { id, status: "running" }, { status: "failed", error: "the archive could not be written; ask for a new export", leaseUntil: null, completedAt: new Date() });
      throw err;
    } finally {
      clearInterval(renew);
      await rm(file, { force: true });
    }
  }

  private async writeArchive(organizationId: string, file: string, progress: (percent: number) => Promise<unknown>): Promise<void> {
    const connection = this.database.fork().getConnection();
    const archive = archiver("zip", { zlib: { level: 6 } });
    const output = createWriteStream(file);
    const written = finished(output);
    archive.pipe(output);
    let failure: unknown;
    archive.on("error", (err) => (failure = err));
    const media = await connection.execute<Array<{ id: string; storage_key: string; filename: string }>>(
      `select id, storage_key, filename from media where organization_id = ? and status = 'ready' and deleted_at is null order by id`,
      [organizationId],
    );
    const steps = TABLES.length + media.length;
    let done = 0;
    const step = async () => {
      done += 1;
      if (this.closed) throw new Error("the process is stopping; the export is started over by the next one");
      if (failure) throw failure;
      await progress(Math.min(99, Math.floor((done / steps) * 100)));
    };
    const manifest: Record<string, unknown> = { schema: "arabicstt.organization-export", version: 1, organization_id: organizationId, created_at: new Date().toISOString(), files: {} as Record<string, string> };
    const files = manifest.files as Record<string, string>;
    for (const table of TABLES) {
      let count = 0;
      // A page of rows at a time, read as the archive asks for more: a table of any size passes in bounded memory.
      async function* pages() {
        let after = NIL_UUID;
        for (;;) {
          const rows = await connection.execute<Array<Record<string, unknown>>>(table.sql, [organizationId, after, PAGE_ROWS]);
          for (const r of rows) for (const column of table.omit ?? []) delete r[column];
          if (rows.length > 0) yield Buffer.from(rows.map((r) => JSON.stringify(r) + "\n").join(""));
          count += rows.length;
          if (rows.length < PAGE_ROWS) return;
          after = String(rows[rows.length - 1]!.id);
        }
      }
      await appendEntry(archive, Readable.from(pages()), `${table.name}.ndjson`);
      files[`${table.name}.ndjson`] = `${count} rows`;
      await step();
    }
    for (const m of media) {
      const name = `media/${m.id}/${path.basename(m.filename).replace(/[^\p{L}\p{N}._ -]/gu, "_") || "file"}`;
      try {
        const blob = await this.blobs.get("media", m.storage_key);
        await appendEntry(archive, blob.stream, name);
        files[name] = "the uploaded file";
      } catch {
        // swallowed: a file already gone from the store (deleted meanwhile) is simply not in the archive; the manifest says so.
        files[name] = "missing from storage when the export was written";
      }
      await step();
    }
    await appendEntry(archive, Buffer.from(JSON.stringify(manifest, null, 2)), "manifest.json");
    await archive.finalize();
    await written;
    if (failure) throw failure;
  }
}

/** Appends one entry and waits until the archive has taken it, so entries (and their streams) go one at a time. */
function appendEntry(archive: Archiver, source: Buffer | NodeJS.ReadableStream, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onEntry = () => {
      archive.off("error", onError);
      resolve();
    };
    const onError = (err: Error) => {
      archive.off("entry", onEntry);
      reject(err);
    };
    archive.once("entry", onEntry);
    archive.once("error", onError);
    archive.append(source as Buffer, { name });
  });
}
