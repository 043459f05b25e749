// Exit codes (plan §9), shared by every command:
//   0  all passed / the command did what was asked
//   1  a threshold failed (run, gate)
//   2  usage or config error: bad flags, bad config, unknown scenario or test bed, a missing
//      binary (the message names the Debian package), a harness script that does not exist
//   3  no data or inconclusive: a target, Prometheus or a test bed part unreachable or not
//      coming up, `testbed status` finding something unhealthy, `testbed down` leaving
//      something behind
//   130 interrupted (Ctrl-C / SIGTERM) after cleaning up
import { MissingBinaryError } from '../util/proc.ts';
import { redact } from '../util/redact.ts';
import { DatabaseConfigError } from '../testbed/database.ts';
import { MissingScriptError } from '../testbed/services.ts';
import { StateNotFoundError } from '../testbed/state.ts';
import { ManifestError } from '../autoscale/manifest.ts';
import { PlanError } from '../scale/plan.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2, inconclusive: 3, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line with a chosen exit code. */
/** Thrown (as an abort reason) when the user interrupts a command. */
export class InterruptedError extends Error {}

export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode) {
    super(message);
    this.exitCode = exitCode;
  }
}

export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof InterruptedError) return EXIT.interrupted;
  if (
    err instanceof MissingBinaryError ||
    err instanceof DatabaseConfigError ||
    err instanceof StateNotFoundError ||
    err instanceof MissingScriptError ||
    err instanceof ManifestError ||
    err instanceof PlanError ||
    err instanceof RangeError
  ) {
    return EXIT.usage;
  }
  return EXIT.inconclusive;
}

/** The error as the single line the CLI prints (redacted). */
export function errorLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return redact(msg.replace(/\s*\n\s*/g, ' | ').trim());
}
