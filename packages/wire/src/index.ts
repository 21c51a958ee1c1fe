export * from './error.js';
export * from './address.js';
