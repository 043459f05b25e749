// An acknowledged webhook delivery as the harness saw it: the key, the run it was answered with,
// which gateway and process answered and when — the first delivery or a redelivery (which
// schedule sent it, which way it was aimed). Both the storm and the drills' load keep these; the
// accounting looks their runs up, the duplicate classes compare their processes.
import type { Aim } from './aims.ts';
import type { KeyAnswer } from './duplicates.ts';
import type { ProcessOf } from './processes.ts';

export interface Acked {
  key: string;
  runId: string;
  /** The gateway that answered: aimed at directly, or named by the load balancer (`X-Served-By`, mapped to the gateway's name). */
  gateway?: string;
  /** The gateway's own name for the answering process (`X-Gateway-Instance`), where it sends one. */
  instance?: string;
  /** When the acknowledged request went out, and when its answer came back. */
  sentAt: number;
  at: number;
  /** Set for a redelivery: the schedule that sent it and where it was aimed. */
  redelivery?: { schedule: string; aim: Aim };
}

/** The acknowledgements with their answering processes, for classifyDuplicates(). */
export function keyAnswers(acks: readonly Acked[], processOf: ProcessOf): KeyAnswer[] {
  return acks.map((a) => ({
    key: a.key,
    runId: a.runId,
    process: processOf({ ...(a.gateway !== undefined ? { gateway: a.gateway } : {}), ...(a.instance !== undefined ? { instance: a.instance } : {}), sentAt: a.sentAt }),
    sentAt: a.sentAt,
    at: a.at,
    redelivery: a.redelivery !== undefined,
  }));
}

/**
 * First deliveries `gateway` acknowledged before `t`: the keys an after-heal redelivery sends
 * again. Where no acknowledgement says which gateway answered, every first delivery before `t`.
 */
export function acknowledgedBefore(acks: readonly Acked[], gateway: string, t: number): Acked[] {
  const firsts = acks.filter((a) => a.redelivery === undefined && a.at < t);
  return firsts.every((a) => a.gateway === undefined) ? firsts : firsts.filter((a) => a.gateway === gateway);
}
