// Sends mail off the request path: a request that triggers an email answers at once, whether or not
// the mail server is slow, so timing reveals nothing about which addresses have accounts. Failures
// are logged; `idle()` lets shutdown wait for messages still going out.
import type { Logger } from "pino";
import type { Mailer, MailMessage } from "./mailer.js";

export class MailQueue {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly mailer: Mailer,
    private readonly logger?: Logger,
  ) {}

  enqueue(message: MailMessage, purpose: string): void {
    const sending = this.mailer.send(message).catch((err: unknown) => {
      this.logger?.error({ err, purpose }, "sending mail failed");
    });
    this.pending.add(sending);
    void sending.finally(() => this.pending.delete(sending));
  }

  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  async close(): Promise<void> {
    await this.idle();
    this.mailer.close();
  }
}
