// The load engine's public surface, for the CLI, scenarios and reports.
export { parseDuration, formatDuration, durationMs } from '../util/duration.ts';
export { LatencyHistogram, mergeEncoded, type LatencyStats } from './histogram.ts';
export {
  SampleSink,
  statusClassOf,
  redactMessage,
  type Sample,
  type SampleTags,
  type StatusClass,
  type SecondBucket,
  type SinkSummary,
  type ScenarioSummary,
  type StepSummary,
  type TagSetSummary,
  type GroupSummary,
  type LatencyFrom,
} from './samples.ts';
export * from './executors/index.ts';
export { GeneratorMonitor, monitorThresholdsSchema, type MonitorThresholds, type MonitorVerdict } from './monitor.ts';
export {
  runEngine,
  scenario,
  type ScenarioExecution,
  type PreparedScenario,
  type EngineOptions,
  type EngineProgress,
  type EngineResult,
  type ScenarioOutcome,
  type ScenarioProgressLine,
} from './engine.ts';
export { HttpDriver, HttpJourney, RequestAbortedByRunError, type HttpDriverOptions, type HttpRequestSpec, type HttpResponse, type JourneyContext } from './drivers/http.ts';
export { runBurst, type BurstOptions, type BurstResult } from './drivers/burst.ts';
export { WsSession, connectWs, WsProtocolError, type WsSessionOptions, type WsCallOptions, type WsCallResult, type WsEvent } from './drivers/ws.ts';
