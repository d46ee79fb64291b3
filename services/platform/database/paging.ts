// List paging shared by the List* RPCs: page sizes as the contracts define them (0 means 50, at most
// 200) and opaque page tokens.
import { InvalidArgumentError } from "../errors/errors.js";

export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

export function pageSize(requested: number): number {
  return requested <= 0 ? 50 : Math.min(requested, 200);
}

export function encodeOffset(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString("base64url");
}

export function decodeOffset(token: string): number {
  if (!token) return 0;
  let offset: unknown;
  try {
    offset = (JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { o?: unknown }).o;
  } catch {
    offset = undefined;
  }
  if (typeof offset !== "number" || !Number.isInteger(offset) || offset < 0) {
    throw new InvalidArgumentError("page_token", "is not a token this list returned; start again with an empty page_token");
  }
  return offset;
}
