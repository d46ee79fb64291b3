// A local HTTP server speaking the few Stripe endpoints billing uses (Stripe cannot be reached from tests):
// customers, subscriptions (create, retrieve, update, cancel), invoices (list), billing meter events.
// Like Stripe, it replays the first answer to a repeated Idempotency-Key and refuses a meter event whose
// identifier it has seen. The Stripe client is pointed at it with STRIPE_API_BASE_URL.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

type Json = Record<string, unknown>;

export interface FakeSubscription {
  id: string;
  object: "subscription";
  customer: string;
  status: string;
  start_date: number;
  metadata: Record<string, string>;
  items: { object: "list"; data: Array<{ id: string; object: "subscription_item"; price: { id: string; object: "price" } }> };
}

export interface FakeMeterEvent {
  identifier: string;
  event_name: string;
  timestamp: number;
  payload: Record<string, string>;
}

/** `a[b][0][c]=x` form fields into nested objects (lists stay objects keyed "0", "1", …). */
function decodeForm(body: string): Json {
  const out: Json = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.replace(/\]/g, "").split("[");
    let node = out;
    path.forEach((part, i) => {
      if (i === path.length - 1) node[part] = value;
      else node = (node[part] ??= {}) as Json;
    });
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of req) body += String(chunk);
  return body;
}

export class FakeStripe {
  readonly customers = new Map<string, Json>();
  readonly subscriptions = new Map<string, FakeSubscription>();
  readonly invoices: Json[] = [];
  readonly meterEvents: FakeMeterEvent[] = [];
  /** Every request, as "METHOD /path". */
  readonly requests: string[] = [];
  private readonly idempotent = new Map<string, { status: number; body: Json }>();
  private readonly failures = new Map<string, number>();
  private counter = 0;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeStripe> {
    const server = createServer();
    const fake = new FakeStripe(server);
    server.on("request", (req, res) => {
      void fake.handle(req).then(({ status, body }) => res.writeHead(status, { "Content-Type": "application/json", "Request-Id": `req_${fake.counter}` }).end(JSON.stringify(body)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  /** What STRIPE_API_BASE_URL is set to. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next `times` requests to `path` are refused with a 400 (not retried by the client), recording nothing. */
  failNext(path: string, times = 1): void {
    this.failures.set(path, times);
  }

  /** An invoice of `customer`, as Stripe's invoice object. */
  addInvoice(customer: string, fields: { status: string; amount_due: number; amount_paid: number; created: number; period_start: number; period_end: number }): string {
    const id = this.id("in");
    this.invoices.push({ id, object: "invoice", customer, currency: "usd", number: `INV-${this.counter}`, hosted_invoice_url: `https://invoice.stripe.test/${id}`, ...fields });
    return id;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private id(prefix: string): string {
    return `${prefix}_test${++this.counter}`;
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: Json }> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const body = await readBody(req);
    this.requests.push(`${req.method} ${url.pathname}`);
    const key = req.headers["idempotency-key"];
    const replay = typeof key === "string" ? this.idempotent.get(key) : undefined;
    if (replay) return replay;
    const failures = this.failures.get(url.pathname) ?? 0;
    if (failures > 0) {
      this.failures.set(url.pathname, failures - 1);
      return { status: 400, body: { error: { type: "invalid_request_error", message: "refused by the test" } } };
    }
    const params = req.method === "GET" || req.method === "DELETE" ? decodeForm(url.search.slice(1)) : decodeForm(body);
    const answer = this.route(req.method ?? "GET", url.pathname, params);
    if (typeof key === "string" && answer.status < 500) this.idempotent.set(key, answer);
    return answer;
  }

  private route(method: string, path: string, params: Json): { status: number; body: Json } {
    const notFound = { status: 404, body: { error: { type: "invalid_request_error", message: `no such resource: ${path}` } } };
    const subscriptionId = /^\/v1\/subscriptions\/([^/]+)$/.exec(path)?.[1];
    if (method === "POST" && path === "/v1/customers") {
      const customer = { id: this.id("cus"), object: "customer", name: params.name, metadata: params.metadata ?? {} };
      this.customers.set(customer.id, customer);
      return { status: 200, body: customer };
    }
    if (method === "POST" && path === "/v1/subscriptions") {
      const subscription: FakeSubscription = {
        id: this.id("sub"),
        object: "subscription",
        customer: String(params.customer),
        status: "active",
        start_date: Math.floor(Date.now() / 1000),
        metadata: (params.metadata ?? {}) as Record<string, string>,
        items: { object: "list", data: Object.values((params.items ?? {}) as Record<string, { price: string }>).map((item) => ({ id: this.id("si"), object: "subscription_item", price: { id: item.price, object: "price" } })) },
      };
      this.subscriptions.set(subscription.id, subscription);
      return { status: 200, body: subscription as unknown as Json };
    }
    if (subscriptionId) {
      const subscription = this.subscriptions.get(subscriptionId);
      if (!subscription) return notFound;
      if (method === "POST") {
        for (const item of Object.values((params.items ?? {}) as Record<string, { id?: string; price?: string; deleted?: string }>)) {
          if (item.id && item.deleted === "true") subscription.items.data = subscription.items.data.filter((i) => i.id !== item.id);
          else if (item.price) subscription.items.data.push({ id: this.id("si"), object: "subscription_item", price: { id: item.price, object: "price" } });
        }
        subscription.metadata = { ...subscription.metadata, ...((params.metadata ?? {}) as Record<string, string>) };
      }
      if (method === "DELETE") subscription.status = "canceled";
      return { status: 200, body: subscription as unknown as Json };
    }
    if (method === "GET" && path === "/v1/invoices") {
      const all = this.invoices.filter((i) => i.customer === params.customer).sort((a, b) => Number(b.created) - Number(a.created));
      const start = params.starting_after ? all.findIndex((i) => i.id === params.starting_after) + 1 : 0;
      const limit = Number(params.limit ?? 10);
      const data = all.slice(start, start + limit);
      return { status: 200, body: { object: "list", url: "/v1/invoices", data, has_more: start + limit < all.length } };
    }
    if (method === "POST" && path === "/v1/billing/meter_events") {
      const identifier = String(params.identifier);
      if (this.meterEvents.some((e) => e.identifier === identifier)) {
        return { status: 400, body: { error: { type: "invalid_request_error", message: `an event with identifier ${identifier} already exists` } } };
      }
      const event: FakeMeterEvent = { identifier, event_name: String(params.event_name), timestamp: Number(params.timestamp), payload: params.payload as Record<string, string> };
      this.meterEvents.push(event);
      return { status: 200, body: { object: "billing.meter_event", created: Math.floor(Date.now() / 1000), livemode: false, ...event } };
    }
    return notFound;
  }
}
