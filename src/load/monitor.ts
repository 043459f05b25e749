import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';
import { z } from 'zod';
import os from 'node:os';
import { LatencyHistogram } from './histogram.ts';
import { hostBusyBetween, readHostTicks, type HostTicks } from './host-cpu.ts';

// A result measured by an overloaded client is not a result: these decide when to say so.
export const monitorThresholdsSchema = z
  .object({
    /** Event-loop delay p99 over the run above this → saturated. */
    eventLoopP99Ms: z.number().positive().default(50),
    /** Any single event-loop stall above this → saturated (every latency in flight was inflated by it). */
    eventLoopMaxMs: z.number().positive().default(1_000),
    /** Process CPU, % of one core (Node runs the engine on one thread). */
    cpuPct: z.number().positive().default(90),
    /** … sustained for this many consecutive seconds. */
    cpuSustainedS: z.number().int().positive().default(10),
    /** Arrival-rate pacer: p99 lateness of starts above this → saturated. */
    pacerLagP99Ms: z.number().positive().default(50),
    /** Sampling resolution of the event-loop delay monitor. */
    resolutionMs: z.number().int().min(1).max(1000).default(10),
  })
  .strict();

export type MonitorThresholds = z.output<typeof monitorThresholdsSchema>;

export interface MonitorVerdict {
  saturated: boolean;
  reasons: string[];
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  /** Mean process CPU over the watched time, % of one core. */
  cpuPct: number;
  /** Highest one-second CPU reading, % of one core. */
  cpuPctMax: number;
  /** Whole host's busy CPU over the watched time, % of all its cores; null where it cannot be read. */
  hostCpuPct: number | null;
  /** This process's CPU as a share of the host's busy CPU, %: what the generator took from the machine. */
  generatorHostSharePct: number | null;
  /** Host CPU time stolen by a hypervisor, % of all cores; null where it cannot be read. */
  hostStealPct: number | null;
  /** p99 lateness of arrival-rate starts (null when no pacer ran). */
  pacerLagP99Ms: number | null;
  pacerLagMaxMs: number | null;
  watchedMs: number;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

/** Watches the load generator itself: event-loop delay, CPU, and pacer lateness. */
export class GeneratorMonitor {
  readonly thresholds: MonitorThresholds;
  private eld: ELDHistogram | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly pacerLag = new LatencyHistogram({ significantDigits: 2 });
  private startWall = 0;
  private startCpu: NodeJS.CpuUsage = { user: 0, system: 0 };
  private startHost: HostTicks | undefined;
  private lastWall = 0;
  private lastCpu: NodeJS.CpuUsage = { user: 0, system: 0 };
  private cpuMax = 0;
  private cpuRun = 0;
  private cpuRunMax = 0;
  private stopped: MonitorVerdict | undefined;

  constructor(thresholds: Partial<z.input<typeof monitorThresholdsSchema>> = {}) {
    this.thresholds = monitorThresholdsSchema.parse(thresholds);
  }

  start(): void {
    if (this.eld !== undefined) return;
    this.eld = monitorEventLoopDelay({ resolution: this.thresholds.resolutionMs });
    this.eld.enable();
    this.startWall = this.lastWall = performance.now();
    this.startCpu = this.lastCpu = process.cpuUsage();
    this.startHost = readHostTicks();
    this.timer = setInterval(() => this.sampleCpu(), 1_000);
    this.timer.unref();
  }

  /** Lateness of one arrival-rate start against its intended time. */
  notePacerLag(lagMs: number): void {
    this.pacerLag.recordMs(Math.max(0, lagMs));
  }

  private sampleCpu(minWallMs = 0): void {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const wallUs = (now - this.lastWall) * 1000;
    // A sliver of a second at the end says nothing about sustained load.
    if (wallUs <= 0 || wallUs < minWallMs * 1000) return;
    const pct = (100 * (cpu.user - this.lastCpu.user + cpu.system - this.lastCpu.system)) / wallUs;
    this.lastWall = now;
    this.lastCpu = cpu;
    if (pct > this.cpuMax) this.cpuMax = pct;
    this.cpuRun = pct > this.thresholds.cpuPct ? this.cpuRun + 1 : 0;
    if (this.cpuRun > this.cpuRunMax) this.cpuRunMax = this.cpuRun;
  }

  /** The verdict so far (or the final one after stop()). */
  verdict(): MonitorVerdict {
    if (this.stopped !== undefined) return this.stopped;
    const th = this.thresholds;
    const eld = this.eld;
    // The histogram is in ns and counts scheduling delay beyond the resolution timer.
    const p99 = eld !== undefined && eld.count > 0 ? eld.percentile(99) / 1e6 : 0;
    const max = eld !== undefined && eld.count > 0 ? eld.max / 1e6 : 0;
    const now = performance.now();
    const cpu = process.cpuUsage();
    const wallUs = (now - this.startWall) * 1000;
    const cpuUs = cpu.user - this.startCpu.user + cpu.system - this.startCpu.system;
    const cpuPct = wallUs > 0 ? (100 * cpuUs) / wallUs : 0;
    const hostNow = this.startHost === undefined ? undefined : readHostTicks();
    const host = this.startHost === undefined || hostNow === undefined ? undefined : hostBusyBetween(this.startHost, hostNow, wallUs / 1e6, os.availableParallelism());
    const lagP99 = this.pacerLag.count > 0 ? this.pacerLag.percentileMs(99) : null;
    const lagMax = this.pacerLag.count > 0 ? this.pacerLag.maxMs : null;

    const reasons: string[] = [];
    if (p99 > th.eventLoopP99Ms) reasons.push(`event-loop delay p99 ${r1(p99)} ms > ${th.eventLoopP99Ms} ms`);
    if (max > th.eventLoopMaxMs) reasons.push(`event loop stalled for ${r1(max)} ms (> ${th.eventLoopMaxMs} ms)`);
    if (this.cpuRunMax >= th.cpuSustainedS) {
      reasons.push(`process CPU above ${th.cpuPct}% of one core for ${this.cpuRunMax} s in a row (limit ${th.cpuSustainedS} s)`);
    }
    if (lagP99 !== null && lagP99 > th.pacerLagP99Ms) reasons.push(`arrival-rate pacer late by ${r1(lagP99)} ms at p99 (> ${th.pacerLagP99Ms} ms)`);
    return {
      saturated: reasons.length > 0,
      reasons,
      eventLoopP99Ms: r1(p99),
      eventLoopMaxMs: r1(max),
      cpuPct: r1(cpuPct),
      cpuPctMax: r1(this.cpuMax),
      hostCpuPct: host === undefined ? null : r1(100 * host.busyFraction),
      hostStealPct: host === undefined ? null : r1(100 * host.stealFraction),
      generatorHostSharePct: host === undefined || host.busyCpuSeconds <= 0 ? null : r1(Math.min(100, (100 * cpuUs) / 1e6 / host.busyCpuSeconds)),
      pacerLagP99Ms: lagP99 === null ? null : r1(lagP99),
      pacerLagMaxMs: lagMax === null ? null : r1(lagMax),
      watchedMs: Math.round(now - this.startWall),
    };
  }

  stop(): MonitorVerdict {
    if (this.stopped !== undefined) return this.stopped;
    if (this.eld === undefined) this.start();
    this.sampleCpu(500);
    const v = this.verdict();
    clearInterval(this.timer);
    this.eld?.disable();
    this.stopped = v;
    return v;
  }
}
