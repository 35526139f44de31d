import { ApplicationFailure } from '@temporalio/common';

interface Status {
  code?: number;
  reason?: string;
  message: string;
  /** The object the status is about: absent when the request itself could not be applied. */
  details?: { kind?: string; name?: string };
}

/** What the API server said, from a client-node ApiException (whose body is the Status object, as text or parsed). */
function statusOf(error: unknown): Status {
  const e = error as { code?: unknown; body?: unknown; message?: string };
  const code = typeof e.code === 'number' ? e.code : undefined;
  let body: Partial<Status> = {};
  try {
    body = (typeof e.body === 'string' ? JSON.parse(e.body) : (e.body ?? {})) as typeof body;
  } catch {
    // not a Status object: keep the exception's own message
  }
  return { code, reason: body.reason, details: body.details, message: body.message ?? e.message ?? String(error) };
}

export const isConflict = (error: unknown) => statusOf(error).code === 409;
export const isNotFound = (error: unknown) => statusOf(error).code === 404;
/**
 * A JSON patch that did not apply (its `test` operation failed: the object
 * changed since it was read). The server answers 422 about no object, where a
 * patch that applied but left an invalid object names the object's kind.
 */
export const isPatchNotApplied = (error: unknown) => {
  const { code, details } = statusOf(error);
  return code === 422 && !details?.kind;
};
/** Writing into a namespace that does not exist: 404 about a `namespaces` object, not the one written. */
export const isNamespaceMissing = (error: unknown) => {
  const { code, details } = statusOf(error);
  return code === 404 && details?.kind === 'namespaces';
};

/**
 * Turns an API error into a failure a person can act on. Forbidden,
 * invalid and missing-namespace errors will not fix themselves, so they fail
 * the activity at once; throttling, conflicts, server and network errors are
 * retried by the activity's retry policy.
 */
export function classifyKubernetesError(error: unknown, doing: string): Error {
  const { code, reason, message } = statusOf(error);
  const fail = (type: string, hint: string) =>
    ApplicationFailure.create({ type, message: `${doing}: ${message}${hint}`, nonRetryable: true });
  if (code === 401) return fail('KubernetesUnauthorized', ' (check the kubeconfig credentials)');
  if (code === 403)
    return fail(
      'KubernetesForbidden',
      ' (apply deploy/kubernetes/rbac.yaml for this namespace, or set VAPORA_K8S_NAMESPACE to one Vapora may use)',
    );
  if (isNamespaceMissing(error)) return fail('KubernetesNamespaceMissing', ' (create it, or set VAPORA_K8S_NAMESPACE)');
  if (code === 422 || code === 400) return fail('KubernetesInvalid', '');
  return new Error(`${doing}: ${message}${code ? ` (HTTP ${code}${reason ? ` ${reason}` : ''}; will retry)` : ''}`);
}
