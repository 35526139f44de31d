import type { Surreal } from 'surrealdb';

/** What the registry asks of SurrealDB: queries, each counted by the store (see RegistryStore.queries). */
export type Queries = Pick<Surreal, 'query'>;
