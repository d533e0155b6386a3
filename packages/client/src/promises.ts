/**
 * Promises that never make an unhandled rejection: their rejections are for whoever awaits them, and
 * a send nobody awaits must not crash the process.
 */

const noop = (): void => {};

/** A promise rejected with `error`. */
export function rejected(error: unknown): Promise<never> {
  const promise = Promise.reject(error);
  promise.catch(noop);
  return promise;
}

/** A promise and the functions that settle it. */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(noop);
  return { promise, resolve, reject };
}
