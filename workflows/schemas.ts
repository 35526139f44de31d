// Loaded through `loadSchemas` only, never imported statically from workflows/ (see validate-input.ts).
export { ApprovePayload, RejectPayload } from '../src/contracts/approval';
export { TaskSubmission } from '../src/contracts/task-input';
