// comlink's Node adapter ships no types that resolve under NodeNext.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  export default function nodeEndpoint(nep: import('node:worker_threads').MessagePort | import('node:worker_threads').Worker): Endpoint;
}
