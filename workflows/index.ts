export * from './stack-check';
