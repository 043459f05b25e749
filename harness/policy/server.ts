import Fastify, { type FastifyInstance } from 'fastify';
import client from 'prom-client';
import type pg from 'pg';
import { Redis } from 'ioredis';
import type { Logger } from '../common/log.ts';
import { processRegistry } from '../common/metrics.ts';
import { EvalInputSchema, POLICY_DOMAIN_NAMES, type PolicyDomainName } from './content.ts';
import { PolicySet } from './evaluate.ts';
import { loadSnapshot, POLICIES_CHANGED_CHANNEL, readRevision } from './store.ts';

// OPA-REST-compatible sidecar: POST /v1/data/openclaw/enterprise/<domain> {"input": …} →
// {"result": {allow, reason, policy?, require_approval?}}. Decisions come from the policies held
// in memory; the database is read only to (re)load them.

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const DOMAINS = new Set<string>(POLICY_DOMAIN_NAMES);

export function createSidecarMetrics() {
  // Process metrics minus the defaults `promtool check metrics` flags.
  const registry = processRegistry();
  const r = [registry];
  return {
    registry,
    evaluations: new client.Counter({
      name: 'policy_sidecar_evaluations_total',
      help: 'Decisions answered, by domain and result (allow, deny, error).',
      labelNames: ['domain', 'result'] as const,
      registers: r,
    }),
    duration: new client.Histogram({
      name: 'policy_sidecar_evaluation_duration_seconds',
      help: 'Time to decide one input (request parsing included, network excluded).',
      labelNames: ['domain'] as const,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    loaded: new client.Gauge({ name: 'policy_sidecar_policies_loaded', help: 'Live policies held in memory.', registers: r }),
    reloads: new client.Counter({ name: 'policy_sidecar_reloads_total', help: 'Policy sets loaded from the store.', registers: r }),
    reloadFailures: new client.Counter({ name: 'policy_sidecar_reload_failures_total', help: 'Reload attempts that failed (the previous set stays in force).', registers: r }),
    version: new client.Gauge({ name: 'policy_sidecar_policy_version', help: 'Revision of the policy set in force (policy.revision).', registers: r }),
    loadedAt: new client.Gauge({ name: 'policy_sidecar_policy_loaded_timestamp_seconds', help: 'When the policy set in force was loaded.', registers: r }),
    invalid: new client.Gauge({ name: 'policy_sidecar_policies_invalid', help: 'Loaded policies whose content did not parse (enforced as deny-all).', registers: r }),
  };
}
export type SidecarMetrics = ReturnType<typeof createSidecarMetrics>;

export interface SidecarOptions {
  id: string;
  tenantId: string;
  db: pg.Pool;
  redisUrl: string;
  pollIntervalMs: number;
  log: Logger;
}

export interface Sidecar {
  app: FastifyInstance;
  metrics: SidecarMetrics;
  /** The set in force (undefined until the first load). */
  current(): PolicySet | undefined;
  /** Reload now if the stored revision differs (or always when forced); coalesces callers. */
  reload(reason: string, force?: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function createSidecar(opts: SidecarOptions): Promise<Sidecar> {
  const { db, log } = opts;
  const metrics = createSidecarMetrics();
  let set: PolicySet | undefined;
  let inFlight: Promise<void> | undefined;
  let again = false;
  let closed = false;

  async function loadOnce(reason: string): Promise<void> {
    const t0 = performance.now();
    const snap = await loadSnapshot(db);
    if (set !== undefined && snap.revision === set.revision && reason !== 'forced') return;
    const next = new PolicySet(snap.policies, snap.revision);
    const previous = set?.revision;
    set = next;
    metrics.reloads.inc();
    metrics.loaded.set(next.size);
    metrics.version.set(next.revision);
    metrics.loadedAt.set(next.loadedAt.getTime() / 1000);
    metrics.invalid.set(snap.invalid.length);
    if (snap.invalid.length > 0) log.warn('policies with invalid content enforced as deny-all', { ids: snap.invalid });
    log.info('policies loaded', { reason, revision: next.revision, previous, policies: next.size, ms: Math.round(performance.now() - t0) });
  }

  function reload(reason: string, force = false): Promise<void> {
    if (inFlight !== undefined) {
      // A change announced during a load may not be in it: load once more afterwards.
      again = true;
      return inFlight;
    }
    inFlight = (async () => {
      try {
        let why = force ? 'forced' : reason;
        do {
          again = false;
          try {
            await loadOnce(why);
          } catch (err) {
            metrics.reloadFailures.inc();
            log.warn('policy reload failed; previous set stays in force', { reason: why, err: (err as Error).message });
            throw err;
          }
          why = 'changed during load';
        } while (again && !closed);
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  }

  // Push: the gateway's policy API publishes after every committed change.
  const sub = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
  sub.on('error', (err) => log.warn('redis subscriber error', { err: err.message }));
  sub.on('message', (channel) => {
    if (channel === POLICIES_CHANGED_CHANNEL) reload('notified').catch(() => {});
  });
  // After a reconnect messages may have been missed; check at once rather than at the next poll.
  sub.on('ready', () => {
    if (set !== undefined) reload('redis reconnected').catch(() => {});
  });
  await sub.connect().catch((err: unknown) => log.warn('redis subscriber connect failed; relying on polling', { err: (err as Error).message }));
  await sub.subscribe(POLICIES_CHANGED_CHANNEL).catch((err: unknown) => log.warn('subscribe failed; relying on polling', { err: (err as Error).message }));

  // Pull: cheap revision check, full load only when it moved.
  let polling = false;
  const poll = setInterval(() => {
    if (polling || closed) return;
    polling = true;
    (async () => {
      if (set === undefined) return reload('initial retry');
      const rev = await readRevision(db);
      if (rev !== set.revision) await reload('poll');
    })()
      .catch(() => {})
      .finally(() => {
        polling = false;
      });
  }, opts.pollIntervalMs);
  poll.unref();

  await reload('initial').catch(() => {});

  const app = Fastify({ logger: false, bodyLimit: 1_048_576 });
  // OPA answers errors as {code, message}.
  app.setErrorHandler(async (err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    await reply.code(status).send({ code: status === 400 ? 'invalid_parameter' : 'internal_error', message: err.message });
  });
  app.setNotFoundHandler(async (req, reply) => {
    await reply.code(404).send({ code: 'resource_not_found', message: `${req.method} ${req.url.split('?')[0]}` });
  });

  app.get('/health', async (_req, reply) => {
    if (set === undefined) return reply.code(500).send({ error: 'policies not loaded yet' });
    return reply.send({});
  });

  app.get('/metrics', async (_req, reply) => {
    await reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const revisionDoc = () =>
    set === undefined
      ? {}
      : {
          result: {
            revision: set.revision,
            loaded_at: set.loadedAt.toISOString(),
            policies: set.size,
            scopes: set.scopes(),
            sidecar: opts.id,
          },
        };
  app.get('/v1/data/system/revision', async () => revisionDoc());
  app.post('/v1/data/system/revision', async () => revisionDoc());

  app.post<{ Params: { domain: string } }>('/v1/data/openclaw/enterprise/:domain', async (req, reply) => {
    const t0 = performance.now();
    const domain = req.params.domain;
    // OPA answers an undefined document with 200 {} (no result); the client fails closed on it.
    if (!DOMAINS.has(domain)) return reply.send({});
    const d = domain as PolicyDomainName;
    const body = req.body as { input?: unknown } | null | undefined;
    const parsed = EvalInputSchema.safeParse(body?.input);
    if (body === null || typeof body !== 'object' || body.input === undefined || !parsed.success) {
      metrics.evaluations.inc({ domain: d, result: 'error' });
      return reply.code(400).send({ code: 'invalid_parameter', message: 'body must be {"input": {tenant_id, user_id, action, data_classification, channel, target_system, additional?}}' });
    }
    if (set === undefined) {
      metrics.evaluations.inc({ domain: d, result: 'error' });
      return reply.code(500).send({ code: 'internal_error', message: 'policies not loaded yet' });
    }
    const input = parsed.data;
    if (input.tenant_id === '') input.tenant_id = opts.tenantId;
    const result = set.evaluate(d, input);
    metrics.evaluations.inc({ domain: d, result: result.allow ? 'allow' : 'deny' });
    metrics.duration.observe({ domain: d }, (performance.now() - t0) / 1000);
    return reply.send({ result });
  });

  return {
    app,
    metrics,
    current: () => set,
    reload,
    async close() {
      closed = true;
      clearInterval(poll);
      sub.disconnect();
      await app.close();
    },
  };
}
