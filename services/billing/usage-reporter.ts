// Billed audio to Stripe's meter, each usage record exactly once. A run first claims, per organisation with
// a subscription, the records no report holds yet into a new report (one transaction: the records'
// unique key in billing_reported_usage means two reporters at once claim each record once), then sends
// every report not yet sent, with the report's id as the meter event's identifier and idempotency key:
// a report sent but not marked (a crash between the two) is sent again and Stripe drops the repeat.
import type { Database } from "../platform/database/database.js";
import type { Logger } from "../platform/logger.js";
import { UsageReport } from "./usage-report.entity.js";
import type { PaymentProcessor } from "./payments.js";

/** Stripe takes meter events of the last 35 days; older usage is left out rather than refused again and again. */
const METER_WINDOW_MS = 30 * 86_400_000;

export interface ReportRun {
  /** Reports made this run. */
  claimed: number;
  /** Reports sent this run (new ones and ones left unsent before). */
  sent: number;
  /** Reports whose sending failed; they are sent on a later run. */
  failed: number;
}

export class UsageReporter {
  constructor(
    private readonly database: Database,
    private readonly payments: PaymentProcessor,
    private readonly logger: Logger,
  ) {}

  async run(now: Date = new Date()): Promise<ReportRun> {
    const claimed = await this.claim(now);
    const { sent, failed } = await this.send();
    return { claimed, sent, failed };
  }

  /** One report per subscribed organisation with unreported usage. */
  private async claim(now: Date): Promise<number> {
    const accounts = await this.database.fork().getConnection().execute<Array<{ organization_id: string; stripe_customer_id: string; metered_since: Date }>>(
      `select organization_id, stripe_customer_id, metered_since from billing_accounts where stripe_customer_id is not null and metered_since is not null`,
    );
    let claimed = 0;
    for (const account of accounts) {
      const since = new Date(Math.max(new Date(account.metered_since).getTime(), now.getTime() - METER_WINDOW_MS));
      const made = await this.database.fork().transactional(async (em) => {
        const report = em.create(UsageReport, { organization: account.organization_id, stripeCustomerId: account.stripe_customer_id, seconds: 0, usageUntil: now });
        await em.flush();
        await em.execute(
          `insert into billing_reported_usage (usage_record_id, report_id)
           select u.id, ? from usage_records u
            where u.organization_id = ? and u.recorded_at >= ? and u.recorded_at <= ? and u.seconds > 0
              and not exists (select 1 from billing_reported_usage r where r.usage_record_id = u.id)
           on conflict do nothing`,
          [report.id, account.organization_id, since, now],
        );
        const [sum] = await em.execute<Array<{ seconds: string | null; until: Date | null }>>(
          `select sum(u.seconds) as seconds, max(u.recorded_at) as until from billing_reported_usage r join usage_records u on u.id = r.usage_record_id where r.report_id = ?`,
          [report.id],
        );
        if (!sum?.seconds) {
          em.remove(report);
          await em.flush();
          return false;
        }
        report.seconds = Math.ceil(Number(sum.seconds));
        report.usageUntil = new Date(sum.until!);
        await em.flush();
        return true;
      });
      if (made) claimed++;
    }
    return claimed;
  }

  private async send(): Promise<{ sent: number; failed: number }> {
    const pending = await this.database.fork().find(UsageReport, { sentAt: null }, { orderBy: { createdAt: "asc" }, limit: 1000 });
    let sent = 0;
    let failed = 0;
    for (const report of pending) {
      try {
        await this.payments.reportUsage({ identifier: report.id, customerId: report.stripeCustomerId, seconds: report.seconds, at: report.usageUntil });
        await this.database.fork().nativeUpdate(UsageReport, { id: report.id }, { sentAt: new Date(), attempts: report.attempts + 1 });
        sent++;
      } catch (err) {
        failed++;
        await this.database.fork().nativeUpdate(UsageReport, { id: report.id }, { attempts: report.attempts + 1 });
        this.logger.warn({ err, usageReportId: report.id, organizationId: report.organization.id }, "usage report to Stripe failed; sent again on the next run");
      }
    }
    return { sent, failed };
  }
}
