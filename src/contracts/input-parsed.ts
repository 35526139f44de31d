/**
 * A starter that parsed a run's input itself, in the worker, says so in the
 * run's memo under this key, and the run does not parse it again (a local
 * activity, see workflows/validate-input.ts). The task dispatcher does: its
 * Update validator checked the submission before its activity starts the task.
 */
export const INPUT_PARSED_MEMO = 'vapora_input_parsed';
