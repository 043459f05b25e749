// What a journal records about a target, so a later `clawstorm drill rollback` (another process,
// maybe after a SIGKILL) binds the same target again: a test bed by its state dir, or a profile
// file (whose tokens are read again from env/files — never stored).
import { z } from 'zod';

export const TargetRefSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('testbed'), stateDir: z.string() }),
  z.strictObject({ kind: z.literal('profile'), file: z.string() }),
]);
export type TargetRef = z.infer<typeof TargetRefSchema>;
