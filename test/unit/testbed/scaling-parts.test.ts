// The parts a scaling bed moves: HAProxy dynamic servers (a real haproxy), Prometheus target files,
// replica numbering.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHaproxy, stopHaproxy, type HaproxyInstance } from '../../../harness/launch/haproxy.ts';
import { prometheusConfig } from '../../../harness/launch/prometheus.ts';
import { addServer, deleteServer, setState, showServersState } from '../../../src/lb/runtime.ts';
import { waitAllServersUp } from '../../../src/testbed/startup.ts';
import { addTarget, BLOCKED_METRICS_PATH, blockScrape, readTargets, removeTargetsOf, targetsFile, writeTargets } from '../../../src/testbed/prom-targets.ts';
import { nextReplicaIds } from '../../../src/testbed/replicas.ts';
import { findBinary } from '../../../src/util/proc.ts';

const TOKEN = 'probe-token-abcdefghijklmnopqrstuvwxyz_012345';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-scaling-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('Prometheus target files', () => {
  it('carry per-target labels, add and remove replicas, and block one replica’s scrapes by path', () => {
    writeTargets(dir, 'gateway', [{ targets: ['127.0.0.1:1001'], labels: { gateway: 'gw-1', az: 'az-a' } }]);
    addTarget(dir, 'gateway', { target: '127.0.0.1:1002', labels: { gateway: 'gw-2', az: 'az-b' } });
    addTarget(dir, 'gateway', { target: '127.0.0.1:1002', labels: { gateway: 'gw-2', az: 'az-b' } });
    expect(readTargets(dir, 'gateway')).toEqual([
      { targets: ['127.0.0.1:1001'], labels: { gateway: 'gw-1', az: 'az-a' } },
      { targets: ['127.0.0.1:1002'], labels: { gateway: 'gw-2', az: 'az-b' } },
    ]);
    blockScrape(dir, 'gw-2', true);
    expect(readTargets(dir, 'gateway')[1]!.labels).toEqual({ gateway: 'gw-2', az: 'az-b', __metrics_path__: BLOCKED_METRICS_PATH });
    blockScrape(dir, 'gw-2', false);
    expect(readTargets(dir, 'gateway')[1]!.labels).toEqual({ gateway: 'gw-2', az: 'az-b' });
    expect(() => blockScrape(dir, 'gw-9', true)).toThrow(/no gateway target labelled gateway="gw-9"/);
    expect(removeTargetsOf(dir, 'gateway', 'gw-1')).toBe(1);
    expect(readTargets(dir, 'gateway').map((g) => g.labels.gateway)).toEqual(['gw-2']);
  });

  it('are named in the job as file_sd_configs with honor_labels, and no empty static config', () => {
    const text = prometheusConfig({ jobs: [{ name: 'gateway', targets: [], fileSd: { files: [targetsFile(dir, 'gateway')], refreshInterval: '5s' }, honorLabels: true }] });
    expect(text).toContain('file_sd_configs:');
    expect(text).toContain(targetsFile(dir, 'gateway'));
    expect(text).toContain('honor_labels: true');
    expect(text).not.toContain('static_configs');
  });
});

describe('replica numbering', () => {
  it('takes the lowest free gw-N numbers, skipping those being started', () => {
    expect(nextReplicaIds(['gw-1', 'gw-2'], new Set(), 2)).toEqual(['gw-3', 'gw-4']);
    expect(nextReplicaIds(['gw-1', 'gw-3'], new Set(['gw-2']), 2)).toEqual(['gw-4', 'gw-5']);
  });
});

const haproxyBin = findBinary('haproxy', 'HAPROXY_BIN');

describe.skipIf(!haproxyBin)('HAProxy dynamic servers', () => {
  let lb: HaproxyInstance;
  let probe: http.Server;
  let port = 0;
  beforeAll(async () => {
    // A gateway stand-in: the composite probe answers 200 to the probe bearer only.
    probe = http.createServer((req, res) => {
      res.writeHead(req.headers.authorization === `Bearer ${TOKEN}` ? 200 : 401).end('{}');
    });
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    port = (probe.address() as AddressInfo).port;
    lb = await startHaproxy({ dir: path.join(dir, 'haproxy'), servers: [{ name: 'gw-1', port }], probeToken: TOKEN, detached: false });
  });
  afterAll(async () => {
    if (lb) await stopHaproxy(lb);
    probe?.close();
  });

  it('a server added at run time is health-checked like the configured ones, drains, and is deleted', async () => {
    const rt = { socket: lb.socket, backend: lb.backend };
    await addServer(rt, { name: 'gw-2', port });
    // It counts as UP before its first check ran; the check passes with the backend's probe bearer.
    const [gw2] = await waitAllServersUp(rt, ['gw-2'], 10_000).then((all) => all.filter((s) => s.name === 'gw-2'));
    expect(gw2).toMatchObject({ opState: 'UP', checkStatus: 'L7OK' });
    await setState(rt, 'gw-2', 'drain');
    expect((await showServersState(rt)).find((s) => s.name === 'gw-2')).toMatchObject({ adminState: 'drain', sessions: 0 });
    await deleteServer(rt, 'gw-2');
    expect((await showServersState(rt)).map((s) => s.name)).toEqual(['gw-1']);
    await expect(addServer(rt, { name: 'gw-1', port })).rejects.toThrow(/haproxy refused "add server be_gateways\/gw-1/);
  });
});
