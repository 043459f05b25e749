// What every part of one storm run shares: the target, the options, the journal its changes go
// to, its timeline, and where errors that do not stop it are collected.
import type { Journal } from '../faults/journal.ts';
import type { ChaosTarget } from '../target/target.ts';
import type { RunsEndpoint } from '../webhooks/accounting.ts';
import type { StormOptions } from './options.ts';

export interface StormRun {
  t: ChaosTarget;
  opts: StormOptions;
  /** The storm's run id: every delivery key starts with it. */
  runId: string;
  journal: Journal;
  ev: (label: string, kind?: string) => void;
  signal: AbortSignal | undefined;
  /** Errors that did not stop the storm; each becomes a failed "storm ran" threshold. */
  errors: string[];
  runsEp: RunsEndpoint;
  hookToken: string;
  /** The load balancer is on loopback: senders may each take their own 127.x source address. */
  loopback: boolean;
  /** Whether the storm tunes the gateways' webhook admission (reference fleet, chaos allowed). */
  tuneAdmission: boolean;
}
