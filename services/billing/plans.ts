// The plan table (BILLING_PLANS) and the one pricing rule: a monthly fee, audio included, and each
// further minute at the overage price. Billed audio is usage.proto's (whole seconds per job or stream),
// summed over the month and rounded up to the whole minute.
import type { BillingPlan } from "../platform/config/config.js";
import { InvalidArgumentError } from "../platform/errors/errors.js";

export type { BillingPlan };

export class Plans {
  constructor(
    readonly all: readonly BillingPlan[],
    /** The plan of an organisation whose plan is not in the table (renamed away), and after a cancelled subscription. */
    readonly defaultPlan: string,
    readonly currency: string,
  ) {}

  /** The plan by name; an unknown name is INVALID_ARGUMENT on `field`. */
  named(name: string, field = "plan"): BillingPlan {
    const plan = this.all.find((p) => p.name === name);
    if (!plan) throw new InvalidArgumentError(field, `names no plan; the plans are ${this.all.map((p) => p.name).join(", ")}`);
    return plan;
  }

  /** The plan an organisation is on: its own, or the default when its name is no longer in the table. */
  of(name: string): BillingPlan {
    return this.all.find((p) => p.name === name) ?? this.named(this.defaultPlan);
  }
}

/** What a month costs on `plan` with `billedSeconds` of audio, in the currency's minor unit. */
export function monthlyAmount(plan: BillingPlan, billedSeconds: number): number {
  const minutes = Math.ceil(Math.max(0, billedSeconds) / 60);
  return plan.monthlyFeeMinor + Math.max(0, minutes - plan.includedMinutes) * plan.overagePerMinuteMinor;
}
