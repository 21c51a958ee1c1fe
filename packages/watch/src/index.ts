export { Detector, EVENT_KINDS, type BogonReason, type DetectorOptions, type EventKind, type SeenAs, type Severity, type Sighting, type Station, type Suspect, type Verdict, type WatchEvent, type WatchedInterface } from './detector.js';
export { StationStore, defaultDbPath } from './store.js';
export { SqliteUnavailableError, type SqliteDriver } from './sqlite.js';
export { sightingOf, sightingOfRecord } from './sighting.js';
export { replayRecords, type ReplayCounts } from './replay.js';
