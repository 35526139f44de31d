/** The innermost message of a Temporal failure chain: the reason a person needs, not "Workflow Update failed". */
export function failureMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
