export * from './error.js';
export { LinkType, linkTypeLabel, linkTypeName } from '@ersatz/wire';
export { readPcap, type PcapRecord, type PcapReader, type PcapFormat } from './reader.js';
export { readPcapFile, streamPcapFile, type ReadFileOptions, type PcapStream } from './file.js';
export { PcapWriter, type PcapWriterOptions } from './writer.js';
