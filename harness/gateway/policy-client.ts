// STUB: to be implemented (see docs/ARCHITECTURE.md); replaced before this lands.
import type { BaseContext, PolicyClient } from './context.ts';
export function createPolicyClient(_ctx: BaseContext): PolicyClient {
  return { evaluate: async () => ({ allow: false, reason: 'stub', error: true }) };
}
