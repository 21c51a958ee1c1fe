import { hex16 } from './format.js';

/** Base of every error this package throws: catch `WireError` to catch them all. Facts live in fields. */
export class WireError extends Error {
  override name = 'WireError';
  readonly code: string = 'ERSATZ_WIRE';
  /** Its message is written for the user (what went wrong, what to do): the CLI prints it as one line, exit 2. */
  get userFacing(): true {
    return true;
  }
}

/**
 * Input shorter than the layer needs: `arp: need 28 bytes, have 20`, and with `field` the first field that ran out:
 * `arp: need 28 bytes, have 20 (target hardware address cut short)`.
 */
export class TruncatedError extends WireError {
  override name = 'TruncatedError';
  override readonly code = 'ERSATZ_TRUNCATED';
  constructor(
    readonly layer: string,
    readonly need: number,
    readonly have: number,
    readonly field?: string,
  ) {
    super(`${layer}: need ${need} bytes, have ${have}${field === undefined ? '' : ` (${field} cut short)`}`);
  }
}

/** A field holds a value this codec does not handle: `arp: unsupported htype 6`. */
export class UnsupportedError extends WireError {
  override name = 'UnsupportedError';
  override readonly code = 'ERSATZ_UNSUPPORTED';
  constructor(
    readonly layer: string,
    readonly field: string,
    readonly value: number | string,
  ) {
    super(`${layer}: unsupported ${field} ${typeof value === 'number' ? formatNumber(field, value) : JSON.stringify(value)}`);
  }
}

/**
 * A field is well-formed in size but wrong in value (bad checksum, hlen that disagrees with htype, ...).
 * The subclasses below carry the numbers; catch `MalformedError` for the whole family.
 */
export class MalformedError extends WireError {
  override name = 'MalformedError';
  override readonly code: string = 'ERSATZ_MALFORMED';
  constructor(
    readonly layer: string,
    readonly reason: string,
  ) {
    super(`${layer}: ${reason}`);
  }
}

/** A field value no valid packet can hold: `ethernet: invalid type/length 1510 (a length is ≤ 1500, an EtherType ≥ 1536)`. */
export class InvalidFieldError extends MalformedError {
  override name = 'InvalidFieldError';
  override readonly code = 'ERSATZ_INVALID_FIELD';
  constructor(
    layer: string,
    readonly field: string,
    readonly value: number,
    readonly rule: string,
  ) {
    super(layer, `invalid ${field} ${value} (${rule})`);
  }
}

/**
 * One field contradicts another: `arp: hlen 8 disagrees with htype 1 (which needs hlen 6)`.
 * The codec reports it instead of trusting either number.
 */
export class FieldMismatchError extends MalformedError {
  override name = 'FieldMismatchError';
  override readonly code = 'ERSATZ_FIELD_MISMATCH';
  constructor(
    layer: string,
    readonly field: string,
    readonly value: number,
    readonly otherField: string,
    readonly otherValue: number,
    readonly expected: number,
  ) {
    super(layer, `${field} ${value} disagrees with ${otherField} ${formatNumber(otherField, otherValue)} (which needs ${field} ${expected})`);
  }
}

/** A checksum that does not verify: `ipv4: bad checksum 0x1234, computed 0xabcd`. */
export class ChecksumError extends MalformedError {
  override name = 'ChecksumError';
  override readonly code = 'ERSATZ_CHECKSUM';
  constructor(
    layer: string,
    /** The value in the packet. */
    readonly found: number,
    /** The value the packet should carry. */
    readonly computed: number,
  ) {
    super(layer, `bad checksum ${hex16(found)}, computed ${hex16(computed)}`);
  }
}

/** Text that does not parse as the address or range it should be: `invalid IPv4 address "10.0.0.300"`. */
export class AddressParseError extends WireError {
  override name = 'AddressParseError';
  override readonly code = 'ERSATZ_ADDRESS_PARSE';
  constructor(
    readonly kind: string,
    readonly input: string,
    readonly reason?: string,
  ) {
    super(`invalid ${kind} ${JSON.stringify(input)}${reason ? `: ${reason}` : ''}`);
  }
}

// Protocol types read better in hex (ptype 0x0800, as in RFC 826 and tcpdump), everything else in decimal (htype 1).
const HEX_FIELDS = new Set(['ptype', 'ethertype', 'tpid']);
function formatNumber(field: string, n: number): string {
  return HEX_FIELDS.has(field) ? hex16(n) : String(n);
}
