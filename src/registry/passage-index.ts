import type { Surreal } from 'surrealdb';

/**
 * Full-text retrieval over what agents produce: artifacts and shared
 * knowledge are cut into passages as they are written and indexed with BM25
 * (SurrealDB's analyzer and full-text index: offline, no model needed).
 *
 * `term` keeps each analyzed word's document frequency, written in the same
 * transaction as the passages, so a search can leave out the words too common
 * to rank by (Elasticsearch's common-terms cutoff): BM25 scores every passage
 * a searched word matches, and one word found in thousands of passages would
 * cost more than all the rest while moving the ranking least.
 */
export const PASSAGE_SCHEMA = `
DEFINE ANALYZER IF NOT EXISTS vapora_text TOKENIZERS class FILTERS lowercase, ascii, snowball(english);
DEFINE TABLE IF NOT EXISTS passage SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS source ON passage TYPE string;
DEFINE FIELD IF NOT EXISTS kind ON passage TYPE string;
DEFINE FIELD IF NOT EXISTS title ON passage TYPE string;
DEFINE FIELD IF NOT EXISTS text ON passage TYPE string;
DEFINE FIELD IF NOT EXISTS feature_id ON passage TYPE option<string>;
DEFINE FIELD IF NOT EXISTS author ON passage TYPE option<string>;
DEFINE FIELD IF NOT EXISTS expires_at ON passage TYPE option<string>;
DEFINE INDEX IF NOT EXISTS passage_source ON passage FIELDS source;
DEFINE INDEX IF NOT EXISTS passage_feature ON passage FIELDS feature_id;
DEFINE INDEX IF NOT EXISTS passage_text ON passage FIELDS text FULLTEXT ANALYZER vapora_text BM25;
DEFINE TABLE IF NOT EXISTS term SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS df ON term TYPE int;
IF !(SELECT VALUE id FROM term LIMIT 1) { ${countTerms('(SELECT VALUE text FROM passage)', 1)} };
`;

/** Adds `sign` to the document frequency of every word of the passage texts `texts` (a SurrealQL expression). */
function countTerms(texts: string, sign: 1 | -1): string {
  return `INSERT INTO term array::map(array::flatten(array::map(${texts}, |$t| array::distinct(search::analyze('vapora_text', $t)))), |$t| { id: $t, df: ${sign} }) ON DUPLICATE KEY UPDATE df ${sign > 0 ? '+=' : '-='} 1 RETURN NONE`;
}

/** Deletes the passages `where` selects, and their words' counts. */
const forget = (where: string) =>
  `LET $gone = SELECT VALUE text FROM passage WHERE ${where}; ${countTerms('$gone', -1)}; DELETE passage WHERE ${where};`;

/**
 * How many passage matches a search may score: the rarest words of a query
 * are kept while their document frequencies add up to no more than this
 * (the rarest is always kept).
 */
const SCORED_MATCHES = 300;

/** Where a passage comes from: an artifact or a knowledge entry, and what a reader needs to cite it. */
export interface PassageSource {
  /** `artifact:<id>` or `knowledge:<key>`. */
  source: string;
  kind: string;
  title: string;
  feature_id?: string;
  author?: string;
  expires_at?: string;
}

export interface Passage extends PassageSource {
  text: string;
  score: number;
}

/** Passages of about this many characters: a paragraph or a few, enough to answer from. */
const PASSAGE_CHARS = 800;

// Words every question has and no answer is found by.
const STOPWORDS = new Set(
  'a an and are as at be by can do does for from has have how i in is it its of on or the this that to was what when where which who why will with'.split(
    ' ',
  ),
);

/** Cuts text at paragraph boundaries into passages of about PASSAGE_CHARS (a longer paragraph at sentence ends). */
export function passagesOf(text: string): string[] {
  const pieces = text
    .split(/\n\s*\n/)
    .flatMap((p) => (p.length <= PASSAGE_CHARS ? [p] : p.split(/(?<=[.!?])\s+/)))
    .map((p) => p.trim())
    .filter(Boolean);
  const passages: string[] = [];
  let current = '';
  for (const piece of pieces) {
    if (current && current.length + piece.length > PASSAGE_CHARS) {
      passages.push(current);
      current = '';
    }
    current = current ? `${current}\n\n${piece}` : piece.slice(0, PASSAGE_CHARS * 2);
  }
  if (current) passages.push(current);
  return passages;
}

/** The distinct words of a query worth searching for. */
const termsOf = (query: string) => [
  ...new Set(
    query
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter((t) => t.length > 1 && !STOPWORDS.has(t)),
  ),
];

export class PassageIndex {
  constructor(private readonly db: Surreal) {}

  /** Replaces the passages of `source` with those of `text` (none for an empty text). */
  async index(source: PassageSource, text: string): Promise<void> {
    const rows = passagesOf(text).map((passage, i) => ({
      id: `${source.source}#${i}`,
      content: { ...clean(source), text: passage },
    }));
    await this.db
      .query(
        `BEGIN; ${forget('source = $source')}
         FOR $row IN $rows { UPSERT type::record("passage", $row.id) CONTENT $row.content RETURN NONE; };
         ${countTerms('array::map($rows, |$r| $r.content.text)', 1)}; COMMIT;`,
        { source: source.source, rows },
      )
      .collect();
  }

  async remove(source: string): Promise<void> {
    await this.db.query(`BEGIN; ${forget('source = $source')} COMMIT;`, { source }).collect();
  }

  /**
   * The `k` passages that answer `query` best: BM25 over any of its words
   * (`@1,OR@`: the index's own OR, where `@@` would ask for every word), live
   * ones only, optionally within one feature.
   */
  async search(query: { text: string; feature_id?: string; k?: number }, now = new Date()): Promise<Passage[]> {
    const terms = await this.rarest(termsOf(query.text));
    if (!terms.length) return [];
    const scope = query.feature_id ? 'AND feature_id = $feature' : '';
    const [rows] = await this.db
      .query<[Passage[]]>(
        `SELECT source, kind, title, text, feature_id, author, expires_at, search::score(1) AS score FROM passage
         WHERE text @1,OR@ $terms AND (expires_at = NONE OR expires_at > $now) ${scope}
         ORDER BY score DESC LIMIT $k`,
        { terms: terms.join(' '), now: now.toISOString(), feature: query.feature_id, k: query.k ?? 5 },
      )
      .json()
      .collect();
    return rows;
  }

  async purgeExpired(now = new Date()): Promise<void> {
    await this.db
      .query(`BEGIN; ${forget('expires_at != NONE AND expires_at <= $now')} COMMIT;`, { now: now.toISOString() })
      .collect();
  }

  /** The words of `words` worth scoring: found in the index, rarest first, within SCORED_MATCHES. */
  private async rarest(words: string[]): Promise<string[]> {
    if (!words.length) return [];
    const [counts] = await this.db
      .query<[number[]]>(
        "RETURN $words.map(|$w| type::record('term', search::analyze('vapora_text', $w)[0] ?? '').df ?? 0)",
        { words },
      )
      .collect();
    const found = words.map((word, i) => ({ word, df: counts[i] ?? 0 })).filter((t) => t.df > 0);
    found.sort((a, b) => a.df - b.df);
    const kept: string[] = [];
    let matches = 0;
    for (const { word, df } of found) {
      if (kept.length && matches + df > SCORED_MATCHES) break;
      kept.push(word);
      matches += df;
    }
    return kept;
  }
}

/** SurrealDB stores NONE for an absent option, never undefined. */
function clean(source: PassageSource): Record<string, string> {
  return Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined));
}
