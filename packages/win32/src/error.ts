import { WinError } from './layout.js';

const SYMBOLS = new Map<number, string>(Object.entries(WinError).map(([name, code]) => [code, name]));

/** `ERROR_ACCESS_DENIED` for 5, `error 4242` for a code ersatz has no name for. */
export function winErrorName(code: number): string {
  return SYMBOLS.get(code) ?? `error ${code}`;
}

/** Base of every error this package throws: catch `Win32Error` to catch them all. */
export class Win32Error extends Error {
  override name = 'Win32Error';
  readonly code: string = 'ERSATZ_WIN32';
  /** Its message is written for the user (what went wrong, what to do): the CLI prints it as one line, exit 2. */
  get userFacing(): true {
    return true;
  }
}

/**
 * An IP Helper call answered with a failure code. `subject` says what ersatz was doing
 * (`add neighbour 198.51.100.7 on ifindex 12`), `api` which call failed; the message ends with what to do.
 */
export class IpHelperError extends Win32Error {
  override name = 'IpHelperError';
  /**
   * The winerror.h name of `winError`, e.g. `ERROR_ACCESS_DENIED`: Windows' own names, as errno names are on Linux;
   * `ERSATZ_WIN32` for a code ersatz has no name for.
   */
  override readonly code: string;
  constructor(
    readonly subject: string,
    readonly api: string,
    /** The failure code the call returned (5 for ERROR_ACCESS_DENIED). */
    readonly winError: number,
    readonly hint: string,
  ) {
    super(`${subject}: ${api} failed with ${winErrorName(winError)} (${winError}): ${hint}`);
    this.code = SYMBOLS.get(winError) ?? 'ERSATZ_WIN32';
  }
}

/** ERROR_ACCESS_DENIED: changing the neighbour table needs an elevated (Administrator) process. */
export class AccessDeniedError extends IpHelperError {
  override name = 'AccessDeniedError';
}
/** ERROR_NOT_FOUND / ERROR_FILE_NOT_FOUND: no such neighbour entry or interface. */
export class NotFoundError extends IpHelperError {
  override name = 'NotFoundError';
}
/** ERROR_INVALID_PARAMETER: Windows refused an address, MAC or interface in the request. */
export class InvalidParameterError extends IpHelperError {
  override name = 'InvalidParameterError';
}
/** ERROR_BUFFER_OVERFLOW / ERROR_INSUFFICIENT_BUFFER still after the bounded number of bigger buffers. */
export class BufferTooSmallError extends IpHelperError {
  override name = 'BufferTooSmallError';
}
/** ERROR_BAD_NET_NAME from ResolveIpNetEntry2: the neighbour did not answer ARP. */
export class NoReplyError extends IpHelperError {
  override name = 'NoReplyError';
}
/** ERROR_OBJECT_ALREADY_EXISTS from CreateIpNetEntry2. */
export class AlreadyExistsError extends IpHelperError {
  override name = 'AlreadyExistsError';
}
/** ERROR_NOT_SUPPORTED: no IPv4 stack. */
export class NotSupportedError extends IpHelperError {
  override name = 'NotSupportedError';
}

type Kind = new (subject: string, api: string, code: number, hint: string) => IpHelperError;
const BY_CODE: Record<number, [Kind, string]> = {
  [WinError.ERROR_ACCESS_DENIED]: [AccessDeniedError, 'changing the neighbour table needs Administrator rights: run ersatz from an elevated prompt (Run as administrator)'],
  [WinError.ERROR_NOT_FOUND]: [NotFoundError, 'no such entry or interface: list them with Get-NetNeighbor -AddressFamily IPv4 and Get-NetAdapter'],
  [WinError.ERROR_FILE_NOT_FOUND]: [NotFoundError, 'no such interface: list them with Get-NetAdapter'],
  [WinError.ERROR_INVALID_PARAMETER]: [InvalidParameterError, 'Windows refused the address, MAC or interface: give a unicast IPv4 address, a six-octet MAC and an existing interface'],
  [WinError.ERROR_BUFFER_OVERFLOW]: [BufferTooSmallError, 'the list kept growing while ersatz read it: try again'],
  [WinError.ERROR_INSUFFICIENT_BUFFER]: [BufferTooSmallError, 'the list kept growing while ersatz read it: try again'],
  [WinError.ERROR_BAD_NET_NAME]: [NoReplyError, 'no ARP reply: the neighbour is down or not on that link'],
  [WinError.ERROR_OBJECT_ALREADY_EXISTS]: [AlreadyExistsError, 'an entry for that address already exists on the interface: delete it first'],
  [WinError.ERROR_NOT_SUPPORTED]: [NotSupportedError, 'IPv4 is not enabled on this computer: enable it on the adapter (ncpa.cpl)'],
  [WinError.ERROR_NO_DATA]: [NotFoundError, 'no adapter has an IPv4 address: connect one (ipconfig /all)'],
};

/** Maps a failure code from `api` to the typed error; `hint` replaces the default advice where the caller knows better. */
export function ipHelperError(subject: string, api: string, code: number, hint?: string): IpHelperError {
  const known = BY_CODE[code];
  if (!known) return new IpHelperError(subject, api, code, hint ?? 'unexpected failure: run with the same arguments from an elevated prompt, and report it if it persists');
  return new known[0](subject, api, code, hint ?? known[1]);
}

/** No adapter matches the interface the user named. */
export class InterfaceNotFoundError extends Win32Error {
  override name = 'InterfaceNotFoundError';
  override readonly code = 'ERSATZ_UNKNOWN_INTERFACE';
  constructor(
    readonly ifname: string,
    readonly available: readonly string[],
  ) {
    super(`no IPv4 adapter named ${JSON.stringify(ifname)}: use one of ${available.length ? available.map((a) => JSON.stringify(a)).join(', ') : '(none: connect an adapter)'}`);
  }
}

/** Discovery found no usable interface or address: `reason` says what was missing and what to pass instead. */
export class DiscoveryError extends Win32Error {
  override name = 'DiscoveryError';
  override readonly code: string = 'ERSATZ_DISCOVERY';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** An argument refused before any call: `reason` says which and what to give instead. */
export class ArgumentError extends Win32Error {
  override name = 'ArgumentError';
  override readonly code = 'ERSATZ_INVALID_OPTION';
  constructor(readonly reason: string) {
    super(reason);
  }
}
