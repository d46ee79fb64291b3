module example.com/arabicstt/examples

go 1.19

require (
	example.com/arabicstt/sdk v0.0.0
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)

// The SDK that `npm run generate:sdk` writes (SDK_GO_MODULE=example.com/arabicstt/sdk, the default).
replace example.com/arabicstt/sdk => ../../../.tmp/sdk/go
