// Several servers behind one client: two real sidecars over gRPC. Calls are spread over both, and
// when one goes away every call still succeeds on the other while the dead one's breaker opens.
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSidecar, type Sidecar } from "../local/server.js";
import { createInferenceClient, newSequenceId, type InferenceClient } from "./index.js";
import { dtmfSequence } from "./testing/signals.js";

const logger = pino({ level: "silent" });

async function attempts(registry: Registry): Promise<Record<string, Record<string, number>>> {
  const metric = await registry.getSingleMetric("arabicstt_inference_attempts_total")!.get();
  const byAddress: Record<string, Record<string, number>> = {};
  for (const v of metric.values) (byAddress[String(v.labels.address)] ??= {})[String(v.labels.outcome)] = v.value;
  return byAddress;
}

async function breakerOpen(registry: Registry, address: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric("arabicstt_inference_breaker_open")!.get();
  return metric.values.find((v) => v.labels.address === address)?.value;
}

describe("inference client over two sidecars", () => {
  const sidecars: Sidecar[] = [];
  const registry = new Registry();
  let client: InferenceClient;
  let addresses: string[];
  const { audio, keys } = dtmfSequence("159#");

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      sidecars.push(await startSidecar({ host: "127.0.0.1", port: 0, modelsDir: "inference/models", weightsDir: "/nonexistent", logger }));
    }
    addresses = sidecars.map((s) => `127.0.0.1:${s.port}`);
    client = createInferenceClient({
      addresses,
      registry,
      deadlineMs: 5_000,
      retry: { maxAttempts: 4, initialBackoffMs: 10, maxBackoffMs: 50 },
      breaker: { failureThreshold: 2, cooldownMs: 60_000 },
    });
  });

  afterAll(async () => {
    client?.close();
    await Promise.all(sidecars.map((s) => s.close()));
  });

  it("takes turns between the addresses", async () => {
    for (let i = 0; i < 8; i++) expect((await client.transcribe("dtmf", audio)).text).toBe(keys.map((k) => k.key).join(""));
    // Eight inferences plus the one configuration lookup the typed helper caches.
    const counts = await attempts(registry);
    const [first, second] = [counts[addresses[0]!]?.ok ?? 0, counts[addresses[1]!]?.ok ?? 0];
    expect(first + second).toBe(9);
    expect(Math.abs(first - second)).toBeLessThanOrEqual(1);
  });

  it("keeps each sequence on one address, so its continuations find the state its start left there", async () => {
    for (let n = 0; n < 4; n++) {
      const id = newSequenceId();
      const pieces = [audio.subarray(0, 3000), audio.subarray(3000, 7000), audio.subarray(7000)];
      let text = "";
      for (let i = 0; i < pieces.length; i++) {
        text = (await client.transcribe("dtmf", pieces[i]!, { sequence: { id, start: i === 0, end: i === pieces.length - 1 } })).text;
      }
      expect(text).toBe("159#");
    }
  });

  it("keeps answering from the survivor when one server goes away, and opens the dead one's breaker", async () => {
    const before = (await attempts(registry))[addresses[1]!]?.ok ?? 0;
    await sidecars[0]!.close();
    for (let i = 0; i < 6; i++) expect((await client.transcribe("dtmf", audio)).text).toBe("159#");
    const counts = await attempts(registry);
    expect(counts[addresses[0]!]?.transport_error).toBeGreaterThanOrEqual(1);
    expect(counts[addresses[1]!]?.ok).toBe(before + 6);
    expect(await breakerOpen(registry, addresses[0]!)).toBe(1);
    expect(await breakerOpen(registry, addresses[1]!)).toBe(0);
  });
});
