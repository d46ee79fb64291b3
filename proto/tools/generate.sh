#!/usr/bin/env bash
# Lints the contracts in proto/ and generates TypeScript into proto/gen/, offline.
#
# Our contracts import protovalidate's buf/validate/validate.proto, which lives on
# the BSR (buf.yaml's dep, pinned in buf.lock) and ships in no npm package as source.
# @bufbuild/protovalidate embeds its descriptor, so:
# - lint: that descriptor is printed back as source into proto/gen/protovalidate, the
#   local module buf.yaml names buf.build/bufbuild/protovalidate; buf takes a workspace
#   module over the BSR, so plain `buf lint` works offline (print-proto.test.ts proves
#   the printed file compiles to the very descriptor it came from);
# - generation: the descriptor itself (and the well-known types') goes out as a
#   FileDescriptorSet, protoc compiles our .proto files against it, and buf generates
#   from that image, so generated code embeds exactly what the runtime validates with.
#
#   proto/tools/generate.sh              lint, then regenerate proto/gen/
#   proto/tools/generate.sh --lint-only  lint only
#   proto/tools/generate.sh --check      regenerate into a temp dir and fail if proto/gen/ differs
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"

mode=${1:-generate}
command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tsx proto/tools/write-import-descriptors.ts "$work/imports.binpb" >/dev/null
mapfile -t files < <(cd proto && find . -name '*.proto' -not -path './gen/*' | sed 's|^\./||' | LC_ALL=C sort)
protoc --descriptor_set_in="$work/imports.binpb" --proto_path=proto --include_imports --include_source_info \
  -o "$work/image.binpb" "${files[@]}"

buf lint
echo "buf lint: ${#files[@]} files clean"
[ "$mode" = "--lint-only" ] && exit 0

# buf.gen.yaml writes to proto/gen; --check writes the same tree under a temp dir.
base=.
[ "$mode" = "--check" ] && base="$work/tree"
out="$base/proto/gen"
rm -rf "$out"
tsx proto/tools/write-protovalidate-module.ts "$out/protovalidate" >/dev/null
buf generate "$work/image.binpb" --exclude-path buf --exclude-path google -o "$base" --template buf.gen.yaml
# A descriptor set of every contract (no source info, so it stays small and stable) for
# clients that load descriptors instead of .proto sources: @grpc/proto-loader's
# loadFileDescriptorSetFromBuffer, grpcurl -protoset, ghz --protoset.
protoc --descriptor_set_in="$work/imports.binpb" --proto_path=proto --include_imports \
  -o "$out/descriptor_set.binpb" "${files[@]}"

if [ "$mode" = "--check" ]; then
  diff -r proto/gen "$out" >/dev/null || { echo "proto/gen is stale: run npm run generate" >&2; diff -rq proto/gen "$out" >&2; exit 1; }
  echo "proto/gen is up to date"
else
  echo "generated $(find "$out" -name '*.ts' | wc -l) TypeScript files into $out"
fi
