import type { Ipv4, Mac } from '@ersatz/wire';

/**
 * Answers remembered for `ttlMs` (on the resolver's scheduler clock). Bounded: past `max` entries the least recently
 * stored one goes (a Map iterates in insertion order, so re-inserting on store keeps that order for free).
 */
export class MacCache {
  readonly #entries = new Map<Ipv4, { readonly mac: Mac; readonly expiresAtMs: number }>();

  constructor(
    readonly ttlMs: number,
    readonly max: number,
  ) {}

  /** Returns the remembered MAC, or undefined when there is none or it has expired (expired entries are dropped). */
  get(ip: Ipv4, nowMs: number): Mac | undefined {
    const e = this.#entries.get(ip);
    if (e === undefined) return undefined;
    if (nowMs >= e.expiresAtMs) {
      this.#entries.delete(ip);
      return undefined;
    }
    return e.mac;
  }

  set(ip: Ipv4, mac: Mac, nowMs: number): void {
    if (this.ttlMs <= 0) return;
    this.#entries.delete(ip);
    this.#entries.set(ip, { mac, expiresAtMs: nowMs + this.ttlMs });
    if (this.#entries.size > this.max) this.#entries.delete(this.#entries.keys().next().value!);
  }

  delete(ip: Ipv4): boolean {
    return this.#entries.delete(ip);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
