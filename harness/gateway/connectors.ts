// STUB: to be implemented (see docs/ARCHITECTURE.md); replaced before this lands.
import type { BaseContext, ConnectorClient } from './context.ts';
export function createConnectorClient(_ctx: BaseContext): ConnectorClient {
  return { read: async () => { throw new Error('stub'); } };
}
