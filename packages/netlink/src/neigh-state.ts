// Neighbour (NUD) states by name, as `ip neigh` writes them, and the `nud`-style lists that filter them.
import { Nud } from './constants.js';
import { InvalidNeighbourError } from './error.js';

/** A neighbour state by name; one NUD_* bit each (`none` is 0). */
export type NeighState = 'permanent' | 'reachable' | 'stale' | 'delay' | 'probe' | 'failed' | 'incomplete' | 'noarp' | 'none';
/** The states an entry can be created in. */
export type SettableNeighState = 'permanent' | 'reachable' | 'stale' | 'noarp';

const STATE_BITS: ReadonlyArray<readonly [NeighState, number]> = [
  ['permanent', Nud.PERMANENT],
  ['noarp', Nud.NOARP],
  ['reachable', Nud.REACHABLE],
  ['stale', Nud.STALE],
  ['delay', Nud.DELAY],
  ['probe', Nud.PROBE],
  ['failed', Nud.FAILED],
  ['incomplete', Nud.INCOMPLETE],
];

/** Every state, in `ip neigh`'s words: what `--state all` (`nud all`) names. */
export const NEIGH_STATES: readonly NeighState[] = ['incomplete', 'reachable', 'stale', 'delay', 'probe', 'failed', 'noarp', 'permanent', 'none'];
/** What `ip neigh show` lists without `nud`: every state but noarp and none. */
export const SHOW_STATES: readonly NeighState[] = NEIGH_STATES.filter((s) => s !== 'noarp' && s !== 'none');
/** What `ip neigh flush` deletes without `nud`: every state but permanent and noarp (measured with iproute2 6.1). */
export const FLUSH_STATES: readonly NeighState[] = NEIGH_STATES.filter((s) => s !== 'permanent' && s !== 'noarp');

/**
 * Parses a `nud`-style state list: names joined by commas (`reachable,stale`), case-insensitive, or `all`. For a
 * flush, `all` leaves noarp out, as `ip neigh flush nud all` does (those entries go only when `noarp` is named).
 * Returns the states, each once; throws InvalidNeighbourError naming the word it does not know.
 */
export function parseNeighStates(text: string, purpose: 'show' | 'flush' = 'show'): NeighState[] {
  const out = new Set<NeighState>();
  for (const raw of text.split(',')) {
    const word = raw.trim().toLowerCase();
    if (word === 'all') {
      for (const s of NEIGH_STATES) if (purpose === 'show' || s !== 'noarp') out.add(s);
    } else if ((NEIGH_STATES as readonly string[]).includes(word)) {
      out.add(word as NeighState);
    } else {
      throw new InvalidNeighbourError('state', JSON.stringify(raw), `is not a neighbour state: choose from ${NEIGH_STATES.join(', ')} or all, joined by commas`);
    }
  }
  return [...out];
}

/** The name of a NUD_* state (the kernel sets one bit; should it set several, the first of PERMANENT..INCOMPLETE wins). */
export function stateName(nud: number): NeighState {
  for (const [name, bit] of STATE_BITS) if (nud & bit) return name;
  return 'none';
}

/** The NUD_* bit of a settable state. */
export function stateBit(state: SettableNeighState): number {
  return { permanent: Nud.PERMANENT, reachable: Nud.REACHABLE, stale: Nud.STALE, noarp: Nud.NOARP }[state];
}
