// A request stream's messages as the handler reads them: an async iterator fed synchronously by the
// transport. A message that arrived before the handler asked costs one resolved promise; only a
// handler that waits gets a pending one. Parsing happens when a message is read, as in connect's
// chain, so an undecodable message fails the read that reaches it and not the ones before it.
//
// Bounded: above `highWater` queued messages the transport is paused (HTTP/2 flow control then slows
// the client; nothing is dropped), and resumed once the handler has read the queue down to half.

/** The transport's side of the bound. */
export interface FlowControl {
  pause(): void;
  resume(): void;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

interface Waiter<T> {
  resolve(result: IteratorResult<T>): void;
  reject(err: unknown): void;
}

/** A queued failure: read in its turn, after the messages that came before it. */
class Failure {
  constructor(readonly error: unknown) {}
}

export class InboundMessages<T> implements AsyncIterableIterator<T> {
  private readonly queue: Array<Uint8Array | Failure> = [];
  private readonly waiters: Waiter<T>[] = [];
  /** No more input: the request ended or failed. */
  private finished = false;
  /** Nothing more to read: input finished and the queue is empty, a read failed, or the reader stopped. */
  private closed = false;
  private paused = false;

  constructor(
    private readonly parse: (data: Uint8Array) => T,
    private readonly flow: FlowControl,
    private readonly highWater = 16,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** A message's bytes from the transport. */
  push(data: Uint8Array): void {
    if (this.finished) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.deliver(data, waiter);
      return;
    }
    this.queue.push(data);
    if (!this.paused && this.queue.length >= this.highWater) {
      this.paused = true;
      this.flow.pause();
    }
  }

  /** The request ended: reads end once the queue is read. */
  end(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.queue.length === 0) this.closeWith(DONE);
  }

  /** The request failed: the reader gets `error` after the messages queued before it, then the end. */
  fail(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.close();
      waiter.reject(error);
      this.closeWith(DONE);
      return;
    }
    this.queue.push(new Failure(error));
  }

  next(): Promise<IteratorResult<T>> {
    if (this.closed) return Promise.resolve(DONE);
    const entry = this.queue.shift();
    if (entry === undefined) {
      return new Promise<IteratorResult<T>>((resolve, reject) => this.waiters.push({ resolve, reject }));
    }
    if (this.paused && this.queue.length <= this.highWater >> 1) {
      this.paused = false;
      this.flow.resume();
    }
    if (entry instanceof Failure) {
      this.close();
      return Promise.reject(entry.error);
    }
    try {
      const value = this.parse(entry);
      if (this.finished && this.queue.length === 0) this.close();
      return Promise.resolve({ done: false, value });
    } catch (err) {
      this.close();
      return Promise.reject(err);
    }
  }

  /**
   * The handler stopped reading: what is queued is dropped and the transport resumed, so whatever the
   * client still sends is read and discarded rather than holding its flow-control window shut.
   */
  return(): Promise<IteratorResult<T>> {
    this.closeWith(DONE);
    return Promise.resolve(DONE);
  }

  private deliver(data: Uint8Array, waiter: Waiter<T>): void {
    let value: T;
    try {
      value = this.parse(data);
    } catch (err) {
      this.close();
      waiter.reject(err);
      this.closeWith(DONE);
      return;
    }
    waiter.resolve({ done: false, value });
  }

  private close(): void {
    this.finished = true;
    this.closed = true;
    this.queue.length = 0;
    if (this.paused) {
      this.paused = false;
      this.flow.resume();
    }
  }

  private closeWith(result: IteratorResult<T>): void {
    this.close();
    for (const waiter of this.waiters.splice(0)) waiter.resolve(result);
  }
}
