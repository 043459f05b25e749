// Abortable waits on the performance.now() clock, and a time bound on a promise.

/** Resolves at performance.now() >= atPerf, or early when signal aborts. Returns false when aborted. */
export function sleepUntil(atPerf: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  const ms = atPerf - performance.now();
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout;
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    // libuv computes timer expiry from its cached loop time, so a timer can fire up to ~1 ms
    // early by performance.now(); re-arm until the moment has really come (a pacer must not start early).
    const arm = (): void => {
      const left = atPerf - performance.now();
      if (left <= 0) {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
        return;
      }
      timer = setTimeout(arm, Math.max(1, left));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    arm();
  });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return sleepUntil(performance.now() + ms, signal);
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
