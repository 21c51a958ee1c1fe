export * from './error.js';
export * from './format.js';
export * from './progress.js';
