// The model repository: `<dir>/<model>/config.pbtxt`, plus optional numeric version directories,
// laid out as Triton expects. Triton and the local sidecar read the same directory; this module is
// the sidecar's (and the contract tests') reader of it.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { DataType, type ModelConfig } from "../../proto/gen/inference/model_config_pb.js";
import { ModelConfigError, lineOf, parseModelConfigText } from "./model-config-text.js";

export { ModelConfigError, parseModelConfigText };

/** One model of the repository with its parsed configuration. */
export interface RepositoryModel {
  name: string;
  /** The model's directory. */
  dir: string;
  /** Its config.pbtxt. */
  configFile: string;
  config: ModelConfig;
  /**
   * Versions served under the config's version policy (latest one by default), as strings.
   * A model with no numeric version directory is served as version "1": Triton needs
   * `<model>/1/` with the backend's files in it, the sidecar does not.
   */
  versions: string[];
}

/** Reads every model of the repository at `dir`, sorted by name. Throws ModelConfigError naming file and line. */
export async function loadRepository(dir: string): Promise<RepositoryModel[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new ModelConfigError(dir, undefined, `cannot read the model repository: ${(err as Error).message}`);
  }
  const models: RepositoryModel[] = [];
  for (const entry of entries.filter((e) => e.isDirectory() && !e.name.startsWith(".")).sort(byName)) {
    models.push(await loadModel(join(dir, entry.name), entry.name));
  }
  return models;
}

/** Reads one model directory. */
export async function loadModel(modelDir: string, name: string): Promise<RepositoryModel> {
  const configFile = join(modelDir, "config.pbtxt");
  let text: string;
  try {
    text = await readFile(configFile, "utf8");
  } catch (err) {
    throw new ModelConfigError(configFile, undefined, `cannot read the model configuration: ${(err as Error).message}`);
  }
  const config = parseModelConfigText(text, configFile);
  // Triton names a model after its directory and fills in an absent name the same way.
  if (config.name === "") config.name = name;
  checkModelConfig(config, name, text, configFile);
  const available = await versionDirectories(modelDir);
  return { name, dir: modelDir, configFile, config, versions: servedVersions(config, available, configFile) };
}

/**
 * The checks Triton makes before it loads a model, so that a config that the sidecar accepts is one
 * that Triton accepts too. Errors point at the line of the offending field where one can be found.
 */
export function checkModelConfig(config: ModelConfig, dirName: string, text: string, file: string): void {
  const fail = (reason: string, needle?: string): never => {
    throw new ModelConfigError(file, needle === undefined ? undefined : lineOf(text, needle), reason);
  };
  if (config.name !== dirName) {
    fail(`model name "${config.name}" differs from its directory "${dirName}"`, `"${config.name}"`);
  }
  if (config.platform === "" && config.backend === "") fail("neither platform nor backend is set");
  if (config.maxBatchSize < 0) fail(`max_batch_size must be 0 or more (got ${config.maxBatchSize})`, "max_batch_size");
  if (config.maxBatchSize === 0 && config.schedulingChoice.case === "dynamicBatching") {
    fail("dynamic_batching needs max_batch_size > 0: a model that does not batch has nothing to batch", "dynamic_batching");
  }
  if (config.input.length === 0) fail("the model declares no input");
  if (config.output.length === 0) fail("the model declares no output");
  const seen = new Set<string>();
  for (const tensor of [...config.input.map((t) => ({ ...t, kind: "input" })), ...config.output.map((t) => ({ ...t, kind: "output" }))]) {
    const where = `${tensor.kind} "${tensor.name}"`;
    if (tensor.name === "") fail(`an ${tensor.kind} has no name`);
    if (seen.has(`${tensor.kind}:${tensor.name}`)) fail(`${where} is declared twice`, `"${tensor.name}"`);
    seen.add(`${tensor.kind}:${tensor.name}`);
    if (tensor.dataType === DataType.TYPE_INVALID) fail(`${where} has no data_type`, `"${tensor.name}"`);
    if (tensor.dims.length === 0) fail(`${where} has no dims`, `"${tensor.name}"`);
    for (const dim of tensor.dims) {
      if (dim !== -1n && dim < 1n) fail(`${where} has dimension ${dim}; dims are -1 (variable) or positive`, `"${tensor.name}"`);
    }
  }
  for (const group of config.instanceGroup) {
    if (group.count < 0) fail(`instance_group count must be 0 or more (got ${group.count})`, "instance_group");
  }
}

async function versionDirectories(modelDir: string): Promise<bigint[]> {
  const entries = await readdir(modelDir, { withFileTypes: true });
  const versions: bigint[] = [];
  for (const entry of entries) {
    if (/^[0-9]+$/.test(entry.name) && (await stat(join(modelDir, entry.name))).isDirectory()) versions.push(BigInt(entry.name));
  }
  return versions.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function servedVersions(config: ModelConfig, available: bigint[], file: string): string[] {
  if (available.length === 0) return ["1"];
  const policy = config.versionPolicy?.policyChoice;
  let served: bigint[];
  switch (policy?.case) {
    case "all":
      served = available;
      break;
    case "specific":
      served = available.filter((v) => policy.value.versions.includes(v));
      break;
    case "latest":
      served = available.slice(-Math.max(1, policy.value.numVersions));
      break;
    default:
      served = available.slice(-1);
  }
  if (served.length === 0) throw new ModelConfigError(file, undefined, "the version_policy selects none of the version directories");
  return served.map(String);
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
