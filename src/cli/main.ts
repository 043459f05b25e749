// clawstorm: one yargs program; each command lives in its own module under src/cli/ and is
// listed in COMMANDS (run, gate, report, drill, storm plug in the same way as testbed).
import { say } from './output.ts';
import yargs, { type Argv, type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { errorLine, EXIT, exitCodeFor } from './errors.ts';
import { testbedCommand } from './testbed.ts';
import { gateCommand, reportCommand, runCommand } from './gate.ts';
import { drillCommand } from './drill.ts';
import { stormCommand } from './storm.ts';
import { exportCommand } from './export.ts';
import { scaleCommand } from './scale.ts';
import { versionLine } from './version.ts';
import { compareCommand } from './compare.ts';
import { judgeCommand } from './judge.ts';
import { canaryCommand } from './canary.ts';

/**
 * Erase a command module's argv type for the list below (yargs checks flags at run time; the
 * module's own handler keeps its typed argv).
 */
export function command<U>(m: CommandModule<object, U>): CommandModule {
  return m as unknown as CommandModule;
}

export const COMMANDS: CommandModule[] = [testbedCommand, command(gateCommand), command(runCommand), reportCommand, drillCommand, stormCommand, exportCommand, scaleCommand, command(compareCommand), command(judgeCommand), command(canaryCommand)];

const EPILOGUE = `Exit codes: 0 ok · 1 a threshold failed · 2 usage/config error (incl. a missing binary: the message names the Debian package) · 3 no data / inconclusive (unreachable target or Prometheus, a test bed part not coming up).`;

export function buildCli(argv: string[]): Argv {
  let cli = yargs(argv)
    .scriptName('clawstorm')
    .usage('$0 <command> [options]\n\nLoad tests and chaos drills for OpenClaw gateway fleets.')
    .epilogue(EPILOGUE)
    .strict()
    .recommendCommands()
    .demandCommand(1, 'name a command (clawstorm --help lists them)')
    .help()
    .alias('h', 'help')
    .version('version', 'show the release, commit and Node version', versionLine())
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      // yargs hands over its own validation failures as a YError or a bare string (a `.check`
      // message); anything else was thrown by a command handler.
      if (err instanceof Error && err.name !== 'YError') throw err;
      // A usage error: one line, and where to look.
      throw new UsageError(`clawstorm: ${msg ?? (err instanceof Error ? err.message : 'usage error')} (see clawstorm ${commandPath(argv)}--help)`);
    });
  for (const c of COMMANDS) cli = cli.command(c);
  return cli;
}

class UsageError extends Error {}

function commandPath(argv: string[]): string {
  const first = argv[0];
  const known = COMMANDS.some((c) => typeof c.command === 'string' && c.command.split(' ')[0] === first);
  return known ? `${first} ` : '';
}

export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  try {
    await buildCli(argv).parseAsync();
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (err) {
    if (err instanceof UsageError) {
      say(err.message);
      return EXIT.usage;
    }
    say(`clawstorm: ${errorLine(err)}`);
    return exitCodeFor(err);
  }
}

if (import.meta.main) {
  // `clawstorm testbed list | head -1`: a closed pipe is not an error worth a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const code = await main();
  process.exitCode = code;
}
