// The per-message shortcut for the bulk of a stream: a request message whose whole content is one bytes member
// of a oneof (StreamingRecognizeRequest.audio_content, 50 of them a second per call) needs no walk over its
// fields. What the full checks would find there is read from the descriptors once: the field's protovalidate
// rules, if they are no more than a maximum length, are that one comparison; anything else (other bytes rules,
// CEL, message rules) leaves the field off the shortcut and every message through the full checks. A message
// that fails the shortcut goes through the full checks too, so a refusal reads exactly as before.
import { getOption, hasOption, isFieldSet, ScalarType, type DescField, type DescMessage, type DescOneof, type Message } from "@bufbuild/protobuf";
import {
  field as fieldRulesExt,
  message as messageRulesExt,
  oneof as oneofRulesExt,
  BytesRulesSchema,
  FieldRulesSchema,
  MessageRulesSchema,
  OneofRulesSchema,
} from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

export interface PayloadFastPath {
  /** The oneof's property name on the message (`streamingRequest`). */
  oneof: string;
  /** The bytes members taken by the shortcut (by their `case` name), each with its maximum length (Infinity when none). */
  maxBytes: ReadonlyMap<string, number>;
}

const cache = new WeakMap<DescMessage, PayloadFastPath | null>();

/** The shortcut for `schema`, or undefined when its messages always need the full checks. */
export function payloadFastPath(schema: DescMessage): PayloadFastPath | undefined {
  let found = cache.get(schema);
  if (found === undefined) {
    found = compute(schema);
    cache.set(schema, found);
  }
  return found ?? undefined;
}

function compute(schema: DescMessage): PayloadFastPath | null {
  // Every field a member of the one oneof: with a bytes member chosen, nothing else can be set.
  if (schema.oneofs.length !== 1 || schema.members.length !== 1) return null;
  const oneof: DescOneof = schema.oneofs[0]!;
  // Message-level rules (CEL over the whole message) would have to run on every message.
  if (hasOption(schema, messageRulesExt)) {
    if (!onlySet(getOption(schema, messageRulesExt), MessageRulesSchema, [])) return null;
  }
  // The oneof's own rule can only be `required`, which a chosen member satisfies.
  if (hasOption(oneof, oneofRulesExt)) {
    const rules = getOption(oneof, oneofRulesExt);
    if (!onlySet(rules, OneofRulesSchema, ["required"])) return null;
  }
  const maxBytes = new Map<string, number>();
  for (const field of oneof.fields) {
    const max = bytesOnlyMaxLen(field);
    if (max !== undefined) maxBytes.set(field.localName, max);
  }
  return maxBytes.size > 0 ? { oneof: oneof.localName, maxBytes } : null;
}

/** The field's maximum length when it is a bytes field whose only protovalidate rule (if any) is `bytes.max_len`. */
function bytesOnlyMaxLen(field: DescField): number | undefined {
  if (field.fieldKind !== "scalar" || field.scalar !== ScalarType.BYTES) return undefined;
  if (!hasOption(field, fieldRulesExt)) return Infinity;
  const rules = getOption(field, fieldRulesExt);
  if (rules.type.case === undefined) return onlySet(rules, FieldRulesSchema, []) ? Infinity : undefined;
  if (rules.type.case !== "bytes" || !onlySet(rules, FieldRulesSchema, ["bytes"])) return undefined;
  const bytes = rules.type.value;
  if (!onlySet(bytes, BytesRulesSchema, ["maxLen"])) return undefined;
  return isFieldSet(bytes, BytesRulesSchema.field.maxLen!) ? Number(bytes.maxLen) : Infinity;
}

/** Whether `rules` sets no field but those named, and carries no extension (predefined rules). */
function onlySet(rules: Message, schema: DescMessage, allowed: readonly string[]): boolean {
  if ((rules.$unknown?.length ?? 0) > 0) return false;
  return schema.fields.every((f) => allowed.includes(f.localName) || !isFieldSet(rules, f));
}

/**
 * The chosen bytes member of `message` when the shortcut takes it (within its maximum length), else undefined.
 * A `Map` lookup and a length: no reflection, no allocation.
 */
export function takenByFastPath(path: PayloadFastPath, message: object): string | undefined {
  const chosen = (message as Record<string, { case?: string; value?: unknown } | undefined>)[path.oneof];
  const name = chosen?.case;
  if (name === undefined) return undefined;
  const max = path.maxBytes.get(name);
  if (max === undefined) return undefined;
  return (chosen!.value as Uint8Array).length <= max ? name : undefined;
}
