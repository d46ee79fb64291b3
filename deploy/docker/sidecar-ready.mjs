// Container healthcheck of the inference sidecar (`npm run sidecar`): KServe v2 ServerReady over gRPC,
// the call Triton's clients make. Exits 0 when the server says it is ready. Run from the image's /app.
import grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

const port = process.env.SIDECAR_PORT || "8001";
const definition = loadSync("inference/grpc_service.proto", { includeDirs: ["proto"] });
const { inference } = grpc.loadPackageDefinition(definition);
const client = new inference.GRPCInferenceService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
client.ServerReady({}, { deadline: Date.now() + 4000 }, (err, response) => {
  if (err) console.error(`sidecar not ready: ${err.message}`);
  else if (!response.ready) console.error("sidecar not ready yet");
  process.exit(!err && response.ready ? 0 : 1);
});
