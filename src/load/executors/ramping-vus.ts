import { z } from 'zod';
import { durationMs } from '../../util/duration.ts';
import { commonFields, MAX_VUS } from './config-schema.ts';
import { ExecutorRun, waitStartTime, type Vu } from './run.ts';
import { sleepUntil } from '../../util/sleep.ts';
import type { ExecutorHooks, ExecutorResult } from './types.ts';

export const vuStageSchema = z
  .object({ duration: durationMs, target: z.number().int().min(0).max(MAX_VUS) })
  .strict();

export const rampingVusSchema = z
  .object({
    executor: z.literal('ramping-vus'),
    startVUs: z.number().int().min(0).max(MAX_VUS).default(1),
    stages: z.array(vuStageSchema).min(1, 'stages needs at least one {duration, target}').max(1_000),
    /** How long a VU being ramped down may finish its current iteration before it is interrupted. */
    gracefulRampDown: durationMs.default(30_000),
    ...commonFields,
  })
  .strict()
  .refine((c) => c.stages.some((s) => s.duration > 0), { message: 'stages must last longer than 0 in total', path: ['stages'] });

export type RampingVusConfig = z.output<typeof rampingVusSchema>;

export interface VuChange {
  /** ms from the start of the scenario */
  atMs: number;
  vus: number;
}

/**
 * The VU count as a step function: over a stage from a to b lasting d, the count reaches a±k at
 * d·k/|b−a| (linear ramp, one VU at a time); a 0-length stage jumps. Also the total length.
 */
export function vuSchedule(startVUs: number, stages: ReadonlyArray<{ duration: number; target: number }>): { changes: VuChange[]; totalMs: number } {
  const changes: VuChange[] = [{ atMs: 0, vus: startVUs }];
  let t = 0;
  let cur = startVUs;
  for (const st of stages) {
    const n = Math.abs(st.target - cur);
    const dir = Math.sign(st.target - cur);
    if (n > 0) {
      if (st.duration === 0) changes.push({ atMs: t, vus: st.target });
      else for (let k = 1; k <= n; k++) changes.push({ atMs: t + (st.duration * k) / n, vus: cur + dir * k });
    }
    cur = st.target;
    t += st.duration;
  }
  return { changes, totalMs: t };
}

/** VU count follows the stages; VUs ramped down finish their iteration (within gracefulRampDown). */
export async function runRampingVus<S>(cfg: RampingVusConfig, hooks: ExecutorHooks<S>): Promise<ExecutorResult> {
  const run = new ExecutorRun<S>(cfg.executor, hooks);
  if (!(await waitStartTime(run as ExecutorRun<unknown>, cfg.startTime))) return run.finish(Promise.resolve());
  const { changes, totalMs } = vuSchedule(cfg.startVUs, cfg.stages);
  run.markStart();
  run.scheduleEnd(totalMs, cfg.gracefulStop);

  const wanted = new Set<number>();
  const running = new Set<number>();
  const rampDownTimers = new Map<number, NodeJS.Timeout>();
  const loops = new Set<Promise<void>>();

  const loop = async (vu: Vu<S>): Promise<void> => {
    running.add(vu.id);
    run.setActiveVus(1);
    try {
      // Set up lazily, on first activation: a ramp starting at 0 must not open 500 sessions at t=0.
      if (!vu.ready && !(await run.setupVu(vu))) return;
      await run.runIterations(vu, () => wanted.has(vu.id) && run.canStart());
    } finally {
      running.delete(vu.id);
      run.setActiveVus(-1);
      const t = rampDownTimers.get(vu.id);
      if (t !== undefined) clearTimeout(t);
      rampDownTimers.delete(vu.id);
    }
    // Reactivated while it was winding down: go again with a fresh signal.
    if (wanted.has(vu.id) && run.canStart()) start(vu);
  };
  const start = (vu: Vu<S>): void => {
    run.rearm(vu);
    const p = loop(vu);
    loops.add(p);
    void p.finally(() => loops.delete(p));
  };

  const setTarget = (n: number): void => {
    for (let id = 1; id <= n; id++) {
      if (wanted.has(id)) continue;
      wanted.add(id);
      const t = rampDownTimers.get(id);
      if (t !== undefined) {
        clearTimeout(t);
        rampDownTimers.delete(id);
      }
      const vu = run.vus.get(id) ?? run.newVu(id, true);
      if (!running.has(id)) start(vu);
    }
    // Highest ids leave first, so the survivors are always 1..n.
    for (const id of [...wanted].filter((i) => i > n)) {
      wanted.delete(id);
      const vu = run.vus.get(id);
      if (vu === undefined || !running.has(id)) continue;
      rampDownTimers.set(
        id,
        setTimeout(() => vu.ctrl?.abort(), cfg.gracefulRampDown),
      );
    }
  };

  const controller = async (): Promise<void> => {
    for (const ch of changes) {
      if (!(await sleepUntil(run.t0 + ch.atMs, run.stopStarting.signal))) break;
      if (!run.canStart()) break;
      setTarget(ch.vus);
    }
    // The schedule is done; wait for the end of the run, then for every VU loop.
    await sleepUntil(run.t0 + totalMs, run.stopStarting.signal);
    while (loops.size > 0) await Promise.allSettled([...loops]);
  };
  const result = await run.finish(controller());
  for (const t of rampDownTimers.values()) clearTimeout(t);
  return result;
}
