export * from './error.js';
export * from './vendor.js';
export * from './user-file.js';
