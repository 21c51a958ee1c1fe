/** Base of every error this package throws: catch `WireError` to catch them all. Facts live in fields. */
export class WireError extends Error {
  override name = 'WireError';
}

/** Input shorter than the layer needs: `arp: need 28 bytes, have 20`. */
export class TruncatedError extends WireError {
  override name = 'TruncatedError';
  constructor(
    readonly layer: string,
    readonly need: number,
    readonly have: number,
  ) {
    super(`${layer}: need ${need} bytes, have ${have}`);
  }
}

/** A field holds a value this codec does not handle: `arp: unsupported htype 6`. */
export class UnsupportedError extends WireError {
  override name = 'UnsupportedError';
  constructor(
    readonly layer: string,
    readonly field: string,
    readonly value: number | string,
  ) {
    super(`${layer}: unsupported ${field} ${typeof value === 'number' ? value : JSON.stringify(value)}`);
  }
}

/** A field is well-formed in size but wrong in value (bad checksum, hlen that disagrees with htype, ...). */
export class MalformedError extends WireError {
  override name = 'MalformedError';
  constructor(
    readonly layer: string,
    readonly reason: string,
  ) {
    super(`${layer}: ${reason}`);
  }
}

/** Text that does not parse as the address or range it should be: `invalid IPv4 address "10.0.0.300"`. */
export class AddressParseError extends WireError {
  override name = 'AddressParseError';
  constructor(
    readonly kind: string,
    readonly input: string,
    readonly reason?: string,
  ) {
    super(`invalid ${kind} ${JSON.stringify(input)}${reason ? `: ${reason}` : ''}`);
  }
}
