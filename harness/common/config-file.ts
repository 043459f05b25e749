import fs from 'node:fs';
import type { z } from 'zod';

/** Every harness process is started as `main.ts --config FILE`; the file is validated here. */
export function loadConfigFile<S extends z.ZodType>(schema: S, argv: string[] = process.argv.slice(2)): z.output<S> {
  const i = argv.indexOf('--config');
  const file = i >= 0 ? argv[i + 1] : undefined;
  if (file === undefined) {
    console.error('usage: main.ts --config FILE');
    process.exit(2);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    console.error(`${file}: cannot read JSON config: ${(err as Error).message}`);
    process.exit(2);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      console.error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    process.exit(2);
  }
  return parsed.data;
}
