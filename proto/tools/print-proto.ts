// Prints a FileDescriptorProto back as .proto source. Used for protovalidate's buf/validate/validate.proto,
// which no npm package ships as source: @bufbuild/protovalidate embeds its compiled descriptor, and the
// printed file (compiled again by protoc, see print-proto.test.ts) gives back that same descriptor. It
// covers what proto2/proto3 files without source info hold: messages (nested, map entries, oneofs,
// extension and reserved ranges), enums, services, extensions, and options, custom ones included (read
// from the options' unknown fields through the registry). Hand-written because no npm library turns
// descriptors into .proto text (protobufjs prints its own reflection, which drops custom options).
import {
  isFieldSet,
  ScalarType,
  type DescExtension,
  type DescField,
  type DescMessage,
  type Message,
  type Registry,
  getExtension,
  hasExtension,
} from "@bufbuild/protobuf";
import { reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import {
  FieldDescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
  type ServiceDescriptorProto,
} from "@bufbuild/protobuf/wkt";

const MAX_FIELD_NUMBER = 536870911;

/** The .proto text of `file`; `registry` resolves the extensions its options use. */
export function printProto(file: FileDescriptorProto, registry: Registry, header = ""): string {
  const out: string[] = [];
  if (header) out.push(header.trimEnd(), "");
  const syntax = file.syntax || "proto2";
  out.push(`syntax = "${syntax}";`, "");
  out.push(`package ${file.package};`, "");
  for (const dep of file.dependency) out.push(`import "${dep}";`);
  if (file.dependency.length) out.push("");
  out.push(...optionLines(file.options, registry, ""));
  if (file.options) out.push("");
  const scope = `.${file.package}`;
  for (const ext of groupExtensions(file.extension)) out.push(...printExtend(ext.extendee, ext.fields, scope, registry, ""), "");
  for (const e of file.enumType) out.push(...printEnum(e, registry, ""), "");
  for (const m of file.messageType) out.push(...printMessage(m, scope, syntax, registry, ""), "");
  for (const s of file.service) out.push(...printService(s, registry), "");
  while (out[out.length - 1] === "") out.pop();
  return out.join("\n") + "\n";
}

function groupExtensions(fields: FieldDescriptorProto[]): { extendee: string; fields: FieldDescriptorProto[] }[] {
  const groups: { extendee: string; fields: FieldDescriptorProto[] }[] = [];
  for (const field of fields) {
    const last = groups[groups.length - 1];
    if (last && last.extendee === field.extendee) last.fields.push(field);
    else groups.push({ extendee: field.extendee, fields: [field] });
  }
  return groups;
}

function printExtend(extendee: string, fields: FieldDescriptorProto[], scope: string, registry: Registry, indent: string): string[] {
  const lines = [`${indent}extend ${extendee} {`];
  for (const field of fields) lines.push(...printField(field, scope, "proto2", registry, indent + "  ", undefined));
  lines.push(`${indent}}`);
  return lines;
}

function printMessage(m: DescriptorProto, parentScope: string, syntax: string, registry: Registry, indent: string): string[] {
  const scope = `${parentScope}.${m.name}`;
  const inner = indent + "  ";
  const lines = [`${indent}message ${m.name} {`];
  lines.push(...optionLines(m.options, registry, inner));
  const mapEntries = new Map(m.nestedType.filter((n) => n.options?.mapEntry).map((n) => [`${scope}.${n.name}`, n]));
  // Fields in declaration order; the fields of one oneof are printed inside it, where its first one was.
  const printed = new Set<FieldDescriptorProto>();
  const fieldLines = (field: FieldDescriptorProto): string[] => {
    if (!inRealOneof(field)) {
      printed.add(field);
      return printField(field, scope, syntax, registry, inner, mapEntries);
    }
    const decl = m.oneofDecl[field.oneofIndex]!;
    const group = [`${inner}oneof ${decl.name} {`, ...optionLines(decl.options, registry, inner + "  ")];
    for (const member of m.field.filter((f) => inRealOneof(f) && f.oneofIndex === field.oneofIndex)) {
      printed.add(member);
      group.push(...printField(member, scope, syntax, registry, inner + "  ", mapEntries, true));
    }
    return [...group, `${inner}}`];
  };
  let next = 0;
  const fieldsUpTo = (end: number) => {
    for (; next < end; next++) if (!printed.has(m.field[next]!)) lines.push(...fieldLines(m.field[next]!));
  };
  // nested_type lists nested messages and map entries in the order of the declarations they come from, so a
  // map field is printed before the nested messages that follow its entry.
  for (const nested of m.nestedType) {
    if (nested.options?.mapEntry) fieldsUpTo(m.field.findIndex((f) => f.typeName === `${scope}.${nested.name}`) + 1);
    else lines.push(...printMessage(nested, scope, syntax, registry, inner));
  }
  fieldsUpTo(m.field.length);
  for (const range of m.extensionRange) lines.push(`${inner}extensions ${range.start} to ${rangeEnd(range.end - 1)};`);
  for (const range of m.reservedRange) lines.push(`${inner}reserved ${range.start === range.end - 1 ? range.start : `${range.start} to ${rangeEnd(range.end - 1)}`};`);
  if (m.reservedName.length) lines.push(`${inner}reserved ${m.reservedName.map((n) => JSON.stringify(n)).join(", ")};`);
  for (const ext of groupExtensions(m.extension)) lines.push(...printExtend(ext.extendee, ext.fields, scope, registry, inner));
  for (const e of m.enumType) lines.push(...printEnum(e, registry, inner));
  lines.push(`${indent}}`);
  return lines;
}

/** proto2 fields read their default when unset (0 for oneof_index), so presence is asked explicitly. */
function has(f: FieldDescriptorProto, name: "oneofIndex" | "jsonName" | "defaultValue"): boolean {
  return isFieldSet(f, FieldDescriptorProtoSchema.field[name]);
}

/** A member of a declared oneof, not of the synthetic one a proto3 `optional` field gets. */
function inRealOneof(f: FieldDescriptorProto): boolean {
  return has(f, "oneofIndex") && !f.proto3Optional;
}

function rangeEnd(end: number): string {
  return end >= MAX_FIELD_NUMBER ? "max" : String(end);
}

function printField(
  f: FieldDescriptorProto,
  scope: string,
  syntax: string,
  registry: Registry,
  indent: string,
  mapEntries?: Map<string, DescriptorProto>,
  inOneof = false,
): string[] {
  const entry = f.typeName ? mapEntries?.get(f.typeName) : undefined;
  let type: string;
  let label = "";
  if (entry) {
    const [key, value] = entry.field;
    type = `map<${fieldType(key!, scope)}, ${fieldType(value!, scope)}>`;
  } else {
    type = fieldType(f, scope);
    if (f.label === FieldDescriptorProto_Label.REPEATED) label = "repeated ";
    else if (f.label === FieldDescriptorProto_Label.REQUIRED) label = "required ";
    else if (!inOneof && (syntax === "proto2" || f.proto3Optional)) label = "optional ";
  }
  const options: string[] = [];
  if (has(f, "defaultValue")) options.push(`default = ${defaultLiteral(f)}`);
  if (has(f, "jsonName") && f.jsonName !== jsonName(f.name)) options.push(`json_name = ${JSON.stringify(f.jsonName)}`);
  options.push(...inlineOptions(f.options, registry));
  const head = `${indent}${label}${type} ${f.name} = ${f.number}`;
  if (!options.length) return [`${head};`];
  if (options.length === 1 && !options[0]!.includes("\n")) return [`${head} [${options[0]}];`];
  return [`${head} [`, ...options.map((o, i) => indentBlock(o, indent + "  ") + (i < options.length - 1 ? "," : "")), `${indent}];`];
}

function printEnum(e: EnumDescriptorProto, registry: Registry, indent: string): string[] {
  const inner = indent + "  ";
  const lines = [`${indent}enum ${e.name} {`, ...optionLines(e.options, registry, inner)];
  for (const v of e.value) {
    const options = inlineOptions(v.options, registry);
    lines.push(`${inner}${v.name} = ${v.number}${options.length ? ` [${options.join(", ")}]` : ""};`);
  }
  for (const range of e.reservedRange) lines.push(`${inner}reserved ${range.start === range.end ? range.start : `${range.start} to ${range.end}`};`);
  if (e.reservedName.length) lines.push(`${inner}reserved ${e.reservedName.map((n) => JSON.stringify(n)).join(", ")};`);
  lines.push(`${indent}}`);
  return lines;
}

function printService(s: ServiceDescriptorProto, registry: Registry): string[] {
  const lines = [`service ${s.name} {`, ...optionLines(s.options, registry, "  ")];
  for (const m of s.method) {
    const input = `${m.clientStreaming ? "stream " : ""}${m.inputType}`;
    const output = `${m.serverStreaming ? "stream " : ""}${m.outputType}`;
    const body = optionLines(m.options, registry, "    ");
    // `{}` would give the method an empty options message where `;` gives it none: print what the descriptor says.
    const head = `  rpc ${m.name}(${input}) returns (${output})`;
    if (body.length) lines.push(`${head} {`, ...body, "  }");
    else lines.push(m.options ? `${head} {}` : `${head};`);
  }
  lines.push("}");
  return lines;
}

const SCALAR_NAMES: Partial<Record<FieldDescriptorProto_Type, string>> = {
  [FieldDescriptorProto_Type.DOUBLE]: "double",
  [FieldDescriptorProto_Type.FLOAT]: "float",
  [FieldDescriptorProto_Type.INT64]: "int64",
  [FieldDescriptorProto_Type.UINT64]: "uint64",
  [FieldDescriptorProto_Type.INT32]: "int32",
  [FieldDescriptorProto_Type.FIXED64]: "fixed64",
  [FieldDescriptorProto_Type.FIXED32]: "fixed32",
  [FieldDescriptorProto_Type.BOOL]: "bool",
  [FieldDescriptorProto_Type.STRING]: "string",
  [FieldDescriptorProto_Type.BYTES]: "bytes",
  [FieldDescriptorProto_Type.UINT32]: "uint32",
  [FieldDescriptorProto_Type.SFIXED32]: "sfixed32",
  [FieldDescriptorProto_Type.SFIXED64]: "sfixed64",
  [FieldDescriptorProto_Type.SINT32]: "sint32",
  [FieldDescriptorProto_Type.SINT64]: "sint64",
};

/** Type references are printed fully qualified (a leading dot): a relative name could be captured by a nested type. */
function fieldType(f: FieldDescriptorProto, _scope: string): string {
  return SCALAR_NAMES[f.type] ?? f.typeName;
}

function jsonName(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function defaultLiteral(f: FieldDescriptorProto): string {
  if (f.type === FieldDescriptorProto_Type.STRING || f.type === FieldDescriptorProto_Type.BYTES) return JSON.stringify(f.defaultValue);
  return f.defaultValue!;
}

/** `option x = v;` lines for a message/enum/file/service/oneof options message. */
function optionLines(options: Message | undefined, registry: Registry, indent: string): string[] {
  return inlineOptions(options, registry).map((o) => indentBlock(`option ${o};`, indent));
}

/** Each set option as `name = value`: standard fields by name, extensions as `(full.name)`. */
function inlineOptions(options: Message | undefined, registry: Registry): string[] {
  if (!options) return [];
  const r = reflect(registryMessage(registry, options.$typeName), options as never);
  const out: string[] = [];
  for (const field of r.fields) {
    if (!r.isSet(field)) continue;
    if (field.fieldKind === "list") for (const item of r.get(field) as Iterable<unknown>) out.push(`${field.name} = ${valueText(field, item, registry, "")}`);
    else out.push(`${field.name} = ${valueText(field, r.get(field), registry, "")}`);
  }
  for (const ext of extensionsOf(options, registry)) {
    const value = getExtension(options, ext);
    if (ext.fieldKind === "list") for (const item of value as unknown[]) out.push(`(${ext.typeName}) = ${extensionValue(ext, item, registry)}`);
    else out.push(`(${ext.typeName}) = ${extensionValue(ext, value, registry)}`);
  }
  return out;
}

function registryMessage(registry: Registry, typeName: string): DescMessage {
  const desc = registry.getMessage(typeName);
  if (!desc) throw new Error(`print-proto: ${typeName} is not in the registry`);
  return desc;
}

/** The extensions set in `options`, in field-number order, each once. */
function extensionsOf(options: Message, registry: Registry): DescExtension[] {
  const numbers = [...new Set((options.$unknown ?? []).map((u) => u.no))].sort((a, b) => a - b);
  return numbers.map((no) => {
    const ext = registry.getExtensionFor(registryMessage(registry, options.$typeName), no);
    if (!ext || !hasExtension(options, ext)) throw new Error(`print-proto: no extension ${no} of ${options.$typeName} in the registry`);
    return ext;
  });
}

function extensionValue(ext: DescExtension, value: unknown, registry: Registry): string {
  if (ext.message) return messageText(reflect(ext.message, value as never), registry, "");
  if (ext.enum) return ext.enum.values.find((v) => v.number === value)?.name ?? String(value);
  return scalarText(ext.scalar!, value);
}

function valueText(field: DescField, value: unknown, registry: Registry, indent: string): string {
  if (field.message) return messageText(value as ReflectMessage, registry, indent);
  if (field.enum) return field.enum.values.find((v) => v.number === value)?.name ?? String(value);
  return scalarText(field.scalar!, value);
}

/** A message value in the text format protoc reads in options: `{ a: 1 b: "x" }`, one field a line. */
function messageText(r: ReflectMessage, registry: Registry, indent: string): string {
  const inner = indent + "  ";
  const lines: string[] = [];
  for (const field of r.fields) {
    if (!r.isSet(field)) continue;
    if (field.fieldKind === "list") {
      for (const item of r.get(field) as Iterable<unknown>) lines.push(`${inner}${field.name}: ${valueText(field, item, registry, inner)}`);
    } else if (field.fieldKind === "map") {
      throw new Error("print-proto: map values in options are not supported");
    } else {
      lines.push(`${inner}${field.name}: ${valueText(field, r.get(field), registry, inner)}`);
    }
  }
  if (!lines.length) return "{}";
  return `{\n${lines.join("\n")}\n${indent}}`;
}

function scalarText(type: ScalarType, value: unknown): string {
  switch (type) {
    case ScalarType.STRING:
      return quote(new TextEncoder().encode(value as string));
    case ScalarType.BYTES:
      return quote(value as Uint8Array);
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE: {
      const n = value as number;
      if (Number.isNaN(n)) return "nan";
      if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf";
      return String(n);
    }
    default:
      return String(value);
  }
}

/** A protobuf string literal: printable ASCII as is, everything else as octal escapes of its UTF-8 bytes. */
function quote(bytes: Uint8Array): string {
  let s = '"';
  for (const b of bytes) {
    if (b === 0x22) s += '\\"';
    else if (b === 0x5c) s += "\\\\";
    else if (b === 0x0a) s += "\\n";
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += "\\" + b.toString(8).padStart(3, "0");
  }
  return s + '"';
}

function indentBlock(text: string, indent: string): string {
  return text
    .split("\n")
    .map((line) => indent + line)
    .join("\n");
}
