export * from '../src/contracts/messages';
export * from './agent-lifecycle';
export * from './agent-pool';
export * from './feature';
export * from './stack-check';
export * from './task';
export * from './task-dispatcher';
