// STUB: to be implemented (see docs/ARCHITECTURE.md); replaced before this lands.
import type { AuditWriter, BaseContext } from './context.ts';
export function createAuditWriter(_ctx: BaseContext): AuditWriter {
  return { write: async () => { throw new Error('stub'); } };
}
