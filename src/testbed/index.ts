export { startTestbed, type StartTestbedOptions, type ProgressEvent } from './up.ts';
export { stopTestbed, stopAllTestbeds, type StopReport } from './down.ts';
export { testbedStatus, type TestbedStatus, type ProcessStatus, type TargetStatus } from './status.ts';
export * from './control.ts';
export { listTestbeds, latestTestbed, stateRoot, resolveStateDir, type TestbedState, type TestbedProcess } from './state.ts';
export { TestbedEndpointsSchema, type TestbedEndpoints, type ProcessRecord } from './types.ts';
