import { createHmac } from 'node:crypto';
import { PERSON_NAME } from '../contracts/approval';
import { OPERATOR_TOKEN_PREFIX, ensureAgentTokenKey, ensureOperatorToken, sameToken } from '../state-secrets';

/**
 * Who a request comes from: the operator, one agent, (in Kubernetes, where a
 * pod learns its agent id late) any agent of one pool, or a named person.
 */
export type Identity =
  | { kind: 'operator' }
  | { kind: 'agent'; agentId: string }
  | { kind: 'pool'; manifestId: string }
  | { kind: 'person'; name: string };

const AGENT = 'vag_';
const POOL = 'vpl_';
const PERSON = 'vpp_';

/**
 * Bearer tokens for the control plane's API: the operator's (a secret in the
 * state directory) and one per agent, derived from the plane's own key
 * (`vag_<agentId>.<HMAC>`), so nothing is stored per agent and every control
 * plane with the key checks them alike. Agents get theirs at deploy, in their
 * environment; pods get their pool's from a Kubernetes Secret. People get
 * theirs from the operator (`vpp_<name>.<HMAC>`) to sign their approvals.
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

  /** A person's token (`vapora token issue --person <name>`): they sign approvals with it, as themselves. */
  personToken(name: string): string {
    if (!PERSON_NAME.test(name) || name === 'operator') throw new Error(`"${name}" cannot name a person`);
    return `${PERSON}${name}.${this.sign(`person:${name}`)}`;
  }

  /** The token a signer of approvals (`operator`, or a person's name) holds, remade here to check their seals. */
  tokenOf(signer: string): string | undefined {
    if (signer === 'operator') return this.operatorToken;
    return PERSON_NAME.test(signer) ? this.personToken(signer) : undefined;
  }

  /** The identity an `Authorization: Bearer …` header proves, if it proves one. */
  identify(authorization: string | undefined): Identity | undefined {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (!token) return undefined;
    if (sameToken(token, this.operatorToken)) return { kind: 'operator' };
    for (const [prefix, kind] of [
      [AGENT, 'agent'],
      [POOL, 'pool'],
      [PERSON, 'person'],
    ] as const) {
      if (!token.startsWith(prefix)) continue;
      const dot = token.lastIndexOf('.');
      const id = token.slice(prefix.length, dot);
      if (dot < 0 || !sameToken(token.slice(dot + 1), this.sign(`${kind}:${id}`))) return undefined;
      if (kind === 'agent') return { kind, agentId: id };
      return kind === 'pool' ? { kind, manifestId: id } : { kind, name: id };
    }
    return undefined;
  }

  private sign(subject: string): string {
    return createHmac('sha256', this.key).update(subject).digest('base64url');
  }
}

/** How a record names who wrote it: an agent's id, `pool:<manifest>`, `person:<name>`, or `operator`. */
export function writerOf(who: Identity): string {
  if (who.kind === 'operator') return 'operator';
  if (who.kind === 'agent') return who.agentId;
  return who.kind === 'pool' ? `pool:${who.manifestId}` : `person:${who.name}`;
}

/**
 * Who signs approvals with `token`, as its holder can tell without the
 * plane's key: `operator`, a person's name, or nobody (an agent's or a pool's
 * token does not approve). The plane checks the claim (see approval-seal.ts).
 */
export function signerOf(token: string): string | undefined {
  if (token.startsWith(OPERATOR_TOKEN_PREFIX)) return 'operator';
  const dot = token.lastIndexOf('.');
  return token.startsWith(PERSON) && dot > PERSON.length ? token.slice(PERSON.length, dot) : undefined;
}

/**
 * Whether `who` may write in the name of `writer` (an agent id, or a record's
 * writer): the operator in anyone's; an agent in its own; a pool's token in
 * its pool's and its agents' (`<manifest>-<n>`); a person in their own only,
 * never an agent's.
 */
export function mayActAs(who: Identity, writer: string): boolean {
  if (who.kind === 'operator') return true;
  if (who.kind === 'agent') return who.agentId === writer;
  if (who.kind === 'person') return writer === writerOf(who);
  const prefix = `${who.manifestId}-`;
  return (
    writer === `pool:${who.manifestId}` || (writer.startsWith(prefix) && /^\d+$/.test(writer.slice(prefix.length)))
  );
}
