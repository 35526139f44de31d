import type { KubeConfig, RequestContext } from '@kubernetes/client-node';

/**
 * @kubernetes/client-node 2.0.1 gives every request a new undici Agent, so
 * every request opens (and hands the API server) its own TLS handshake: a
 * pool scaled to 1000 made thousands. One Agent per KubeConfig keeps the
 * connections alive between requests.
 */
export function keepConnections(kc: KubeConfig): KubeConfig {
  const authenticate = kc.applySecurityAuthentication.bind(kc);
  let shared: ReturnType<RequestContext['getDispatcher']>;
  kc.applySecurityAuthentication = async (context: RequestContext) => {
    await authenticate(context);
    shared ??= context.getDispatcher();
    if (shared) context.setDispatcher(shared);
  };
  return kc;
}
