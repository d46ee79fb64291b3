// How the filesystem store writes an object so that readers never see half of it: the bytes go to a temp
// file (hashed on the way, fsynced), the meta is written next to it, and a rename makes them the object.
import { createHash } from "node:crypto";
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { InvalidBlobKeyError, chunkToBuffer, type BucketName } from "./blob-store.js";
import { isMissing, isPathConflict, type FsBlobLayout } from "./fs-blob-layout.js";

export interface BlobMeta {
  /** The data file's inode when the meta was written: a mismatch means the meta belongs to other bytes. */
  ino: number;
  size: number;
  etag: string;
  contentType?: string;
}

export interface TempFile {
  path: string;
  size: number;
  md5: Buffer;
  ino: number;
}

// Another process (a worker sharing the data dir) may still be writing a younger temp file.
const STALE_TEMP_MS = 60 * 60 * 1000;

/** The S3-style ETag of bytes with this MD5: the hex digest, quoted. */
export function etagOf(md5: Buffer): string {
  return `"${md5.toString("hex")}"`;
}

export class FsBlobFiles {
  constructor(private readonly layout: FsBlobLayout) {}

  /** Streams the body into a fresh temp file, hashing as it goes; removes the file if anything fails. */
  async writeTemp(body: Buffer | AsyncIterable<unknown>): Promise<TempFile> {
    const path = this.layout.newTempPath();
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, "wx", 0o644);
    try {
      const hash = createHash("md5");
      let size = 0;
      const write = async (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
        await handle.write(chunk);
      };
      if (Buffer.isBuffer(body)) {
        await write(body);
      } else {
        // Awaiting each write is the backpressure: a slow disk slows the upload instead of filling memory.
        for await (const chunk of body) await write(chunkToBuffer(chunk));
      }
      // fsync before the rename: otherwise a crash can leave a renamed file whose bytes never reached disk.
      await handle.sync();
      const { ino } = await handle.stat();
      await handle.close();
      return { path, size, md5: hash.digest(), ino };
    } catch (error) {
      // swallowed: closing after a failed write; the write's error is rethrown.
      await handle.close().catch(() => undefined);
      await rm(path, { force: true });
      throw error;
    }
  }

  /**
   * Makes a temp file the object. The meta is written first and names the new file's inode, so a reader
   * racing the rename (or a crash between the two) sees old bytes with meta it ignores, never new bytes
   * described by stale meta.
   */
  async commit(temp: TempFile, bucket: BucketName, key: string, meta: BlobMeta): Promise<void> {
    const dataPath = this.layout.dataPath(bucket, key);
    const metaPath = this.layout.metaPath(bucket, key);
    const metaTemp = this.layout.newTempPath(".json");
    try {
      await mkdir(dirname(dataPath), { recursive: true });
      await mkdir(dirname(metaPath), { recursive: true });
      await writeFile(metaTemp, JSON.stringify(meta));
      await rename(metaTemp, metaPath);
      await rename(temp.path, dataPath);
    } catch (error) {
      await rm(temp.path, { force: true });
      await rm(metaTemp, { force: true });
      if (isPathConflict(error)) {
        throw new InvalidBlobKeyError(key, "a key and a folder of other keys cannot share a path");
      }
      throw error;
    }
  }

  /** The object's meta, or null when there is none for the bytes with this inode. */
  async readMeta(bucket: BucketName, key: string, ino: number): Promise<BlobMeta | null> {
    try {
      const meta = JSON.parse(await readFile(this.layout.metaPath(bucket, key), "utf8")) as BlobMeta;
      return meta.ino === ino ? meta : null;
    } catch (error) {
      if (isMissing(error) || error instanceof SyntaxError) return null;
      throw error;
    }
  }

  async removeStaleTempFiles(): Promise<void> {
    const dir = this.layout.tempDir;
    const cutoff = Date.now() - STALE_TEMP_MS;
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      // swallowed: a temp file removed meanwhile (by another sweep) is simply gone.
      const stats = await stat(path).catch(() => null);
      if (stats && stats.mtimeMs < cutoff) await rm(path, { force: true });
    }
  }
}
