// Writes the imports our contracts need but no npm package ships as .proto source
// (protovalidate's buf/validate/validate.proto and the well-known types) as one
// FileDescriptorSet, taken from the descriptors those packages embed. protoc then
// resolves the imports from it with --descriptor_set_in, which keeps generation offline.
import { writeFileSync } from "node:fs";
import { create, toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import * as wkt from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

const out = process.argv[2];
if (!out) {
  console.error("usage: write-import-descriptors.ts <out.binpb>");
  process.exit(2);
}

const roots: DescFile[] = [
  file_buf_validate_validate,
  wkt.file_google_protobuf_any,
  wkt.file_google_protobuf_duration,
  wkt.file_google_protobuf_empty,
  wkt.file_google_protobuf_field_mask,
  wkt.file_google_protobuf_struct,
  wkt.file_google_protobuf_timestamp,
  wkt.file_google_protobuf_wrappers,
];

// Dependencies first, each file once: protoc expects a file's imports before the file.
const ordered: DescFile[] = [];
const seen = new Set<string>();
function visit(file: DescFile): void {
  if (seen.has(file.name)) return;
  seen.add(file.name);
  for (const dep of file.dependencies) visit(dep);
  ordered.push(file);
}
roots.forEach(visit);

const set = create(FileDescriptorSetSchema, { file: ordered.map((f) => f.proto) });
writeFileSync(out, toBinary(FileDescriptorSetSchema, set));
console.log(`wrote ${ordered.length} import descriptors to ${out}`);
