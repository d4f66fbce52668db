/** What `faasbench run` takes and gives back, shared by the frameworks run and the fleet experiments. */
import type { CallerResult } from '../caller/index.js';
import type { Cell, ExperimentConfig } from './config.js';
import type { RunMetadata } from './metadata.js';

export interface RunOptions {
  config: ExperimentConfig;
  /** Directory for records and run.json; created if missing. */
  out: string;
  /** Gzip every record file (*.ndjson.gz). */
  compress?: boolean;
  /** Aim at gateways already running there (framework i on ports.gateway + i) instead of starting any; several hosts separated by commas. */
  gatewayHost?: string;
  /** Wall-clock start of the first cell (ms since the epoch), so that callers on several hosts start together. */
  startAt?: number;
  signal?: AbortSignal;
  /** One line per event worth telling a person (cell done, process started). */
  onProgress?: (line: string) => void;
}

export interface CellResult {
  cell: Cell;
  result: CallerResult;
}

export interface RunOutcome {
  out: string;
  metadata: RunMetadata;
  cells: CellResult[];
  interrupted: boolean;
}
