// The fault library: every change a drill or storm makes to a target, each journalled before it
// happens (with how to undo it) and marked applied after; and the undo of each, idempotent.
//
//   signals to a gateway   SIGTERM drain · SIGKILL crash · SIGSTOP hang   (test bed control API,
//                          or the target profile's fault commands: stop / kill / pause)
//   HAProxy                server state (drain, maint, ready) and weight (runtime API)
//   gateway admin          latency, errors, disk-used ratio, degraded, skill hash, draining,
//                          idempotency keys in process memory (/admin/faults), accepted tokens (/admin/tokens), admission of
//                          webhooks and tool calls (/admin/hooks)
//   notifier               digest window and sink (/admin/config)
//   shell commands         from the target profile (kubectl, launchctl over ssh …), via execa with
//                          a timeout
import { execa } from 'execa';
import { z } from 'zod';
import type { Command } from '../config/profile.ts';
import { setState, setWeight, showServersState, type AdminState } from '../lb/runtime.ts';
import { startGateway, stopGateway, type StopSignal } from '../testbed/control.ts';
import { redact } from '../util/redact.ts';
import type { FaultMode, Journal, Undo } from './journal.ts';
import { ChaosTargetError, gatewayOf, tokenOf, type ChaosTarget } from '../target/target.ts';

const ADMIN_TIMEOUT_MS = 5_000;
const COMMAND_TIMEOUT_MS = 60_000;

export const MODE_SIGNAL: Record<FaultMode, StopSignal> = { crash: 'SIGKILL', drain: 'SIGTERM', hang: 'SIGSTOP' };
const MODE_COMMAND: Record<FaultMode, 'kill' | 'stop' | 'pause'> = { crash: 'kill', drain: 'stop', hang: 'pause' };

// ── HTTP admin calls ─────────────────────────────────────────────────────────

