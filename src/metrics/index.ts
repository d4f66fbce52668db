export { GATEWAY_STAGES, GatewayMetrics, type GatewayGauges, type GatewayObservation } from './gateway-metrics.js';
export { WORKER_STAGES, WorkerMetrics } from './worker-metrics.js';
export { startMetricsServer, type MetricsServer } from './server.js';
