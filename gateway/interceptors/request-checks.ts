// The checks every request message passes before any handler sees it, in one layer: its protovalidate rules
// (validation.ts), then the contract's word on its fields (field-policy.ts). Client and bidi streams are
// checked message by message as they arrive, through one wrapper, not one per check. A stream's bulk
// messages (a chosen bytes member of a oneof and nothing else: live audio) take the shortcut of
// payload-fast-path.ts when both checks would let them through whatever their bytes (a length within the
// field's maximum, a field the table applies for the RPC); every other message gets both checks in full.
import type { DescMessage, DescMethod, Message } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { requestFields } from "../../services/app/contract/request-fields.js";
import { isContractMessage, type FieldEntry, type RpcName } from "../../services/app/contract/fields.js";
import { mapStream } from "./streams.js";
import { messageValidator, type MessageValidator } from "./validation.js";
import { appliedLeaf, checkFieldPolicy } from "./field-policy.js";
import { payloadFastPath, takenByFastPath, type PayloadFastPath } from "./payload-fast-path.js";

export interface RequestChecksOptions {
  /** Check protovalidate rules. */
  validate: boolean;
  /** The field table to keep, or false for none. */
  fieldPolicy: Readonly<Record<string, FieldEntry>> | false;
}

/** What one method's request messages go through, worked out on its first call. */
interface Plan {
  rpc: RpcName;
  input: DescMessage;
  /** grpc.health.v1 and anything else outside the contracts has no entries to keep. */
  policy: boolean;
  fast: PayloadFastPath | undefined;
}

export function requestChecksInterceptor(options: RequestChecksOptions = { validate: true, fieldPolicy: requestFields }): Interceptor {
  const validate: MessageValidator | undefined = options.validate ? messageValidator() : undefined;
  const table = options.fieldPolicy || undefined;
  const plans = new WeakMap<DescMethod, Plan>();
  const planOf = (service: { typeName: string }, method: DescMethod): Plan => {
    let plan = plans.get(method);
    if (!plan) {
      const rpc: RpcName = `${service.typeName}/${method.name}`;
      const input = method.input;
      const policy = table !== undefined && isContractMessage(input);
      plan = { rpc, input, policy, fast: fastPathOf(input, rpc, policy ? table : undefined) };
      plans.set(method, plan);
    }
    return plan;
  };
  const check = (plan: Plan, message: Message, index?: number) => {
    if (plan.fast && takenByFastPath(plan.fast, message) !== undefined) return;
    validate?.(plan.input, message, index);
    if (plan.policy) checkFieldPolicy(table!, plan.rpc, plan.input, message);
  };
  return (next) => async (req) => {
    const plan = planOf(req.service, req.method);
    if (!req.stream) {
      check(plan, req.message as Message);
      return next(req);
    }
    if (!validate && !plan.policy) return next(req);
    let index = 0;
    return next({ ...req, message: mapStream(req.message, { each: (message) => check(plan, message as Message, index++) }) });
  };
}

/** The shortcut, kept to the members the field table (when there is one) applies for `rpc` whatever their value. */
function fastPathOf(input: DescMessage, rpc: RpcName, table: Readonly<Record<string, FieldEntry>> | undefined): PayloadFastPath | undefined {
  const fast = payloadFastPath(input);
  if (!fast || !table) return fast;
  const maxBytes = new Map([...fast.maxBytes].filter(([member]) => appliedLeaf(table, rpc, input, member)));
  return maxBytes.size > 0 ? { oneof: fast.oneof, maxBytes } : undefined;
}
