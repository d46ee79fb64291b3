// Keeps the contract's word on every request field, before any handler runs: a field the field table
// (services/app/contract/request-fields.ts) marks refused is answered with its code (INVALID_ARGUMENT or
// UNIMPLEMENTED) and a message naming it as the client wrote it (`config.redaction_config`), instead of being
// accepted and ignored. Only fields that are set are looked at (a non-default scalar or enum, a present
// message, a non-empty list or map, the chosen oneof case), so a client that leaves a refused field at its
// default is served. Client and bidi streams are checked message by message as they arrive. The gateway runs
// this together with validation (request-checks.ts).
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { DescMessage, Message } from "@bufbuild/protobuf";
import { reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { mapStream } from "./streams.js";
import { payloadFastPath, takenByFastPath } from "./payload-fast-path.js";
import { requestFields } from "../../services/app/contract/request-fields.js";
import { fieldKey, isContractMessage, messageOf, ruleFor, type FieldEntry, type RefusalCode, type RpcName } from "../../services/app/contract/fields.js";

const codes: Record<RefusalCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  unimplemented: Code.Unimplemented,
};

export function fieldPolicyInterceptor(table: Readonly<Record<string, FieldEntry>> = requestFields): Interceptor {
  return (next) => async (req) => {
    // grpc.health.v1 and anything else outside the contracts has no entries to keep.
    if (!isContractMessage(req.method.input)) return next(req);
    const rpc: RpcName = `${req.service.typeName}/${req.method.name}`;
    if (!req.stream) {
      checkFieldPolicy(table, rpc, req.method.input, req.message as Message);
      return next(req);
    }
    const fast = payloadFastPath(req.method.input);
    const leaves = new Set([...(fast?.maxBytes.keys() ?? [])].filter((member) => appliedLeaf(table, rpc, req.method.input, member)));
    return next({
      ...req,
      message: mapStream(req.message, {
        each: (message) => {
          const member = fast && takenByFastPath(fast, message);
          if (member && leaves.has(member)) return;
          checkFieldPolicy(table, rpc, req.method.input, message as Message);
        },
      }),
    });
  };
}

/** Throws for the first set field of a request message of `rpc` that the table refuses. */
export function checkFieldPolicy(table: Readonly<Record<string, FieldEntry>>, rpc: RpcName, schema: DescMessage, message: Message): void {
  check(table, rpc, reflect(schema, message), "");
}

/**
 * Whether the table lets `rpc` through with only `member` set (a top-level field of `schema`) whatever its
 * value: the field is applied, not refused, and holds no message to look into.
 */
export function appliedLeaf(table: Readonly<Record<string, FieldEntry>>, rpc: RpcName, schema: DescMessage, member: string): boolean {
  const field = schema.field[member];
  if (!field || messageOf(field)) return false;
  const entry = table[fieldKey(schema, field)];
  return entry !== undefined && ruleFor(entry, rpc)?.kind === "applied";
}

/** Throws for the first set field of `message` (at `prefix`) that `rpc` refuses, looking into the fields it applies. */
function check(table: Readonly<Record<string, FieldEntry>>, rpc: RpcName, message: ReflectMessage, prefix: string): void {
  for (const field of message.fields) {
    if (!message.isSet(field)) continue;
    const path = prefix + field.name;
    const entry = table[fieldKey(message.desc, field)];
    const rule = entry && ruleFor(entry, rpc);
    // The table test keeps every field decided; should one slip through, it is refused rather than ignored.
    if (!rule) throw new ConnectError(`${path}: not served by ${rpc.split("/")[1]}; leave it unset`, Code.Unimplemented);
    if (rule.kind === "refused") {
      const value: unknown = message.get(field);
      if (!rule.allows?.(value)) throw new ConnectError(`${path}: ${rule.reason}`, codes[rule.code]);
      continue;
    }
    const inner = messageOf(field);
    if (!inner || !isContractMessage(inner)) continue;
    for (const [at, element] of elements(message, field, inner)) check(table, rpc, element, `${path}${at}.`);
  }
}

/** The messages a message, list or map field holds, each with how its path goes on (`[2]`, `["key"]`, or nothing). */
function elements(message: ReflectMessage, field: ReflectMessage["fields"][number], inner: DescMessage): Array<[string, ReflectMessage]> {
  switch (field.fieldKind) {
    case "message":
      return [["", message.get(field)]];
    case "list":
      return [...message.get(field)].map((element, i) => [`[${i}]`, element as ReflectMessage]);
    case "map":
      return [...message.get(field)].map(([key, value]) => [`[${JSON.stringify(String(key))}]`, value as ReflectMessage]);
    default:
      throw new Error(`${inner.typeName} is held by neither a message, list nor map field`);
  }
}
