import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { haproxyConfig } from '../../../harness/launch/haproxy.ts';
import { parseServersState, parseStatCsv } from '../../../src/lb/runtime.ts';
import { findBinary } from '../../../src/util/proc.ts';

const TOKEN = 'probe-token-abcdefghijklmnopqrstuvwxyz_012345';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-hacfg-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cfg = () =>
  haproxyConfig({
    socket: path.join(dir, 'haproxy.sock'),
    frontendPort: 18080,
    statsPort: 18081,
    servers: [
      { name: 'gw-1', port: 19001 },
      { name: 'gw-2', port: 19002, weight: 50 },
    ],
    probeToken: TOKEN,
    maxconn: 1000,
  });

describe('haproxy config', () => {
  it('routes round-robin to every gateway and checks the composite probe with the bearer', () => {
    const text = cfg();
    expect(text).toContain(`stats socket ${path.join(dir, 'haproxy.sock')} mode 600 level admin expose-fd listeners`);
    // A client's own X-Forwarded-For is dropped before HAProxy adds the address it saw.
    expect(text).toMatch(/frontend fe_gateways\n\s+bind 127\.0\.0\.1:18080\n\s+http-request del-header X-Forwarded-For\n\s+option forwardfor/);
    expect(text).toContain('balance roundrobin');
    expect(text).toContain('http-response set-header X-Served-By %s');
    expect(text).toContain('option httpchk');
    expect(text).toContain(`http-check send meth GET uri /keda/metrics ver HTTP/1.1 hdr Host localhost hdr Authorization "Bearer ${TOKEN}"`);
    expect(text).toContain('http-check expect status 200');
    expect(text).toContain('server gw-1 127.0.0.1:19001 check weight 100 inter 1s fall 2 rise 2');
    expect(text).toContain('server gw-2 127.0.0.1:19002 check weight 50 inter 1s fall 2 rise 2');
    expect(text).toContain('timeout tunnel 1h');
    expect(text).toContain('timeout connect 2s');
    expect(text).toContain('timeout server 60s');
    expect(text).toContain('http-request use-service prometheus-exporter if { path /metrics }');
    expect(text).toContain('stats uri /stats');
    // Loopback only.
    for (const bind of text.matchAll(/bind (\S+)/g)) expect(bind[1]).toMatch(/^127\.0\.0\.1:/);
  });

  it('for real OpenClaw gateways: an unauthenticated /readyz check and no X-Forwarded-For', () => {
    const text = haproxyConfig({ socket: '/x', frontendPort: 1, statsPort: 2, servers: [{ name: 'gw-1', port: 3 }], probePath: '/readyz', forwardFor: false });
    expect(text).toContain('http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost\n');
    expect(text).not.toContain('Authorization');
    expect(text).not.toContain('option forwardfor');
    // Still dropped: a client could otherwise forge one, and the gateway answers forwarded loopback clients 403.
    expect(text).toContain('http-request del-header X-Forwarded-For');
  });

  it('refuses names and tokens that would break the config', () => {
    expect(() => haproxyConfig({ socket: '/x', frontendPort: 1, statsPort: 2, servers: [{ name: 'gw 1', port: 3 }], probeToken: TOKEN })).toThrow(/invalid/);
    expect(() => haproxyConfig({ socket: '/x', frontendPort: 1, statsPort: 2, servers: [{ name: 'gw-1', port: 3 }], probeToken: 'a"b c' })).toThrow(/probe token/);
    expect(() => haproxyConfig({ socket: '/x', frontendPort: 1, statsPort: 2, servers: [], probeToken: TOKEN })).toThrow(/no servers/);
  });

  it.skipIf(findBinary('haproxy', 'HAPROXY_BIN') === undefined)('passes haproxy -c', async () => {
    const file = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(file, cfg(), { mode: 0o600 });
    const bin = findBinary('haproxy', 'HAPROXY_BIN')!;
    const { stderr } = await promisify(execFile)(bin, ['-c', '-f', file]);
    expect(stderr).not.toMatch(/ALERT/);
  });
});

describe('haproxy runtime API parsing', () => {
  const serversState = [
    '1',
    '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port',
    '3 be_gateways 1 gw-1 127.0.0.1 2 0 100 100 12 6 3 4 6 0 0 0 - 19001 - 0 0 - - 0',
    '3 be_gateways 2 gw-2 127.0.0.1 0 0 100 100 3 6 2 0 6 0 0 0 - 19002 - 0 0 - - 0',
    '3 be_gateways 3 gw-3 127.0.0.1 2 8 0 100 1 6 3 4 6 0 0 0 - 19003 - 0 0 - - 0',
    '3 be_gateways 4 gw-4 127.0.0.1 0 1 100 100 1 6 3 4 6 0 0 0 - 19004 - 0 0 - - 0',
    '',
  ].join('\n');

  it('reads operational and administrative state per server', () => {
    const s = parseServersState(serversState);
    expect(s.map((x) => [x.name, x.opState, x.adminState, x.weight, x.port])).toEqual([
      ['gw-1', 'UP', 'ready', 100, 19001],
      ['gw-2', 'DOWN', 'ready', 100, 19002],
      ['gw-3', 'UP', 'drain', 0, 19003],
      ['gw-4', 'DOWN', 'maint', 100, 19004],
    ]);
  });

  it('rejects an answer that is not a servers-state table', () => {
    expect(() => parseServersState('No such backend.\n')).toThrow(/unexpected/);
  });

  it('reads show stat CSV by column name', () => {
    const rows = parseStatCsv('# pxname,svname,status,check_status,\nbe_gateways,gw-1,UP,L7OK,\nbe_gateways,gw-2,DOWN 1/2,L7STS,\n');
    expect(rows).toEqual([
      { pxname: 'be_gateways', svname: 'gw-1', status: 'UP', check_status: 'L7OK' },
      { pxname: 'be_gateways', svname: 'gw-2', status: 'DOWN 1/2', check_status: 'L7STS' },
    ]);
  });
});
