// The run's stop, fanned out to whatever is in flight under it, with one abort listener per
// signal. Adding a listener to an AbortSignal walks the listeners it already has, so one per
// request (or per WebSocket call, or per session on a shared signal) turns quadratic: 10,000
// sessions on one signal spent a quarter of their CPU in add/removeEventListener.

/** Something in flight that the run's stop must end. */
export interface Stoppable {
  stoppedByRun(): void;
}

/** The items in flight under one signal, and whether it fired (a plain field: cheap to read). */
export interface Watched<T extends Stoppable> {
  stopped: boolean;
  inFlight: Set<T>;
}

export class StopFanout<T extends Stoppable> {
  private readonly bySignal = new WeakMap<AbortSignal, Watched<T>>();

  /** The watch for `signal`, created (with its one listener) the first time it is seen. */
  of(signal: AbortSignal): Watched<T> {
    let w = this.bySignal.get(signal);
    if (w === undefined) {
      const watched: Watched<T> = { stopped: signal.aborted, inFlight: new Set() };
      w = watched;
      this.bySignal.set(signal, watched);
      if (!watched.stopped) {
        signal.addEventListener(
          'abort',
          () => {
            watched.stopped = true;
            const items = [...watched.inFlight];
            watched.inFlight.clear();
            for (const item of items) item.stoppedByRun();
          },
          { once: true },
        );
      }
    }
    return w;
  }
}
