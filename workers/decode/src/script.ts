// The thread's script, beside this module (scripts/bundle.mjs points it at the bundled one). A module of its own
// that loads nothing at run time, so the CLI can start the thread early (prestartThread) without loading the
// rest of the package.
import type { ThreadScript } from '@ersatz/ring';

export const decodeThread = (): ThreadScript => ({ script: new URL('./main.js', import.meta.url), name: 'ersatz-decode' });
