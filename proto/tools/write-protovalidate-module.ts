// Writes protovalidate's buf/validate/validate.proto as source, printed from the descriptor that
// @bufbuild/protovalidate embeds (no npm package ships the .proto itself), into the local buf module that
// buf.yaml names buf.build/bufbuild/protovalidate. With it in the workspace, plain `buf lint` and `buf build`
// resolve the import offline; buf.lock pins the same version (v1.2.0) on the BSR for anyone online.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createRegistry } from "@bufbuild/protobuf";
import { file_google_protobuf_descriptor } from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { printProto } from "./print-proto.js";

const HEADER = `// Copyright 2023-2026 Buf Technologies, Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//      http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

// protovalidate v1.2.0 (buf.build/bufbuild/protovalidate), printed by proto/tools/write-protovalidate-module.ts
// from the descriptor @bufbuild/protovalidate embeds; the upstream comments are not in that descriptor, see
// https://github.com/bufbuild/protovalidate for them. Generated: never edit by hand.`;

/** The module's text: one file, buf/validate/validate.proto. */
export function protovalidateSource(): string {
  const registry = createRegistry(file_buf_validate_validate, file_google_protobuf_descriptor);
  return printProto(file_buf_validate_validate.proto, registry, HEADER);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) {
    console.error("usage: write-protovalidate-module.ts <module dir>");
    process.exit(2);
  }
  const file = path.join(dir, "buf/validate/validate.proto");
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, protovalidateSource());
  console.log(`wrote ${file}`);
}
