// The one YAML reader for config files: syntax errors come out as `FILE:LINE:COL` lines.
import YAML from 'yaml';
import { ProfileError } from './errors.ts';

/** YAML text → plain data; syntax errors as `FILE:LINE:COL: invalid YAML: …` lines (exit 2). */
export function parseYamlFile(text: string, file: string): unknown {
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ProfileError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${e.message.split('\n')[0] ?? e.message}`;
      }),
    );
  }
  return doc.toJS() as unknown;
}
