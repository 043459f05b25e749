// Shared by the scenario-file tests: parse a changed copy of a valid scenario and return what the
// loader says is wrong with it.
import { expect } from 'vitest';
import YAML from 'yaml';
import { parseScenario } from '../../../src/config/scenario.ts';
import { ProfileError } from '../../../src/config/errors.ts';

/** Problems of `base` changed by `edit`, parsed as `file`; throws when the loader accepts it. */
export function scenarioProblems(base: object, file: string, edit: (doc: Record<string, unknown>) => void): string[] {
  const doc = structuredClone(base) as Record<string, unknown>;
  edit(doc);
  try {
    parseScenario(YAML.stringify(doc), file);
  } catch (err) {
    expect(err).toBeInstanceOf(ProfileError);
    return (err as ProfileError).problems;
  }
  throw new Error('expected the scenario to be rejected');
}
