// The chaos part of the gate (`clawstorm gate --with-drills`): every drill, then the webhook
// storm, against the gate's own bound target. Chaos must be allowed by the target profile.
import { assertChaosAllowed } from '../target/bind.ts';
import type { TargetProfile } from '../config/profile.ts';
import type { AnyTestbedEndpoints } from '../testbed/types.ts';
import { defaultStormOptions, withStormSize, type StormOptions } from '../storm/options.ts';
import { runStorm } from '../storm/storm.ts';
import type { DrillResult } from '../chaos/engine.ts';
import { runDrills } from '../chaos/run.ts';
import { listDrills, resolveDrill, type OptionValue } from '../chaos/schema.ts';
import { chaosTargetFrom } from '../target/target.ts';
import { drillLine } from '../report/console.ts';

export interface ChaosSuiteOptions {
  /** Drill names or files; default every drill under scenarios/drills. */
  drills?: string[];
  /** Drill option overrides (`mode: 'hang'`), applied to the drills that have them. */
  set?: Record<string, OptionValue>;
  /** Storm settings over the profile's defaults; false: no storm. */
  storm?: Partial<StormOptions> | false;
}

export interface ChaosSuiteInput extends ChaosSuiteOptions {
  bound: { profile: TargetProfile; tokens: Record<string, string>; testbed?: AnyTestbedEndpoints | undefined };
  /** Run profile (smoke, full). */
  profile: string;
  signal: AbortSignal;
  log: (line: string) => void;
}

export async function runChaosSuite(o: ChaosSuiteInput): Promise<DrillResult[]> {
  assertChaosAllowed(o.bound.profile, 'gate --with-drills');
  const target = chaosTargetFrom(o.bound);
  const out: DrillResult[] = [];
  for (const name of o.drills ?? listDrills()) {
    if (o.signal.aborted) break;
    o.log(`${name}: drill starts (${o.profile})`);
    // Overrides go to the drills that declare them; the others ignore them.
    const declared = Object.keys(resolveDrill(name, { profile: o.profile }).options);
    const set = Object.fromEntries(Object.entries(o.set ?? {}).filter(([k]) => declared.includes(k)));
    const r = await runDrills({ drills: [name], profile: o.profile, set, target, signal: o.signal, log: o.log });
    out.push(...r.results);
    for (const d of r.results) o.log(drillLine(d));
  }
  if (o.storm !== false && !o.signal.aborted) {
    o.log('webhook storm starts');
    const s = await runStorm(target, { ...withStormSize(defaultStormOptions(o.profile), target.profile.storm), ...(o.storm ?? {}) }, { signal: o.signal, log: o.log });
    out.push(...s.results);
    for (const d of s.results) o.log(drillLine(d));
  }
  return out;
}
