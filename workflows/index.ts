export * from './agent-lifecycle';
export * from './agent-pool';
export * from './stack-check';
