// A run's events through @grafana/faro-core: one isolated Faro instance per run (app name, a
// session whose id is the run id), its events, measurements and logs API, and two transports —
// always events.ndjson in the run folder, and a Faro receiver when one is named. Emitting never
// throws and never waits: the run's outcome does not depend on its telemetry.
import path from 'node:path';
import {
  defaultUnpatchedConsole,
  initializeFaro,
  InternalLoggerLevel,
  LogLevel,
  type Config,
  type EventAttributes,
  type Faro,
  type Transport,
} from '@grafana/faro-core';
import { EVENTS_FILE } from './ndjson.ts';
import { NdjsonTransport, ReceiverTransport, type ReceiverOptions, type ReceiverStats } from './transports.ts';

/** Event names: the lifecycle of a run as dashboards and the timeline read it. */
export const RUN_EVENTS = ['run_start', 'run_end', 'scenario_start', 'scenario_end', 'drill_start', 'drill_end', 'drill_phase', 'fault_injected', 'fault_rolled_back', 'canary_step', 'verdict'] as const;
export type RunEventName = (typeof RUN_EVENTS)[number];
export const EVENT_DOMAIN = 'clawstorm';

export interface RunEventsOptions {
  runId: string;
  outDir: string;
  app?: string;
  appVersion?: string;
  receiver?: ReceiverOptions;
  /** Attributes every event carries (profile, target). */
  attributes?: Record<string, string>;
}

export interface RunEventsSummary {
  file: string;
  written: number;
  fileError: string | null;
  receiver: ReceiverStats | null;
}

const str = (attrs: Record<string, string | number | boolean | null | undefined>): EventAttributes =>
  Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => [k, String(v)]));

export class RunEvents {
  readonly file: string;
  private readonly faro: Faro;
  private readonly ndjson: NdjsonTransport;
  private readonly receiver: ReceiverTransport | null;
  private readonly common: Record<string, string>;

  constructor(o: RunEventsOptions) {
    this.file = path.join(o.outDir, EVENTS_FILE);
    this.ndjson = new NdjsonTransport(this.file);
    this.receiver = o.receiver ? new ReceiverTransport(o.receiver) : null;
    this.common = { runId: o.runId, ...(o.attributes ?? {}) };
    const transports: Transport[] = [this.ndjson, ...(this.receiver ? [this.receiver] : [])];
    const config: Config = {
      app: { name: o.app ?? 'clawstorm', ...(o.appVersion ? { version: o.appVersion } : {}) },
      // No batching inside faro-core: the file is written at once, the receiver batches itself.
      batching: { enabled: false },
      dedupe: false,
      globalObjectKey: `clawstorm-faro-${o.runId}`,
      instrumentations: [],
      internalLoggerLevel: InternalLoggerLevel.OFF,
      isolate: true,
      metas: [],
      parseStacktrace: () => ({ frames: [] }),
      paused: false,
      preventGlobalExposure: true,
      transports,
      unpatchedConsole: defaultUnpatchedConsole,
      sessionTracking: { enabled: true, session: { id: o.runId, attributes: { runId: o.runId } } },
    };
    this.faro = initializeFaro(config);
  }

  /** A lifecycle event; `at` backdates it (a drill's timeline, read after the drill). */
  event(name: RunEventName, attrs: Record<string, string | number | boolean | null | undefined> = {}, at?: Date): void {
    try {
      this.faro.api.pushEvent(name, str({ ...this.common, ...attrs }), EVENT_DOMAIN, { skipDedupe: true, ...(at ? { timestampOverwriteMs: at.getTime() } : {}) });
    } catch {
      /* telemetry never fails the run */
    }
  }

  /** Figures of one window (a scenario's second or ten), at the window's end. */
  measurement(type: string, values: Record<string, number | null>, context: Record<string, string>, at?: Date): void {
    const finite = Object.fromEntries(Object.entries(values).filter((e): e is [string, number] => e[1] !== null && Number.isFinite(e[1])));
    if (Object.keys(finite).length === 0) return;
    try {
      this.faro.api.pushMeasurement({ type, values: finite }, { skipDedupe: true, context: { ...this.common, ...context }, ...(at ? { timestampOverwriteMs: at.getTime() } : {}) });
    } catch {
      /* telemetry never fails the run */
    }
  }

  log(message: string, level: 'info' | 'warn' | 'error' = 'info', context: Record<string, string> = {}): void {
    try {
      this.faro.api.pushLog([message], { skipDedupe: true, level: level === 'warn' ? LogLevel.WARN : level === 'error' ? LogLevel.ERROR : LogLevel.INFO, context: { ...this.common, ...context } });
    } catch {
      /* telemetry never fails the run */
    }
  }

  /** Flush the receiver (bounded wait) and say what went where. */
  async close(deadlineMs = 3000): Promise<RunEventsSummary> {
    const receiver = this.receiver ? await this.receiver.close(deadlineMs) : null;
    return { file: this.file, written: this.ndjson.written, fileError: this.ndjson.failed, receiver };
  }
}
