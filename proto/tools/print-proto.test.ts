// The printed validate.proto (the local module that lets plain `buf lint` resolve protovalidate offline) must be
// protovalidate itself: protoc compiles it back to the very descriptor @bufbuild/protovalidate embeds, byte for
// byte. Our own contracts go through the same round trip, which covers what validate.proto does not use
// (proto3, services, maps, streaming methods, proto3 optional). The committed module must be the current print.
import { execFile } from "node:child_process";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFileRegistry, equals, fromBinary, toBinary, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { printProto } from "./print-proto.js";
import { protovalidateSource } from "./write-protovalidate-module.js";

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "print-proto-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Compiles `files` (path → source) with protoc, imports from `descriptorSetIn`; the descriptors, by name. */
async function compile(files: Record<string, string>, descriptorSetIn?: string): Promise<Map<string, FileDescriptorProto>> {
  const src = await mkdtemp(path.join(dir, "src-"));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(src, name)), { recursive: true });
    await writeFile(path.join(src, name), text);
  }
  const out = path.join(src, "out.binpb");
  const imports = descriptorSetIn ? [`--descriptor_set_in=${descriptorSetIn}`] : ["-I/usr/include"];
  await exec("protoc", [...imports, `--proto_path=${src}`, "-o", out, ...Object.keys(files)]);
  const set = fromBinary(FileDescriptorSetSchema, await readFile(out));
  return new Map(set.file.map((f) => [f.name, f]));
}

function bytes(file: FileDescriptorProto): Buffer {
  return Buffer.from(toBinary(FileDescriptorProtoSchema, file));
}

describe("printing descriptors back as .proto source", () => {
  it("gives back protovalidate's validate.proto exactly as @bufbuild/protovalidate embeds it", async () => {
    const compiled = await compile({ "buf/validate/validate.proto": protovalidateSource() });
    const printed = compiled.get("buf/validate/validate.proto")!;
    expect(printed.messageType.length).toBeGreaterThan(20);
    expect(bytes(printed).equals(bytes(file_buf_validate_validate.proto))).toBe(true);
  });

  it("gives back every contract of ours, custom options included", async () => {
    // The image of every contract, as generate.sh builds it (with the imports they need).
    const set = fromBinary(FileDescriptorSetSchema, await readFile(path.join(root, "proto/gen/descriptor_set.binpb")));
    const registry: Registry = createFileRegistry(set);
    const ours = set.file.filter((f) => !f.name.startsWith("google/") && !f.name.startsWith("buf/"));
    expect(ours.length).toBeGreaterThan(15);
    const imports = path.join(dir, "imports.binpb");
    const importFiles = set.file.filter((f) => !ours.includes(f));
    await writeFile(imports, toBinary(FileDescriptorSetSchema, { ...set, file: importFiles }));

    const sources = Object.fromEntries(ours.map((f) => [f.name, printProto(f, registry)]));
    expect(sources["arabicstt/v1/speech.proto"]).toContain("rpc StreamingRecognize(stream .arabicstt.v1.StreamingRecognizeRequest)");
    const compiled = await compile(sources, imports);
    for (const file of ours) {
      // Compared as values, extensions decoded: protoc writes one options record per `option` statement of the
      // source (`.string.min_len = 1, .string.max_len = 9`) where the print has one merged record.
      const same = equals(FileDescriptorProtoSchema, compiled.get(file.name)!, file, { registry, extensions: true, unknown: true });
      expect(same, file.name).toBe(true);
    }
  });

  it("matches the committed local module buf.yaml points at", async () => {
    const committed = await readFile(path.join(root, "proto/gen/protovalidate/buf/validate/validate.proto"), "utf8");
    expect(committed).toBe(protovalidateSource());
  });
});
