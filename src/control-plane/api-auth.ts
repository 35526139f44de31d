import { createHmac } from 'node:crypto';
import { ensureAgentTokenKey, ensureOperatorToken, sameToken } from '../state-secrets';

/** Who a request comes from: the operator, one agent, or (in Kubernetes, where a pod learns its agent id late) any agent of one pool. */
export type Identity = { kind: 'operator' } | { kind: 'agent'; agentId: string } | { kind: 'pool'; manifestId: string };

const AGENT = 'vag_';
const POOL = 'vpl_';

/**
 * Bearer tokens for the control plane's API: the operator's (a secret in the
 * state directory) and one per agent, derived from the plane's own key
 * (`vag_<agentId>.<HMAC>`), so nothing is stored per agent and every control
 * plane with the key checks them alike. Agents get theirs at deploy, in their
 * environment; pods get their pool's from a Kubernetes Secret.
 */
export class ApiAuth {
  constructor(
    private readonly operatorToken: string,
    private readonly key: string,
  ) {}

  /** The stack's own: the operator's token and the agents' key, from (or made in) its state directory. */
  static of(stateDir: string): ApiAuth {
    return new ApiAuth(ensureOperatorToken(stateDir).token, ensureAgentTokenKey(stateDir));
  }

  agentToken(agentId: string): string {
    return `${AGENT}${agentId}.${this.sign(`agent:${agentId}`)}`;
  }

  /** The path token of the codec endpoint the Web UI decodes payloads through (see src/temporal/codec-server.ts). */
  codecToken(): string {
    return this.sign('codec');
  }

  poolToken(manifestId: string): string {
    return `${POOL}${manifestId}.${this.sign(`pool:${manifestId}`)}`;
  }

  /** The identity an `Authorization: Bearer …` header proves, if it proves one. */
  identify(authorization: string | undefined): Identity | undefined {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (!token) return undefined;
    if (sameToken(token, this.operatorToken)) return { kind: 'operator' };
    for (const [prefix, kind] of [
      [AGENT, 'agent'],
      [POOL, 'pool'],
    ] as const) {
      if (!token.startsWith(prefix)) continue;
      const dot = token.lastIndexOf('.');
      const id = token.slice(prefix.length, dot);
      if (dot < 0 || !sameToken(token.slice(dot + 1), this.sign(`${kind}:${id}`))) return undefined;
      return kind === 'agent' ? { kind, agentId: id } : { kind, manifestId: id };
    }
    return undefined;
  }

  private sign(subject: string): string {
    return createHmac('sha256', this.key).update(subject).digest('base64url');
  }
}

/** How a record names who wrote it: an agent's id, `pool:<manifest>`, or `operator`. */
export const writerOf = (who: Identity) =>
  who.kind === 'operator' ? 'operator' : who.kind === 'agent' ? who.agentId : `pool:${who.manifestId}`;

/**
 * Whether `who` may write in the name of `writer` (an agent id, or a record's
 * writer): the operator in anyone's; an agent in its own; a pool's token in
 * its pool's and its agents' (`<manifest>-<n>`).
 */
export function mayActAs(who: Identity, writer: string): boolean {
  if (who.kind === 'operator') return true;
  if (who.kind === 'agent') return who.agentId === writer;
  const prefix = `${who.manifestId}-`;
  return (
    writer === `pool:${who.manifestId}` || (writer.startsWith(prefix) && /^\d+$/.test(writer.slice(prefix.length)))
  );
}
