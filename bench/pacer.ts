// How late the arrival-rate pacer starts iterations at a given rate, and whether every planned
// start is accounted for: the engine (constant-arrival-rate, one GET per iteration) against the
// bench HAProxy, in a process of its own pinned to one core.
//
//   node_modules/.bin/node bench/pacer.ts [--rate 2000] [--seconds 10] [--rounds 3] [--vus 200]
//
// Lateness is the monitor's figure (actual start − intended start, p99 of every start), the same
// one that flags a saturated generator. Goal: p99 ≤ 5 ms at 2,000 starts/s. Results:
// bench/results/pacer.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastJsonLine, runAccounted } from './lib/child.ts';
import { fmt, goalLine, median } from './lib/stats.ts';
import { canPin, startBenchTarget } from './lib/target.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

function flag(name: string, def: number, min: number, max: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  return Number.isFinite(v) ? Math.min(Math.max(v, min), max) : def;
}
const RATE = flag('rate', 2000, 1, 100_000);
const SECONDS = flag('seconds', 10, 1, 120);
const ROUNDS = flag('rounds', 3, 1, 10);
const VUS = flag('vus', 200, 1, 10_000);
const GOAL_P99_MS = 5;

interface PacerRun {
  round: number;
  planned: number | null;
  started: number | null;
  dropped: number | null;
  accounted: boolean;
  pacerLagP99Ms: number | null;
  pacerLagMaxMs: number | null;
  eventLoopP99Ms: number | null;
  cpuSeconds: number;
  generatorCoreShare: number;
  otherLoadCores: number | null;
  p99Ms: number | null;
  errors: number;
}

const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

async function main(): Promise<void> {
  const pin = canPin();
  const target = await startBenchTarget({ core: pin ? 1 : null, maxconn: VUS * 2 + 100 });
  const runs: PacerRun[] = [];
  try {
    console.log(
      `pacer bench: ${RATE} starts/s for ${SECONDS} s on up to ${VUS} VUs, ${ROUNDS} rounds; generator ${pin ? 'on core 0' : 'not pinned'}, ` +
        `HAProxy ${target.core === null ? 'not pinned' : `on core ${target.core}`}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    );
    for (let round = 1; round <= ROUNDS; round++) {
      const child = await runAccounted([process.execPath, path.join(here, 'gen', 'engine.ts'), target.url, String(VUS), String(SECONDS), String(RATE)], {
        core: pin ? 0 : null,
        timeoutMs: (SECONDS * 2 + 30) * 1000,
        targetPid: target.pid,
      });
      const j = lastJsonLine(child.stdout);
      const planned = numOrNull(j.planned);
      const started = numOrNull(j.started);
      const dropped = numOrNull(j.dropped);
      const cpuSeconds = Number(j.cpuSeconds);
      const r: PacerRun = {
        round,
        planned,
        started,
        dropped,
        accounted: planned !== null && started !== null && dropped !== null && started + dropped === planned,
        pacerLagP99Ms: numOrNull(j.pacerLagP99Ms),
        pacerLagMaxMs: numOrNull(j.pacerLagMaxMs),
        eventLoopP99Ms: numOrNull(j.eventLoopP99Ms),
        cpuSeconds,
        generatorCoreShare: cpuSeconds / Number(j.wallSeconds),
        otherLoadCores: child.otherLoadCores,
        p99Ms: numOrNull(j.p99Ms),
        errors: Number(j.errors),
      };
      runs.push(r);
      console.log(
        `  round ${round}: pacer late p99 ${fmt(r.pacerLagP99Ms, 1)} ms, max ${fmt(r.pacerLagMaxMs, 1)} ms; event-loop p99 ${fmt(r.eventLoopP99Ms, 1)} ms; ` +
          `planned ${fmt(planned)} = started ${fmt(started)} + dropped ${fmt(dropped)} ${r.accounted ? '(closes)' : '(DOES NOT CLOSE)'}; ` +
          `cpu ${fmt(cpuSeconds, 2)} s (core ${fmt(r.generatorCoreShare, 2)}); others ${fmt(r.otherLoadCores, 2)} cores; request p99 ${fmt(r.p99Ms, 2)} ms` +
          (r.errors > 0 ? `; ERRORS ${r.errors}` : ''),
      );
    }
  } finally {
    await target.stop();
  }
  const p99 = median(runs.map((r) => r.pacerLagP99Ms ?? Number.NaN));
  const goals = [goalLine(`pacer lateness p99 at ${RATE} starts/s (median of ${ROUNDS} rounds)`, p99, '<=', GOAL_P99_MS, ' ms')];
  const closes = runs.every((r) => r.accounted);
  console.log('');
  for (const g of goals) console.log(g.line);
  console.log(`${closes ? 'PASS   ' : 'FAIL   '}  every planned start started or dropped, in every round`);
  const out = {
    bench: 'pacer',
    at: new Date().toISOString(),
    node: process.version,
    cpus: os.availableParallelism(),
    loadAverageAtStart: os.loadavg(),
    rate: RATE,
    secondsPerRun: SECONDS,
    vus: VUS,
    pinned: pin,
    medianPacerLagP99Ms: p99,
    goals: [...goals.map(({ line: _line, ...g }) => g), { name: 'accounting closes in every round', verdict: closes ? 'PASS' : 'FAIL' }],
    runs,
  };
  const file = path.join(here, 'results', 'pacer.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
