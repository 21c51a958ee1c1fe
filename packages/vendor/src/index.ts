export * from './error.js';
export * from './vendor.js';
