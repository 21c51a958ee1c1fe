export type { ArpLink, ArpObservation } from './link.js';
export { ResolveError, ResolveTimeoutError, NeighborTimeoutError, AddressConflictError, OptionError, ForeignSenderError, CONFLICT_CAUSES } from './error.js';
export { judgeAnswer, describeRejection, type AnswerRules, type Rejection, type Verdict } from './answer.js';
export { Resolver, createResolver, isAnswer, type QueryOptions, type ResolverOptions, type ResolveResult } from './resolver.js';
export { scan$ } from './scan.js';
export type { ScanOptions, ScanEvent, ScanHostEvent, ScanProgressEvent, ScanSummary } from './scan-types.js';
export {
  arping$,
  arpingProbe,
  arpingSource,
  type ArpingMode,
  type ArpingOptions,
  type ArpingEvent,
  type ArpingSentEvent,
  type ArpingReplyEvent,
  type ArpingSummary,
} from './arping.js';
export { claim$, claimProbe, claimAnnouncement, claimConflict, Rfc5227, type ClaimOptions, type ClaimEvent, type ClaimConflictEvent } from './claim.js';
export { RttAccumulator, type RttStats } from './stats.js';
export { MacCache } from './cache.js';
export { ChurnMap } from './churn-map.js';
export { requestFrame, arpFrame, checkSender, type SenderLink } from './frames.js';
export {
  ping$,
  type IcmpLink,
  type PingOptions,
  type PingEvent,
  type PingResolvedEvent,
  type PingSentEvent,
  type PingReplyEvent,
  type PingSummary,
} from './ping.js';
// The decode worker's type, so the pipeline's events reach ping$ as they are (no second shape to keep in step).
export type { IcmpObservation, NdpObservation } from '@ersatz/decode-worker';
export { solicit$, dad$, unsolicitedAdvertisement, ndpFrame, type NdpLink, type SolicitOptions, type NeighborAnswer, type DadOptions, type DadResult } from './ndp.js';
