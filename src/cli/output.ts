// Where the CLI writes: what a command found goes to stdout (so `> file` keeps it), progress and
// log lines to stderr. Everything passes the redactor on the way out: a secret that slipped into
// an error message or a URL never reaches a terminal or a CI log.
import { redact } from '../util/redact.ts';

export function say(line: string): void {
  process.stderr.write(`${redact(line)}\n`);
}

export function stdout(line: string): void {
  process.stdout.write(`${redact(line)}\n`);
}
