// The HAProxy weights of one canary step: the canary carries `percent` of the traffic and the
// stable servers share the rest equally. Weights are percent × 2 (the canary at most 200, inside
// HAProxy's 0–256), so splits over one or two stable servers are exact; others round, and the
// share the weights really give is reported beside the percent asked for.
export const WEIGHT_PER_PERCENT = 2;

export interface StepWeights {
  weights: Record<string, number>;
  /** The canary's share the weights give, 0…100. */
  share: number;
}

export function stepWeights(servers: readonly string[], canary: string, percent: number): StepWeights {
  if (!servers.includes(canary)) throw new RangeError(`canary ${canary} is not one of the load balancer's servers (${servers.join(', ')})`);
  if (!(percent >= 0 && percent <= 100)) throw new RangeError(`canary weight must be within 0–100 % (got ${percent})`);
  const stable = servers.filter((s) => s !== canary);
  if (stable.length === 0 && percent < 100) throw new RangeError('a canary needs at least one stable server to share the traffic with');
  const weights: Record<string, number> = { [canary]: Math.round(percent * WEIGHT_PER_PERCENT) };
  for (const s of stable) weights[s] = Math.round(((100 - percent) * WEIGHT_PER_PERCENT) / stable.length);
  const total = Object.values(weights).reduce((a, w) => a + w, 0);
  return { weights, share: total === 0 ? 0 : (100 * weights[canary]!) / total };
}

/** `10,30,50` → [10, 30, 50]: increasing whole percents within 1–100. */
export function parseSteps(text: string): number[] {
  const steps = text.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (steps.length === 0) throw new RangeError('--steps: expected percents like 10,30,50,70,90,100');
  steps.forEach((p, i) => {
    if (!Number.isInteger(p) || p < 1 || p > 100) throw new RangeError(`--steps: ${p} is not a whole percent within 1–100`);
    if (i > 0 && p <= steps[i - 1]!) throw new RangeError(`--steps: must increase (${steps[i - 1]} then ${p})`);
  });
  return steps;
}
