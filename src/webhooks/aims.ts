// Where a redelivery goes. A provider sends to one URL, but which replica its redelivery reaches
// decides which failure it can reveal, so each redelivery is sent, one way after the other:
//   acknowledger  — straight to the gateway that acknowledged the key (not through the load
//                   balancer): did it remember, across its restart if it had one?
//   other-replica — straight to another gateway: is replay state shared across replicas?
//   lb            — through the load balancer, as the provider would.
// Each aim is counted on its own. An aim that cannot be resolved (the acknowledger is unknown
// because the load balancer does not say who answered; no other replica) is not sent, and counted
// as not aimed.
import type { Acked } from './acks.ts';
import { deliver, type Attempt, type CappedPolicy, type Discipline, type SendTarget, type UnboundedPolicy } from './sender.ts';

export type Aim = 'acknowledger' | 'other-replica' | 'lb';
export const AIMS: readonly Aim[] = ['acknowledger', 'other-replica', 'lb'];

export interface AimGateway {
  name: string;
  url: string;
  /** Its server name in the load balancer (`X-Served-By`). */
  server: string;
}

/** The gateway's name for a load balancer server name; undefined when none matches. */
export function gatewayOfServer(gateways: readonly AimGateway[], server: string | undefined): string | undefined {
  if (server === undefined) return undefined;
  return gateways.find((g) => g.server === server)?.name;
}

export interface AimTarget {
  aim: Aim;
  url: string;
  /** The gateway aimed at directly; undefined through the load balancer. */
  gateway?: string;
}

/**
 * Picks the replica an `other-replica` redelivery goes to: round-robin over `pool` (default every
 * gateway), skipping the acknowledger, so the others share the redeliveries evenly.
 */
export function otherReplicaPicker(gateways: readonly AimGateway[], pool?: readonly string[]): (acknowledger: string) => AimGateway | undefined {
  let n = 0;
  const from = pool === undefined ? gateways : gateways.filter((g) => pool.includes(g.name));
  return (acknowledger) => {
    const others = from.filter((g) => g.name !== acknowledger);
    if (others.length === 0) return undefined;
    return others[n++ % others.length];
  };
}

/** Where one redelivery of a key acknowledged by `acknowledger` goes, per aim, and the aims that could not be resolved. */
export function aimTargets(aims: readonly Aim[], acknowledger: string | undefined, lbUrl: string, gateways: readonly AimGateway[], pickOther: (acknowledger: string) => AimGateway | undefined): { targets: AimTarget[]; notAimed: Aim[] } {
  const targets: AimTarget[] = [];
  const notAimed: Aim[] = [];
  for (const aim of aims) {
    if (aim === 'lb') {
      targets.push({ aim, url: lbUrl });
      continue;
    }
    const ack = acknowledger === undefined ? undefined : gateways.find((g) => g.name === acknowledger);
    const g = ack === undefined ? undefined : aim === 'acknowledger' ? ack : pickOther(ack.name);
    if (g === undefined) notAimed.push(aim);
    else targets.push({ aim, url: g.url, gateway: g.name });
  }
  return { targets, notAimed };
}

export interface AimedResult {
  aim: Aim;
  attempts: Attempt[];
  /** The acknowledgement, when this aim got one. */
  ack?: Acked;
}

/**
 * Send one redelivery to each target in turn (each sees what the one before it did to the key),
 * under the sender's discipline. `base` carries the dispatcher, token and timeout.
 */
export async function redeliverAimed(
  base: Omit<SendTarget, 'url'>,
  key: string,
  body: Record<string, unknown>,
  schedule: string,
  targets: readonly AimTarget[],
  gateways: readonly AimGateway[],
  discipline: Discipline,
  policy: { capped: CappedPolicy; unbounded: UnboundedPolicy },
  signal?: AbortSignal,
): Promise<AimedResult[]> {
  const out: AimedResult[] = [];
  for (const a of targets) {
    if (signal?.aborted) break;
    const o = await deliver({ ...base, url: a.url }, key, body, discipline, policy, signal);
    const r: AimedResult = { aim: a.aim, attempts: o.attempts };
    if (o.acked && o.runId !== undefined && o.ack !== undefined) {
      const gateway = a.gateway ?? gatewayOfServer(gateways, o.ack.server);
      r.ack = {
        key,
        runId: o.runId,
        ...(gateway !== undefined ? { gateway } : {}),
        ...(o.ack.instance !== undefined ? { instance: o.ack.instance } : {}),
        sentAt: o.ack.sentAt,
        at: o.ack.at,
        redelivery: { schedule, aim: a.aim },
      };
    }
    out.push(r);
  }
  return out;
}
