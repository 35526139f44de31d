import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
  fromSeed,
  type KeyPair,
  type Permissions,
} from '@nats-io/jwt';
import { SELF_SENT, SUBJECTS, TASK_STREAM } from '../domain';

/** Who connects to NATS, and so what it may publish and hear. */
export type NatsIdentity =
  { kind: 'control-plane' } | { kind: 'cli' } | { kind: 'agent'; agentId: string; decides: boolean };

/** Each connection's replies come back under its own prefix (its user's name), so no one hears another's. */
export const inboxPrefix = (userName: string) => `_INBOX_${userName}`;

const nameOf = (who: NatsIdentity) => (who.kind === 'agent' ? `agent-${who.agentId}` : who.kind);

/**
 * What each identity may do. The control plane: everything (it publishes the
 * task events, decisions and status). The CLI: read everything, manage its
 * own stream readers, and ask for help or decisions. An agent: publish only
 * in its own name (subjects ending in its id), ask for help, hear help
 * requests, and (the DecisionMaker only) hear and answer decisions.
 */
export function permissionsOf(who: NatsIdentity): Partial<Permissions> {
  const inbox = `${inboxPrefix(nameOf(who))}.>`;
  switch (who.kind) {
    case 'control-plane':
      return { pub: { allow: ['>'] }, sub: { allow: ['>'] } };
    case 'cli':
      return {
        pub: {
          allow: [
            // Reading the task stream through consumers of its own; the streams it may not change.
            ...['INFO', 'STREAM.INFO.>', 'CONSUMER.CREATE.>', 'CONSUMER.INFO.>', 'CONSUMER.MSG.NEXT.>'].map(
              (api) => `$JS.API.${api}`,
            ),
            `$JS.API.CONSUMER.DELETE.${TASK_STREAM.name}.*`,
            SUBJECTS.RequestHelp,
            SUBJECTS.RequestDecision,
          ],
        },
        sub: { allow: ['vapora.>', inbox] },
      };
    case 'agent':
      return {
        pub: {
          allow: [...SELF_SENT.map((type) => `${SUBJECTS[type]}.${who.agentId}`), SUBJECTS.RequestHelp],
        },
        sub: {
          allow: [
            SUBJECTS.RequestHelp,
            `${SUBJECTS.HelpOffered}.*`,
            inbox,
            ...(who.decides ? [SUBJECTS.RequestDecision] : []),
          ],
        },
        // Answers go to the asker's inbox: only to what this agent heard, once.
        ...(who.decides && { resp: { max: 1, ttl: 0 } }),
      };
  }
}

/**
 * The stack's NATS keys, made at the first `vapora up` and kept in the state
 * directory (mode 0600): an operator, the system account, and the account
 * Vapora's connections live in, whose key signs each process's credentials
 * (a user JWT with its permissions, checked by nats-server without a reload,
 * so agents deployed later get theirs at deploy).
 */
export class NatsKeys {
  private constructor(
    private readonly dir: string,
    private readonly operator: KeyPair,
    private readonly account: KeyPair,
    private readonly system: KeyPair,
  ) {}

  static dirOf(stateDir: string): string {
    return join(stateDir, 'nats-auth');
  }

  /** The keys in `stateDir`, made there when missing. */
  static ensure(stateDir: string): NatsKeys {
    const dir = NatsKeys.dirOf(stateDir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const key = (name: string, create: () => KeyPair) => {
      const file = join(dir, `${name}.nk`);
      if (existsSync(file)) return fromSeed(readFileSync(file));
      const pair = create();
      writeFileSync(file, pair.getSeed(), { mode: 0o600 });
      return pair;
    };
    return new NatsKeys(
      dir,
      key('operator', createOperator),
      key('account', createAccount),
      key('system', createAccount),
    );
  }

  /** The keys of a stack whose NATS Vapora started, if `stateDir` holds them. */
  static existing(stateDir: string): NatsKeys | undefined {
    return existsSync(join(NatsKeys.dirOf(stateDir), 'account.nk')) ? NatsKeys.ensure(stateDir) : undefined;
  }

  /** nats-server's configuration (trust the operator, know both accounts: no resolver to run), written beside the keys; returns its path. */
  async serverConfig(): Promise<string> {
    const jetstream = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };
    const unlimited = {
      subs: -1,
      data: -1,
      payload: -1,
      imports: -1,
      exports: -1,
      wildcards: true,
      conn: -1,
      leaf: -1,
    };
    const signer = { signer: this.operator };
    const [operator, account, system] = await Promise.all([
      encodeOperator('vapora', this.operator, { system_account: this.system.getPublicKey() }),
      encodeAccount('vapora', this.account, { limits: { ...unlimited, ...jetstream } }, signer),
      encodeAccount('system', this.system, { limits: unlimited }, signer),
    ]);
    const file = join(this.dir, 'server.conf');
    const lines = [
      `operator: ${operator}`,
      `system_account: ${this.system.getPublicKey()}`,
      'resolver: MEMORY',
      'resolver_preload: {',
      `  ${this.account.getPublicKey()}: ${account}`,
      `  ${this.system.getPublicKey()}: ${system}`,
      '}',
    ];
    writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
    return file;
  }

  /** Writes a credentials file for `who` (a fresh user key, its JWT signed by the account), mode 0600; returns its path. */
  async issue(who: NatsIdentity): Promise<string> {
    const user = createUser();
    const jwt = await encodeUser(nameOf(who), user, this.account, permissionsOf(who));
    const dir = who.kind === 'agent' ? join(this.dir, 'agents') : this.dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${nameOf(who)}.creds`);
    writeFileSync(file, fmtCreds(jwt, user), { mode: 0o600 });
    chmodSync(file, 0o600);
    return file;
  }
}
