import { errnoName, libraryHint, permissionHint } from '@ersatz/os';

export { CAP_NET_RAW_HINT, errnoName } from '@ersatz/os';

/**
 * The transmit worker's one error class: a packet socket or pcap handle that could not be opened, or sends the
 * kernel refuses.
 * `code` is the errno name (`EPERM`, `ENODEV`, `ENETDOWN`, `ENXIO`, `EMSGSIZE`, ...), `errno` its number when a
 * system call gave one, `operation` the call (`socket`, `bind`, `sendmmsg`, ...). Crosses threads as
 * `{ name, message, code, errno, ifname, operation }` and is rebuilt with `TransmitError.fromWire`.
 */
export class TransmitError extends Error {
  override name = 'TransmitError';
  /** Its message is written for the user (what went wrong, what to do): the CLI prints it as one line, exit 2. */
  get userFacing(): true {
    return true;
  }
  constructor(
    readonly code: string,
    readonly ifname: string,
    readonly operation: string,
    readonly errno = 0,
  ) {
    super(transmitMessage(code, ifname, operation));
  }

  /** An error for a failed system call, from its errno. */
  static fromErrno(errno: number, ifname: string, operation: string): TransmitError {
    return new TransmitError(errnoName(errno), ifname, operation, errno);
  }

  toWire(): TransmitErrorWire {
    return { name: 'TransmitError', message: this.message, code: this.code, errno: this.errno, ifname: this.ifname, operation: this.operation };
  }

  /** Rebuilds a TransmitError from what crossed the thread boundary; returns anything else unchanged. */
  static fromWire(value: unknown): unknown {
    if (isWire(value)) return new TransmitError(value.code, value.ifname, value.operation, value.errno);
    return value;
  }
}

export interface TransmitErrorWire {
  readonly name: 'TransmitError';
  readonly message: string;
  readonly code: string;
  readonly errno: number;
  readonly ifname: string;
  readonly operation: string;
}

function isWire(v: unknown): v is TransmitErrorWire {
  return typeof v === 'object' && v !== null && (v as { name?: unknown }).name === 'TransmitError' && typeof (v as { code?: unknown }).code === 'string';
}

function transmitMessage(code: string, ifname: string, operation: string): string {
  switch (code) {
    case 'EPERM':
    case 'EACCES':
      return `no permission to send raw frames on ${ifname} (${operation}: ${code}): ${permissionHint()}`;
    case 'ENODEV':
    case 'ENXIO':
      return `cannot send on ${ifname}: the interface does not exist (any more) (${operation}: ${code}); list them with 'ip link'`;
    case 'ENETDOWN':
      return `cannot send on ${ifname}: it is down (${operation}: ENETDOWN); bring it up (ip link set ${ifname} up)`;
    case 'EMSGSIZE':
      return `cannot send on ${ifname}: frame longer than the interface's MTU allows (${operation}: EMSGSIZE)`;
    case 'EINVAL':
      return `cannot send on ${ifname}: ${operation} was refused (EINVAL)`;
    case 'ELIBACC':
      return `cannot send on ${ifname}: libpcap is not installed (${operation}): ${libraryHint()}`;
    default:
      return `sending on ${ifname} failed (${operation}: ${code})`;
  }
}
