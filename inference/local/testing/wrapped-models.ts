// The sidecar's own models with one model's `infer` wrapped, for tests that read what a real model is
// sent (its PROMPT, its MAX_ALTERNATIVES) or rewrite what it answers (punctuation, an n-best) while the
// model itself still runs: the sidecar, the wire and everything behind them stay real.
import { localModelFactories, type LocalModelFactory } from "../models/index.js";
import type { LocalModel } from "../models/model.js";

type Infer = LocalModel["infer"];

/** localModelFactories() with `name`'s infer replaced by `wrap(infer)`; every other member is the model's. */
export function withWrappedInfer(name: string, wrap: (infer: Infer) => Infer): ReadonlyMap<string, LocalModelFactory> {
  const factories = new Map(localModelFactories());
  const factory = factories.get(name);
  if (!factory) throw new Error(`no local model named ${name}`);
  factories.set(name, (config, ctx) => {
    const model = factory(config, ctx);
    const infer = wrap((inputs, parameters, signal) => model.infer(inputs, parameters, signal));
    return {
      config: model.config,
      load: () => model.load(),
      readiness: () => model.readiness(),
      unload: () => model.unload(),
      infer,
    };
  });
  return factories;
}
