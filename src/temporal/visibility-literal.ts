/** A string as a literal of Temporal's visibility queries: quoted, its backslashes and quotes escaped. */
export const visibilityLiteral = (value: string): string =>
  `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