export async function adminCall(url: string, token: string, method: string, path: string, body?: unknown, timeoutMs = ADMIN_TIMEOUT_MS): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    throw new Error(`${method} ${url}${path}: ${e.cause?.code ?? e.message}`);
  }
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url}${path}: HTTP ${res.status} ${redact(text.slice(0, 200))}`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export const FaultStateSchema = z.looseObject({
  latencyMs: z.number(),
  errorRate: z.number(),
  diskUsedRatio: z.number(),
  degraded: z.boolean(),
  skillHash: z.string(),
  draining: z.boolean(),
  keysInMemory: z.boolean().default(false),
});
export type FaultState = z.infer<typeof FaultStateSchema>;
export type FaultPatch = Partial<Pick<FaultState, 'latencyMs' | 'errorRate' | 'diskUsedRatio' | 'degraded' | 'skillHash' | 'draining' | 'keysInMemory'>>;

export const AdmissionStateSchema = z.looseObject({ queueLimit: z.number(), maxInFlight: z.number(), retryAfterS: z.number(), workMs: z.number() });
export type AdmissionPatch = Partial<{ queueLimit: number; maxInFlight: number; retryAfterS: number; workMs: number }>;

export async function readFaults(t: ChaosTarget, gateway: string): Promise<FaultState> {
  return FaultStateSchema.parse(await adminCall(gatewayOf(t, gateway).url, tokenOf(t, 'admin'), 'GET', '/admin/faults'));
}

// ── shell commands of the target profile ─────────────────────────────────────

export async function runCommand(cmd: Command, what: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<void> {
  const r = typeof cmd === 'string'
    ? await execa(cmd, { shell: true, timeout: timeoutMs, reject: false, stdin: 'ignore' })
    : await execa(cmd[0]!, cmd.slice(1), { timeout: timeoutMs, reject: false, stdin: 'ignore' });
  if (r.timedOut) throw new Error(`${what}: command timed out after ${timeoutMs} ms`);
  if (r.exitCode !== 0) {
    const said = `${String(r.stderr ?? '')}\n${String(r.stdout ?? '')}`.trim().split('\n').slice(-3).join(' | ');
    throw new Error(redact(`${what}: command exited ${r.exitCode ?? r.signal ?? '?'}${said ? `: ${said}` : ''}`));
  }
}

function profileCommand(t: ChaosTarget, gateway: string, fault: 'stop' | 'start' | 'kill' | 'pause' | 'resume'): Command {
  const g = gatewayOf(t, gateway);
  const cmd = g.faults?.[fault];
  if (cmd === undefined) {
    throw new ChaosTargetError(`${t.profile.file}: gateways[${gateway}].faults.${fault}: required for this fault (the test bed has signals; a real target needs its commands)`);
  }
  return cmd;
}

/** The profile's canary.setWeight command with `{weight}` (percent) and `{gateway}` filled in. */
export function canaryWeightCommand(t: ChaosTarget, gateway: string, percent: number): Command {
  const cmd = t.profile.canary?.setWeight;
  if (cmd === undefined) throw new ChaosTargetError(`${t.profile.file}: canary.setWeight: required to set a canary's weight on this target (the test bed uses HAProxy's runtime API)`);
  const fill = (s: string) => s.replaceAll('{weight}', String(percent)).replaceAll('{gateway}', gateway);
  return typeof cmd === 'string' ? fill(cmd) : cmd.map(fill);
}

// ── journalled changes ───────────────────────────────────────────────────────

/** Journal the intent, make the change, mark it applied (or failed, and rethrow). */
export async function journalled<T>(j: Journal, step: string, action: string, undo: Undo, apply: () => Promise<T>): Promise<T> {
  const id = j.intent(step, action, undo);
  try {
    const v = await apply();
    j.mark(id, 'applied');
    return v;
  } catch (err) {
    j.mark(id, 'failed', redact((err as Error).message));
    throw err;
  }
}

/** Crash (SIGKILL), drain (SIGTERM) or hang (SIGSTOP) a gateway. */
export async function faultGateway(t: ChaosTarget, j: Journal, step: string, gateway: string, mode: FaultMode): Promise<void> {
  gatewayOf(t, gateway);
  if (t.testbed !== undefined) {
    const tb = t.testbed;
    await journalled(j, step, `${MODE_SIGNAL[mode]} ${gateway} (${mode})`, { kind: 'gateway.restore', gateway }, async () => {
      // SIGTERM waits for the drain and exit; the drill's watchers time the load balancer meanwhile.
      await stopGateway(tb, gateway, MODE_SIGNAL[mode], { timeoutMs: 20_000 });
    });
    return;
  }
  const fault = MODE_COMMAND[mode];
  const cmd = profileCommand(t, gateway, fault);
  const reverse = fault === 'pause' ? 'resume' : 'start';
  profileCommand(t, gateway, reverse);
  await journalled(j, step, `${fault} ${gateway} (${mode}, profile command)`, { kind: 'command', gateway, fault: reverse }, () => runCommand(cmd, `${gateway} ${fault}`));
}

/** Start a stopped gateway or continue a hung one; resolves once it answers its health URL. */
export async function restoreGateway(t: ChaosTarget, gateway: string): Promise<{ started: boolean; ms: number }> {
  if (t.testbed !== undefined) {
    // A real OpenClaw gateway needs 15–25 s to be ready again on 2 cores (more under load).
    const r = await startGateway(t.testbed, gateway, { timeoutMs: t.testbed.kind === 'openclaw' ? 120_000 : 30_000 });
    return { started: r.started, ms: r.ms };
  }
  const t0 = Date.now();
  await runCommand(profileCommand(t, gateway, 'start'), `${gateway} start`);
  return { started: true, ms: Date.now() - t0 };
}

function lbOf(t: ChaosTarget) {
  if (t.haproxy === undefined) throw new ChaosTargetError(`${t.profile.file}: load balancer actions need the HAProxy runtime API, which only the local test bed exposes here`);
  return t.haproxy;
}

export async function lbState(t: ChaosTarget, j: Journal, step: string, server: string, state: AdminState): Promise<void> {
  const lb = lbOf(t);
  const before = (await showServersState(lb)).find((s) => s.name === server);
  if (before === undefined) throw new ChaosTargetError(`load balancer: no server ${JSON.stringify(server)} in backend ${lb.backend}`);
  await journalled(j, step, `haproxy ${server} state ${state}`, { kind: 'lb.state', server, state: before.adminState }, () => setState(lb, server, state));
}

export async function lbWeight(t: ChaosTarget, j: Journal, step: string, server: string, weight: number): Promise<void> {
  const lb = lbOf(t);
  const before = (await showServersState(lb)).find((s) => s.name === server);
  if (before === undefined) throw new ChaosTargetError(`load balancer: no server ${JSON.stringify(server)} in backend ${lb.backend}`);
  await journalled(j, step, `haproxy ${server} weight ${weight}`, { kind: 'lb.weight', server, weight: before.weight }, () => setWeight(lb, server, weight));
}

export async function gatewayFaults(t: ChaosTarget, j: Journal, step: string, gateway: string, patch: FaultPatch): Promise<void> {
  const before = await readFaults(t, gateway);
  const undo: Record<string, number | boolean | string> = {};
  for (const k of Object.keys(patch) as Array<keyof FaultPatch>) undo[k] = before[k];
  await journalled(j, step, `${gateway} faults ${JSON.stringify(patch)}`, { kind: 'gateway.faults', gateway, patch: undo }, async () => {
    await adminCall(gatewayOf(t, gateway).url, tokenOf(t, 'admin'), 'PUT', '/admin/faults', patch);
  });
}

/** Accepted gateway tokens: `values` now; the undo restores the profile tokens named in `restore`. */
export async function gatewayTokens(t: ChaosTarget, j: Journal, step: string, gateways: string[], values: string[], label: string, restore: string[] = ['gateway']): Promise<void> {
  await journalled(j, step, `${gateways.join(', ')} accept ${label}`, { kind: 'gateway.tokens', gateways, tokens: restore }, async () => {
    await Promise.all(gateways.map((g) => adminCall(gatewayOf(t, g).url, tokenOf(t, 'admin'), 'PUT', '/admin/tokens', { gateway: values })));
  });
}

export async function hooksAdmission(t: ChaosTarget, j: Journal, step: string, gateway: string, patch: AdmissionPatch): Promise<void> {
  const url = gatewayOf(t, gateway).url;
  const before = AdmissionStateSchema.parse(await adminCall(url, tokenOf(t, 'admin'), 'GET', '/admin/hooks'));
  const undo: Record<string, number> = {};
  for (const k of Object.keys(patch) as Array<keyof AdmissionPatch>) undo[k] = before[k];
  await journalled(j, step, `${gateway} admission ${JSON.stringify(patch)}`, { kind: 'hooks.admission', gateway, settings: undo }, async () => {
    await adminCall(url, tokenOf(t, 'admin'), 'PUT', '/admin/hooks', patch);
  });
}

export const NotifierSettingsSchema = z.object({ windowMs: z.number(), sink: z.record(z.string(), z.unknown()) });

export async function notifierConfig(t: ChaosTarget, j: Journal, step: string, patch: { windowMs?: number; sink?: Record<string, unknown> }): Promise<void> {
  const url = t.notifierUrl;
  if (url === undefined) throw new ChaosTargetError('this target has no notifier');
  const before = NotifierSettingsSchema.parse(await adminCall(url, tokenOf(t, 'admin'), 'GET', '/admin/config'));
  const undo: Record<string, unknown> = {};
  if (patch.windowMs !== undefined) undo.windowMs = before.windowMs;
  if (patch.sink !== undefined) undo.sink = before.sink;
  await journalled(j, step, `notifier ${JSON.stringify({ windowMs: patch.windowMs, sink: patch.sink?.kind })}`, { kind: 'notifier.config', url, settings: undo }, async () => {
    await adminCall(url, tokenOf(t, 'admin'), 'PUT', '/admin/config', patch);
  });
}

// ── undo ─────────────────────────────────────────────────────────────────────

/** Put one change back. Idempotent: undoing what is already as it should be changes nothing. */
export async function applyUndo(t: ChaosTarget, u: Undo): Promise<string> {
  switch (u.kind) {
    case 'gateway.restore': {
      const r = await restoreGateway(t, u.gateway);
      return r.started ? `${u.gateway} started again (${r.ms} ms to healthy)` : `${u.gateway} running (${r.ms} ms to healthy)`;
    }
    case 'command':
      await runCommand(profileCommand(t, u.gateway, u.fault), `${u.gateway} ${u.fault}`);
      return `${u.gateway} ${u.fault} command ran`;
    case 'lb.state':
      await setState(lbOf(t), u.server, u.state);
      return `haproxy ${u.server} state ${u.state}`;
    case 'lb.weight':
      await setWeight(lbOf(t), u.server, u.weight);
      return `haproxy ${u.server} weight ${u.weight}`;
    case 'canary.weight':
      await runCommand(canaryWeightCommand(t, u.gateway, u.percent), `canary ${u.gateway} weight ${u.percent}%`);
      return `canary ${u.gateway} weight ${u.percent}% (profile command)`;
    case 'gateway.faults':
      await adminCall(gatewayOf(t, u.gateway).url, tokenOf(t, 'admin'), 'PUT', '/admin/faults', u.patch);
      return `${u.gateway} faults ${JSON.stringify(u.patch)}`;
    case 'gateway.tokens': {
      const values = u.tokens.map((n) => tokenOf(t, n));
      await Promise.all(u.gateways.map((g) => adminCall(gatewayOf(t, g).url, tokenOf(t, 'admin'), 'PUT', '/admin/tokens', { gateway: values })));
      return `${u.gateways.join(', ')} accept ${u.tokens.join(', ')} again`;
    }
    case 'hooks.admission':
      await adminCall(gatewayOf(t, u.gateway).url, tokenOf(t, 'admin'), 'PUT', '/admin/hooks', u.settings);
      return `${u.gateway} admission ${JSON.stringify(u.settings)}`;
    case 'notifier.config':
      await adminCall(u.url, tokenOf(t, 'admin'), 'PUT', '/admin/config', u.settings);
      return `notifier ${Object.keys(u.settings).join(', ')} restored`;
  }
}

/** A gateway restarted by an undo forgets runtime settings; later undos of it still run (harmless). */
export function undoTargetsGateway(u: Undo, gateway: string): boolean {
  return (u.kind === 'gateway.restore' || u.kind === 'command') && u.gateway === gateway;
}
