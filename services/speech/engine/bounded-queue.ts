// A bounded FIFO between one producer and one consumer. `push` waits while the queue is full, so a
// slow consumer slows the producer down (backpressure by awaiting) instead of growing memory.
// Nothing pushed is ever dropped: the queue ends only after everything in it has been taken, or
// when it is failed or aborted on purpose.

export class QueueClosedError extends Error {
  constructor() {
    super("the queue is closed");
  }
}

export class BoundedQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private takers: Array<() => void> = [];
  private pushers: Array<() => void> = [];
  private ended = false;
  private failure: unknown;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error("BoundedQueue capacity must be at least 1");
  }

  get size(): number {
    return this.items.length;
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Appends an item, waiting while the queue is full. Rejects once the queue is closed. */
  async push(item: T): Promise<void> {
    while (this.items.length >= this.capacity && !this.ended) {
      await new Promise<void>((resolve) => this.pushers.push(resolve));
    }
    if (this.ended) throw this.failure ?? new QueueClosedError();
    this.items.push(item);
    this.wake("takers");
  }

  /**
   * Appends an item if there is room now, without a promise (the producer's path for every audio
   * frame); false if the queue is full or closed, when `push` is what waits or says why.
   */
  offer(item: T): boolean {
    if (this.ended || this.items.length >= this.capacity) return false;
    this.items.push(item);
    this.wake("takers");
    return true;
  }

  /** The next item, waiting for one; undefined once the queue is closed and empty. */
  async take(): Promise<T | undefined> {
    for (;;) {
      if (this.items.length > 0) {
        const item = this.items.shift() as T;
        this.wake("pushers");
        return item;
      }
      if (this.ended) {
        if (this.failure !== undefined) throw this.failure;
        return undefined;
      }
      await new Promise<void>((resolve) => this.takers.push(resolve));
    }
  }

  /**
   * Undefined when `poll` has its answer now (an item is queued, or the queue has ended); else a
   * promise that resolves when it may. A consumer that loops on `ready` and `poll` costs no promise
   * for an item already queued, and one (not `take`'s two) for an item it waits for.
   */
  ready(): Promise<void> | undefined {
    if (this.items.length > 0 || this.ended) return undefined;
    return new Promise<void>((resolve) => this.takers.push(resolve));
  }

  /** The next item if one is queued; undefined if none. Once the queue has ended empty, throws its failure if it failed. */
  poll(): T | undefined {
    if (this.items.length > 0) {
      const item = this.items.shift() as T;
      this.wake("pushers");
      return item;
    }
    if (this.ended && this.failure !== undefined) throw this.failure;
    return undefined;
  }

  /** The next item if one is queued now and `accept` takes it; never waits. */
  takeIf(accept: (item: T) => boolean): T | undefined {
    if (this.items.length === 0 || !accept(this.items[0] as T)) return undefined;
    const item = this.items.shift() as T;
    this.wake("pushers");
    return item;
  }

  /** No more pushes; the consumer still gets what is queued. */
  close(): void {
    this.ended = true;
    this.wake("takers");
    this.wake("pushers");
  }

  /** Ends the queue with an error: the consumer gets it after the queued items, pushers at once. */
  fail(error: unknown): void {
    if (this.ended && this.failure !== undefined) return;
    this.failure = error;
    this.close();
  }

  /** Drops what is queued and ends the queue at once (the session is gone). */
  abort(error: unknown): void {
    this.items.length = 0;
    this.fail(error);
  }

  private wake(which: "takers" | "pushers"): void {
    const waiting = this[which];
    this[which] = [];
    for (const resolve of waiting) resolve();
  }

  /**
   * The items as an iterator over `take` (not an async generator, which costs several promises
   * per item: outputs of every live stream pass through two of these). One consumer at a time.
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    let stopped = false;
    const step = (item: T | undefined): IteratorResult<T> => {
      if (item !== undefined && !stopped) return { done: false, value: item };
      stopped = true;
      return { done: true, value: undefined };
    };
    return {
      next: () => (stopped ? Promise.resolve(step(undefined)) : this.take().then(step)),
      return: () => {
        stopped = true;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}
