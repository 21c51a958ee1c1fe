export * from './constants.js';
export * from './error.js';
export * from './message.js';
export * from './rtnl.js';
export * from './socket.js';
export * from './discovery.js';
export * from './neighbour.js';
export * from './neigh-state.js';
