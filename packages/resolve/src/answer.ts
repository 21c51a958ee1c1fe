// The one rule for what answers "who has IP?": resolve, scan and arping all judge frames here, each with its own
// documented opt-ins. Every rejection has a name, so a query that times out can say what it ignored and why.
import { ArpOp, Ipv4, Mac } from '@ersatz/wire';
import { onOurVlan } from './frames.js';
import type { ArpLink, ArpObservation } from './link.js';

/** What a caller lets answer besides a plain reply to us. All default false. */
export interface AnswerRules {
  /**
   * A gratuitous ARP from the IP (sender IP = target IP, request or reply, usually broadcast). Off by default:
   * anyone can broadcast one, and RFC 5227 announcements are not answers to our question.
   */
  readonly acceptGratuitous?: boolean;
  /** A reply or request from the IP that is not addressed to us (`ar$tpa`/`ar$tha` not ours, or unicast to another MAC). */
  readonly acceptNotToUs?: boolean;
  /**
   * A frame whose Ethernet source differs from its ARP sender MAC. A stack answers from its own address, so a
   * mismatch is a MAC-NAT bridge (wireless repeaters), a proxy, or a spoofer.
   */
  readonly acceptSourceMismatch?: boolean;
}

/** Why a frame from the IP we asked for did not answer. */
export type Rejection = 'group-sender' | 'source-mismatch' | 'gratuitous' | 'not-to-us' | 'other-operation';

/** `answer`; `unrelated` (not from the IP, our own frame, another VLAN: not worth a mention); or why not. */
export type Verdict = 'answer' | 'unrelated' | Rejection;

/**
 * Judges `obs` as an answer to "who has `ip`? tell `spa`" sent by `link`. The rule, RFC 826 first:
 * - a reply from `ip` to `spa` and our MAC (unicast to us, or broadcast, as some stacks send it) answers;
 * - so does a request from `ip` naming `spa` (unicast to us or broadcast): RFC 826's merge step learns the
 *   sender's mapping from requests too, and Linux's reachability probes are unicast requests with `ar$tha` zero;
 * - never: a group or zero `ar$sha` (it names no host; RFC 1812 §3.3.2), and, unless `rules` let them, a
 *   gratuitous frame, a frame addressed to someone else, an Ethernet source other than `ar$sha`.
 */
export function judgeAnswer(link: ArpLink, ip: Ipv4, spa: Ipv4, rules: AnswerRules, obs: ArpObservation): Verdict {
  const a = obs.arp;
  if (a.senderIp !== ip || obs.ethSrc === link.mac || !onOurVlan(link, obs)) return 'unrelated';
  if (!Mac.isUnicast(a.senderMac)) return 'group-sender';
  if (obs.ethSrc !== a.senderMac && rules.acceptSourceMismatch !== true) return 'source-mismatch';
  if (a.operation !== ArpOp.Reply && a.operation !== ArpOp.Request) return 'other-operation';
  // Sender IP = target IP is gratuitous, unless we asked for our own sender address (a scan over our own subnet):
  // then it is the shape of the answer, a host claiming our address.
  if (a.senderIp === a.targetIp && ip !== spa) return rules.acceptGratuitous === true ? 'answer' : 'gratuitous';
  if (rules.acceptNotToUs === true) return 'answer';
  const toUs = obs.ethDst === link.mac || obs.ethDst === Mac.BROADCAST;
  // A request's ar$tha is the unknown being asked for; a reply's names the asker.
  const namesUs = a.targetIp === spa && (a.operation === ArpOp.Request || a.targetMac === link.mac);
  return toUs && namesUs ? 'answer' : 'not-to-us';
}

/** One line for a rejected frame: `Ethernet source 02:..:66 differs from sender 02:..:05`. */
export function describeRejection(reason: Rejection, obs: ArpObservation): string {
  const a = obs.arp;
  switch (reason) {
    case 'group-sender':
      return `sender MAC ${a.senderMac} is not a host address`;
    case 'source-mismatch':
      return `Ethernet source ${obs.ethSrc} differs from sender ${a.senderMac} (a MAC-NAT bridge, or a spoofer: --accept-source-mismatch, acceptSourceMismatch, takes it)`;
    case 'gratuitous':
      return `gratuitous ARP from ${a.senderMac}, not an answer`;
    case 'not-to-us':
      return `from ${a.senderMac}, addressed to ${Ipv4.format(a.targetIp)} at ${obs.ethDst === Mac.BROADCAST ? a.targetMac : obs.ethDst}, not to us`;
    case 'other-operation':
      return `ARP operation ${a.operation} is neither request nor reply`;
  }
}
