import type { Connection } from '@temporalio/client';
// A CommonJS module: its namespaces are reachable only through the default export under ESM.
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from './search-attributes';

const { IndexedValueType } = proto.temporal.api.enums.v1;

const INDEXED_TYPE = {
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  DOUBLE: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
} as const;

/** Registers Vapora's search attributes in `namespace`; already registered ones are left as they are. */
export async function registerSearchAttributes(
  connection: Pick<Connection, 'operatorService'>,
  namespace: string,
): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = SEARCH_ATTRIBUTES.filter((key) => !known.has(key.name));
  if (missing.length === 0) return [];
  const searchAttributes = Object.fromEntries(missing.map((key) => [key.name, INDEXED_TYPE[key.type]]));
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  return missing.map((key) => key.name);
}
