// Token references of a profile (`{env: NAME}` / `{file: PATH}`) resolved to values. Every value
// is registered with the redactor the moment it is read, so no log line or report carries it.
import fs from 'node:fs';
import { ProfileError } from '../config/errors.ts';
import type { TargetProfile } from '../config/profile.ts';
import { registerSecret } from '../util/redact.ts';

/**
 * Read every token, register it with the redactor, and return name → value. Problems (unset
 * variable, unreadable or empty file) name the file, the field and the variable or path.
 */
export function resolveTokens(p: TargetProfile, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  const problems: string[] = [];
  for (const [name, ref] of Object.entries(p.tokens)) {
    let value: string | undefined;
    if ('env' in ref) {
      value = env[ref.env];
      if (value === undefined || value.trim() === '') problems.push(`${p.file}: tokens.${name}: environment variable ${ref.env} is not set`);
    } else {
      try {
        value = fs.readFileSync(ref.file, 'utf8');
        if (value.trim() === '') problems.push(`${p.file}: tokens.${name}: token file ${ref.file} is empty`);
      } catch (err) {
        problems.push(`${p.file}: tokens.${name}: cannot read token file ${ref.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    if (value !== undefined && value.trim() !== '') {
      registerSecret(value);
      out[name] = value.trim();
    }
  }
  if (problems.length > 0) throw new ProfileError(p.file, problems);
  return out;
}
