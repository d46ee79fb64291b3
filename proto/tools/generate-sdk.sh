#!/usr/bin/env bash
# Generates the Go and Python client SDKs (proto/tools/buf.gen.sdk.yaml) into a folder, offline.
#
#   proto/tools/generate-sdk.sh [OUT]        default OUT: .tmp/sdk; writes OUT/go and OUT/python
#   SDK_GO_MODULE=github.com/you/stt-sdk ...  the Go module path of OUT/go (default example.com/arabicstt/sdk)
#   SDK_LANGUAGES=python ...                  only these languages (default "go python")
#
# Like generate.sh, it compiles the contracts against the descriptors @bufbuild/protovalidate and
# @bufbuild/protobuf embed, so the SDK's validate.proto is exactly what the server validates with.
# Needs protoc (protobuf-compiler), protoc-gen-go, protoc-gen-go-grpc and grpc_python_plugin
# (Debian: protoc-gen-go protoc-gen-go-grpc protobuf-compiler-grpc).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"
out=${1:-.tmp/sdk}
module=${SDK_GO_MODULE:-example.com/arabicstt/sdk}

languages=" ${SDK_LANGUAGES:-go python} "
tools=(protoc)
[[ $languages == *" go "* ]] && tools+=(protoc-gen-go protoc-gen-go-grpc)
[[ $languages == *" python "* ]] && tools+=(grpc_python_plugin)
[ ${#tools[@]} -gt 1 ] || { echo "SDK_LANGUAGES names neither go nor python: $languages" >&2; exit 2; }
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || {
    echo "$tool not found: apt-get install -y protobuf-compiler protoc-gen-go protoc-gen-go-grpc protobuf-compiler-grpc" >&2
    exit 1
  }
done
[[ $module =~ ^[A-Za-z0-9._~/-]+$ ]] || { echo "SDK_GO_MODULE is not a Go module path: $module" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tsx proto/tools/write-import-descriptors.ts "$work/imports.binpb" >/dev/null
mapfile -t files < <(cd proto && find arabicstt -name '*.proto' | LC_ALL=C sort)
protoc --descriptor_set_in="$work/imports.binpb" --proto_path=proto --include_imports \
  -o "$work/image.binpb" "${files[@]}"
# The template with the Go module path filled in and only the plugins of the languages asked for.
sed "s|SDK_GO_MODULE|$module|" proto/tools/buf.gen.sdk.yaml | awk -v languages="$languages" '
  /^[^ ]/ { keep = 1 }
  /^  - / { keep = 1; if (match($0, /# [a-z]+$/)) keep = index(languages, " " substr($0, RSTART + 2) " ") > 0 }
  keep' > "$work/buf.gen.yaml"

rm -rf "$out/go" "$out/python"
mkdir -p "$out"
buf generate "$work/image.binpb" --path arabicstt --template "$work/buf.gen.yaml" -o "$out"

# A go.mod naming the versions the generated code was checked against (Debian 12's, the oldest we build
# with); newer ones work too.
[[ $languages == *" go "* ]] && cat > "$out/go/go.mod" <<GOMOD
module $module

go 1.19

require (
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)
GOMOD
echo "generated $(find "$out" -name '*.go' | wc -l) Go and $(find "$out" -name '*.py' | wc -l) Python files into $out"
