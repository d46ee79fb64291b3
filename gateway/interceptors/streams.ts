/**
 * Wraps a message stream: `onError` may replace an error thrown while iterating,
 * `onEnd` runs exactly once however the stream ends (done, error, or the consumer
 * stopping early), with the error if there was one.
 */
export function mapStream<T>(
  source: AsyncIterable<T>,
  hooks: { onError?: (err: unknown) => unknown; onEnd?: (err?: unknown) => void; each?: (message: T) => void },
): AsyncIterable<T> {
  return {
    async *[Symbol.asyncIterator]() {
      let failure: unknown;
      try {
        for await (const message of source) {
          hooks.each?.(message);
          yield message;
        }
      } catch (err) {
        failure = hooks.onError ? hooks.onError(err) : err;
        throw failure;
      } finally {
        hooks.onEnd?.(failure);
      }
    },
  };
}
