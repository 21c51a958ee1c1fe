// @ersatz/bench as a library: the scenario interface and the harness's pure parts (argument parsing, statistics,
// the table, tcpdump parsing), for scenario authors and tests. The harness itself is dist/main.js.
export type { BenchContext, Measurement, PeerFigure, PlotPoint, Scenario } from './types.js';
export { parseBenchArgs, USAGE, type BenchArgs } from './args.js';
export { median, quantile, summarize, trend, type Summary } from './stats.js';
export { fmt, jsonRows, ratio, renderTable, verdict, withSpread, type JsonRow } from './table.js';
export { parseTcpdump, wireRtts, type WireArp } from './capture.js';
export { ARPING_OFFSET_US, arpingRttsUs, parseArpScan, parseTimeline, type ArpScanRun } from './parse.js';
export { latencyPoints, scanPoints, type LatencyPoint, type ScanPoint } from './chart.js';
export { BenchError, BenchUsageError, NotMeasuredError, ToolError, reason } from './error.js';
export { Series, judge } from './measure.js';
export { buildArpPeer } from './peers.js';
export { CPU_GROUPS, cpuByGroup, parseSchedstat, readThreadCpu, type CpuGroup, type ThreadCpu } from './thread-cpu.js';
