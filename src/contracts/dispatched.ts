/**
 * The task dispatcher's activity says in the memo of each run it starts,
 * under this key, what it did already, so the run does not do it again:
 * it parsed the input, in the worker (its Update validator had checked the
 * submission), and, when it assigned an agent, announced the assignment and
 * recorded the task running. Runs without it do all of that themselves.
 */
export const DISPATCHED_MEMO = 'vapora_dispatched';

export const dispatched = (memo: Record<string, unknown> | undefined) => memo?.[DISPATCHED_MEMO] === true;
