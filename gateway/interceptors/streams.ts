/**
 * Wraps a message stream: `onError` may replace an error thrown while iterating,
 * `onEnd` runs exactly once however the stream ends (done, error, or the consumer
 * stopping early), with the error if there was one; when it returns a promise, the stream's end (its last
 * `next`, or `return`) waits for it, and its rejection is what the consumer gets.
 *
 * A plain iterator rather than an async generator: every audio frame of a live stream passes
 * through one of these per interceptor, and a generator costs several promises and microtask
 * turns per message where this costs one `then`.
 */
export function mapStream<T>(
  source: AsyncIterable<T>,
  hooks: { onError?: (err: unknown) => unknown; onEnd?: (err?: unknown) => unknown; each?: (message: T) => void },
): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const inner = source[Symbol.asyncIterator]();
      let ended = false;
      const end = (err?: unknown): Promise<unknown> | undefined => {
        if (ended) return;
        ended = true;
        const ending = hooks.onEnd?.(err);
        return ending instanceof Promise ? ending : undefined;
      };
      const fail = (err: unknown): never | Promise<never> => {
        if (ended) throw err;
        const failure = hooks.onError ? hooks.onError(err) : err;
        const ending = end(failure);
        if (ending) {
          return ending.then(() => {
            throw failure;
          });
        }
        throw failure;
      };
      return {
        next(): Promise<IteratorResult<T>> {
          if (ended) return Promise.resolve({ done: true, value: undefined });
          return inner.next().then((result) => {
            if (result.done) {
              const ending = end();
              return ending ? ending.then(() => result) : result;
            }
            try {
              hooks.each?.(result.value);
            } catch (err) {
              // As a `for await` would: the source is closed when the loop body throws.
              // swallowed: closing the source after the loop body threw; the body's error is what the caller gets.
              void inner.return?.()?.catch(() => undefined);
              return fail(err);
            }
            return result;
          }, fail);
        },
        async return(value?: unknown): Promise<IteratorResult<T>> {
          if (!ended) {
            try {
              await inner.return?.();
            } finally {
              await end();
            }
          }
          return { done: true, value: value as T };
        },
      };
    },
  };
}
