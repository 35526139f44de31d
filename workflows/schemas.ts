// Loaded through `loadSchemas` only, never imported statically from workflows/ (see validate-input.ts).
export { ApprovePayload, RejectPayload } from '../src/work/approval';
export { TaskSubmission } from '../src/work/task-input';
