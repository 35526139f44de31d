/**
 * SurrealQL schema, applied idempotently on open. Each table is SCHEMAFULL:
 * typed columns for what is filtered and indexed, and the whole validated
 * record in `doc` (nested arrays of objects cannot be declared field by field).
 */
const TABLES: Record<string, Record<string, string>> = {
  manifest: { role: 'string', version: 'string', name: 'string' },
  manifest_version: { manifest_id: 'string', version: 'string' },
  upgrade: { manifest_id: 'string', outcome: 'string' },
  catalog: { name: 'string' },
  agent: { role: 'string', manifest_id: 'string', status: 'string' },
  instance: { pod_id: 'string' },
  task: { role: 'string', status: 'string', feature_id: 'option<string>', agent_id: 'option<string>' },
  decision: { decision_type: 'string', task_id: 'option<string>', feature_id: 'option<string>' },
  knowledge: { context_type: 'string', from_agent: 'string', expires_at: 'string', scope: 'string' },
  artifact: { kind: 'string', feature_id: 'option<string>', task_id: 'option<string>' },
};

export type Table = keyof typeof TABLES;

export const SCHEMA = Object.entries(TABLES)
  .flatMap(([table, columns]) => [
    `DEFINE TABLE IF NOT EXISTS ${table} SCHEMAFULL;`,
    ...Object.entries(columns).flatMap(([column, type]) => [
      `DEFINE FIELD IF NOT EXISTS ${column} ON ${table} TYPE ${type};`,
      `DEFINE INDEX IF NOT EXISTS ${table}_${column} ON ${table} FIELDS ${column};`,
    ]),
    `DEFINE FIELD IF NOT EXISTS doc ON ${table} TYPE object FLEXIBLE;`,
  ])
  .join('\n');
