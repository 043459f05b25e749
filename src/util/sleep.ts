// The one abortable sleep, on the performance.now() clock: resolves true when the moment has
// come, false as soon as the signal aborts (so a loop stops at once on Ctrl-C instead of
// finishing its wait).

/** Resolves at performance.now() >= atPerf, or early when signal aborts. Returns false when aborted. */
export function sleepUntil(atPerf: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  if (atPerf - performance.now() <= 0) return Promise.resolve(true);
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
