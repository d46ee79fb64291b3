// The entry of a replica process (gateway/testing/replica-process.ts): the API process exactly as
// `npm start` runs it, plus one JSON line on stdout once it listens, {"replicaReady":{grpcPort,httpPort,pid}},
// since a test gives it port 0 and must learn the ports. Composition overrides come as JSON in argv[2].
import { runApiProcess } from "../process.js";
import type { PlatformOverrides } from "../platform.js";

const overrides = process.argv[2] ? (JSON.parse(process.argv[2]) as PlatformOverrides) : undefined;
await runApiProcess({
  overrides,
  onStarted: (platform) => {
    const ready = { grpcPort: platform.gateway.grpcPort, httpPort: platform.gateway.httpPort, pid: process.pid };
    process.stdout.write(`${JSON.stringify({ replicaReady: ready })}\n`);
  },
});
