// The shape of the field tables (request-fields.ts, response-fields.ts) and the walk over the contracts'
// descriptors they are checked against. A field is named as "<message type>.<field name>"
// ("arabicstt.v1.RecognitionConfig.max_alternatives"): one entry serves every RPC whose request reaches the
// message, unless the entry says, RPC by RPC, what each one does with it. Well-known types
// (google.protobuf.Duration, Timestamp) are leaves: the field holding one is the unit decided on.
import type { DescField, DescMessage, DescMethod } from "@bufbuild/protobuf";
import { productServices } from "../product-services.js";

/** The contracts' package: messages outside it (well-known types) are not walked into. */
export const CONTRACT_PACKAGE = "arabicstt.v1";

/** "<package.Service>/<Method>", as the RPC policy table and the interceptors name an RPC. */
export type RpcName = `${string}/${string}`;

/** Where code or a test lives: "services/speech/convert.ts#recognitionConfigOf" (a path from the root, a name in it). */
export type CodeRef = `${string}.ts#${string}`;

/** A test that fails if the field stops being applied: its file and the name it is declared with. */
export interface Proof {
  test: `${string}.test.ts`;
  name: string;
}

/**
 * Applied by code that has no test of its own yet: `why` says what a test would have to send. The table test
 * pins the list of these, so a new field cannot land unproven without someone adding it there on purpose.
 */
export interface NoProofYet {
  none: string;
}

/** The field does what the contract says: `by` is the code that reads it, `proof` the test that shows it. */
export interface Applied {
  kind: "applied";
  by: CodeRef;
  proof: Proof | NoProofYet;
  /** What "applied" covers when that is not obvious (values checked, caveats). */
  note?: string;
}

export type RefusalCode = "invalid_argument" | "unimplemented";

/**
 * The field, when set, is refused before any handler runs (gateway/interceptors/field-policy.ts), with `code`
 * and a message naming the field path and giving `reason`. A field is set when it differs from its default:
 * a non-zero scalar or enum, a present message, a non-empty list or map, the chosen oneof case.
 */
export interface Refused {
  kind: "refused";
  code: RefusalCode;
  /** Told to the client after the field path: why, and what to send instead. */
  reason: string;
  /**
   * Set values that are let through after all (they mean what the code does anyway): `denoise` OFF on live
   * recognition. Default: none.
   */
  allows?: (value: unknown) => boolean;
}

export type FieldRule = Applied | Refused;

/** One rule for every RPC reaching the field, or one per RPC (all of them named). */
export type FieldEntry = FieldRule | { kind: "per_rpc"; rules: Readonly<Record<RpcName, FieldRule>> };

/** A response field the handlers fill, by which code. */
export interface SetField {
  kind: "set";
  by: CodeRef;
}

/** A response field left unset at times: when, and why that is what the contract means. */
export interface OptionalField {
  kind: "optional";
  by: CodeRef;
  unsetWhen: string;
}

export type ResponseEntry = SetField | OptionalField;

/** A field's place in the contracts. */
export interface ContractField {
  /** "<message type>.<field name>": the key of its entry. */
  key: string;
  message: DescMessage;
  field: DescField;
  /** RPCs whose request (or response) reaches it. */
  rpcs: RpcName[];
}

export const rpcNameOf = (method: DescMethod): RpcName => `${method.parent.typeName}/${method.name}`;

export const fieldKey = (message: DescMessage, field: DescField): string => `${message.typeName}.${field.name}`;

/** The contract message a field holds (directly, as list elements or as map values), if any. */
export function messageOf(field: DescField): DescMessage | undefined {
  switch (field.fieldKind) {
    case "message":
      return field.message;
    case "list":
      return field.listKind === "message" ? field.message : undefined;
    case "map":
      return field.mapKind === "message" ? field.message : undefined;
    default:
      return undefined;
  }
}

export const isContractMessage = (message: DescMessage): boolean => message.typeName.startsWith(`${CONTRACT_PACKAGE}.`);

/** Every field of every contract message reachable from the requests (`side: "input"`) or responses of the public RPCs. */
export function contractFields(side: "input" | "output"): ContractField[] {
  const found = new Map<string, ContractField>();
  const walk = (message: DescMessage, rpc: RpcName, seen: Set<string>) => {
    if (!isContractMessage(message) || seen.has(message.typeName)) return;
    seen.add(message.typeName);
    for (const field of message.fields) {
      const key = fieldKey(message, field);
      const entry = found.get(key) ?? { key, message, field, rpcs: [] };
      if (!entry.rpcs.includes(rpc)) entry.rpcs.push(rpc);
      found.set(key, entry);
      const inner = messageOf(field);
      if (inner) walk(inner, rpc, seen);
    }
  };
  for (const service of productServices) {
    for (const method of service.methods) walk(side === "input" ? method.input : method.output, rpcNameOf(method), new Set());
  }
  return [...found.values()];
}

/** The rule an entry gives one RPC; undefined when a per-RPC entry does not name it. */
export function ruleFor(entry: FieldEntry, rpc: RpcName): FieldRule | undefined {
  return entry.kind === "per_rpc" ? entry.rules[rpc] : entry;
}
