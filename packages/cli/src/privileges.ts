// Giving up root once the sockets are open, as iputils arping and arp-scan do: the capture and transmit sockets keep
// working (the kernel checks CAP_NET_RAW when a socket is made, not when it is used), and nothing else in the run
// needs privileges. setuid(2) to another user clears every capability (no PR_SET_KEEPCAPS), in every thread.
import { readFileSync } from 'node:fs';
import { Cap, permits } from '@ersatz/os/cap-set';
import { UsageError } from './exit.js';
import type { Options } from './spec.js';
import { trace } from './verbose.js';

/** The options of every command that opens a link, and of neigh add/del (which keep CAP_NET_ADMIN alone). */
export const PRIVILEGE_OPTIONS = {
  user: {
    type: 'string',
    arg: 'NAME',
    help: 'run as NAME once the sockets are open (root only; default: the user sudo ran ersatz for, from SUDO_UID and SUDO_GID)',
  },
  'no-drop': {
    type: 'boolean',
    default: false,
    help: 'keep root and its capabilities for the whole run (a worker restarted after a crash, or a link reopened, needs them)',
  },
} as const satisfies Options;

/** --user and --no-drop as parsed. */
export interface PrivilegeOptions {
  readonly user?: string | undefined;
  readonly 'no-drop'?: boolean | undefined;
}

/** Who the run becomes once its sockets are open; null: it stays as it is. */
export interface Privileges {
  readonly become: { readonly name: string | null; readonly uid: number; readonly gid: number } | null;
}

/**
 * Decides, before anything is opened, who to become: --user NAME, else sudo's invoking user (SUDO_UID/SUDO_GID, with
 * SUDO_USER's groups); nobody with --no-drop, when not root, or when root was not reached through sudo and no --user
 * was given (root's own run keeps root, as arping's does). Throws UsageError for --user without root or for a name
 * /etc/passwd does not have.
 */
export function privileges(command: string, o: PrivilegeOptions): Privileges {
  const root = process.getuid?.() === 0;
  if (o.user !== undefined && !root) throw new UsageError(`${command}: --user switches from root to another user: run as root (sudo), or leave --user out`);
  if (o['no-drop'] === true || !root) return { become: null };
  const who = o.user !== undefined ? lookUp(command, o.user) : invoker();
  return { become: who === null || who.uid === 0 ? null : who };
}

/**
 * Switches to `p.become`; call it once every socket the run needs is open. Every capability goes with root, except
 * `keep` (capability numbers, `Cap` of @ersatz/os/caps), which this thread keeps for a step still to come (resolve
 * --inject's store needs CAP_NET_ADMIN); the other threads keep none.
 */
export async function giveUpRoot(command: string, p: Privileges, keep: readonly number[] = []): Promise<void> {
  const who = p.become;
  if (who === null) return;
  const caps = keep.length > 0 ? await import('@ersatz/os/caps') : null;
  caps?.keepCapabilitiesAcrossSetuid();
  // The user's own groups, as a login would give them (Node has initgroups(3); @types/node does not declare it).
  const initgroups = (process as { initgroups?: (user: string, extraGroup: number) => void }).initgroups;
  if (who.name !== null && initgroups !== undefined) initgroups(who.name, who.gid);
  else process.setgroups!([who.gid]);
  process.setgid!(who.gid);
  process.setuid!(who.uid);
  caps?.limitCapabilities(keep);
  trace(command, () => `sockets open: now uid ${who.uid}, gid ${who.gid}, ${keep.length > 0 ? `keeping capabilities ${keep.join(', ')} only` : 'no capabilities'}`);
}

/** sudo's invoking user, or null outside sudo. */
function invoker(): Privileges['become'] {
  const { SUDO_UID, SUDO_GID, SUDO_USER } = process.env;
  if (SUDO_UID === undefined || SUDO_GID === undefined || !/^\d+$/.test(SUDO_UID) || !/^\d+$/.test(SUDO_GID)) return null;
  return { name: SUDO_USER || null, uid: Number(SUDO_UID), gid: Number(SUDO_GID) };
}

/** --user: a name in /etc/passwd, or a number (its own group then). */
function lookUp(command: string, user: string): NonNullable<Privileges['become']> {
  if (/^\d+$/.test(user)) return { name: null, uid: Number(user), gid: Number(user) };
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === user && uid !== undefined && gid !== undefined) return { name, uid: Number(uid), gid: Number(gid) };
  }
  throw new UsageError(`${command}: --user: no user named ${JSON.stringify(user)} in /etc/passwd`);
}

/** Whether opening a link failed for want of CAP_NET_RAW (the capture's or the transmit socket's EPERM). */
export function lacksCapNetRaw(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | null;
  return e?.code === 'EPERM' && (e.name === 'CaptureError' || e.name === 'TransmitError');
}

/**
 * --tier: one of `allowed` (the command's tiers; `raw` first). A tier other than raw asks the kernel through
 * rtnetlink, on Linux only. Returns undefined when not given (the command picks). Throws UsageError.
 */
export function tierOption<T extends string>(command: string, text: string | undefined, allowed: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new UsageError(`${command}: --tier takes ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}, not ${JSON.stringify(text)}`);
  }
  if (text !== 'raw' && process.platform !== 'linux') throw new UsageError(`${command}: --tier ${text} reads the kernel's neighbour table through rtnetlink, on Linux only`);
  return text as T;
}

/** Whether a command with no --tier given falls back to the kernel tier: opening raw frames failed for want of CAP_NET_RAW, on Linux. */
export function fallsBackToKernel(err: unknown, tier: string | undefined): boolean {
  return tier === undefined && process.platform === 'linux' && lacksCapNetRaw(err);
}

/**
 * Whether this process cannot open raw frames, known before trying: on Linux, CAP_NET_RAW is not even in its
 * permitted set. Opening a link would then start three threads only to fail (~0.14 s measured). Where that set
 * misleads (a user namespace), this says no and the attempt's EPERM decides (fallsBackToKernel, rawOnly).
 */
export function rawFramesDenied(): boolean {
  return process.platform === 'linux' && permits(Cap.NET_RAW) === false;
}

/** Whether a command with no --tier given goes to the kernel tier without trying raw frames (rawFramesDenied). */
export function kernelForWantOfRaw(tier: string | undefined): boolean {
  return tier === undefined && rawFramesDenied();
}

/**
 * For the commands that only raw frames can do (arping, ping, claim): opening the link without CAP_NET_RAW becomes one
 * line that says so and points at the tiers that need no privilege; any other failure is returned as it is.
 */
export function rawOnly(command: string, err: unknown): unknown {
  if (!lacksCapNetRaw(err)) return err;
  return new UsageError(`${command} sends frames of its own, which needs CAP_NET_RAW (no kernel tier: 'ersatz resolve' and 'ersatz scan' work without it): ${(err as Error).message}`);
}
