// An internal error's stack trace (exit 70) names our sources, not the bundles: each `file:line:column` in a file
// with a source map beside it (`dist/*.js.map`, written by scripts/bundle.mjs) becomes the source's. The maps are
// read only here, when such an error is reported: Node's own support (process.setSourceMapsEnabled at start) reads
// and indexes the map of every file loaded, ~12 ms of every cold start (measured), for a trace almost never printed.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A `path:line:column` or `file:///url:line:column` in a stack frame. */
const POSITION = /((?:file:\/\/)?\/[^\s():]+\.[cm]?js):(\d+):(\d+)/g;

/** `stack` with every position that has a source map replaced by its source's path, line and column. */
export function mapStack(stack: string): string {
  const maps = new Map<string, { map: SourceMap; url: URL } | null>();
  return stack.replace(POSITION, (position: string, file: string, line: string, column: string) => {
    const path = file.startsWith('file:') ? fileURLToPath(file) : file;
    if (!maps.has(path)) maps.set(path, load(path));
    const found = maps.get(path);
    const entry = found?.map.findEntry(Number(line) - 1, Number(column) - 1);
    if (!found || !entry || !('originalSource' in entry)) return position;
    return `${fileURLToPath(new URL(entry.originalSource, found.url))}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}

function load(path: string): { map: SourceMap; url: URL } | null {
  const file = `${path}.map`;
  try {
    if (!existsSync(file)) return null;
    return { map: new SourceMap(JSON.parse(readFileSync(file, 'utf8')) as SourceMapPayload), url: pathToFileURL(file) };
  } catch {
    return null; // an unreadable map leaves the frame as it was: the trace matters more than its polish
  }
}
