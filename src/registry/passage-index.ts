import type { RecordId } from 'surrealdb';
import type { Queries } from './queries';
import type { Embedder } from '../llm/embedding-model';
import type { Logger } from '../logger';

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
 *
 * With an embedding model configured, each passage also gets a vector in an
 * HNSW index, and a search fuses the two rankings (reciprocal rank fusion):
 * words find the passages that say it, vectors those that mean it.
 * `embedding_model:current` names the model the vectors come from.
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
DEFINE FIELD IF NOT EXISTS embedding ON passage TYPE option<array<float>>;
DEFINE INDEX IF NOT EXISTS passage_source ON passage FIELDS source;
DEFINE INDEX IF NOT EXISTS passage_feature ON passage FIELDS feature_id;
DEFINE INDEX IF NOT EXISTS passage_text ON passage FIELDS text FULLTEXT ANALYZER vapora_text BM25;
DEFINE TABLE IF NOT EXISTS term SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS df ON term TYPE int;
DEFINE TABLE IF NOT EXISTS embedding_model SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS model ON embedding_model TYPE string;
DEFINE FIELD IF NOT EXISTS dimension ON embedding_model TYPE int;
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

/** Each ranking's candidates for fusion, and the HNSW search's breadth (ef). */
const CANDIDATES = 20;
const EF = 64;
/** Reciprocal rank fusion's constant: a passage ranked r contributes 1 / (RRF_K + r). */
const RRF_K = 60;
/** Passages embedded per request when vectors are filled in for passages written without them. */
const EMBED_BATCH = 32;

const FIELDS = 'source, kind, title, text, feature_id, author, expires_at';

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

/** A passage as a ranking returns it: BM25's score, the vector distance, or the fused score. */
type Ranked = PassageSource & { id: string; text: string; score?: number };

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
  /** The HNSW index is set up for the embedder's model, with this dimension. */
  private vectorIndex?: Promise<void>;
  /** The index's writes, one at a time: each updates the shared word counts, which concurrent transactions fight over. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Queries,
    private readonly embedder?: Embedder,
    private readonly log?: Logger,
  ) {}

  /** Replaces the passages of `source` with those of `text` (none for an empty text). */
  async index(source: PassageSource, text: string): Promise<void> {
    const texts = passagesOf(text);
    const vectors = await this.embed(texts, 'passages are stored without vectors until embedMissing');
    const rows = texts.map((passage, i) => ({
      id: `${source.source}#${i}`,
      content: { ...clean(source), text: passage, ...(vectors && { embedding: vectors[i] }) },
    }));
    await this.serially(() =>
      this.db
        .query(
          `BEGIN; ${forget('source = $source')}
           FOR $row IN $rows { UPSERT type::record("passage", $row.id) CONTENT $row.content RETURN NONE; };
           ${countTerms('array::map($rows, |$r| $r.content.text)', 1)}; COMMIT;`,
          { source: source.source, rows },
        )
        .collect(),
    );
  }

  async remove(source: string): Promise<void> {
    await this.serially(() => this.db.query(`BEGIN; ${forget('source = $source')} COMMIT;`, { source }).collect());
  }

  /**
   * The `k` passages that answer `query` best: BM25 over any of its words
   * (`@1,OR@`: the index's own OR, where `@@` would ask for every word), fused
   * with the nearest vectors when there is an embedding model; live ones
   * only, optionally within one feature.
   */
  async search(query: { text: string; feature_id?: string; k?: number }, now = new Date()): Promise<Passage[]> {
    const [terms, vector] = await Promise.all([
      this.rarest(termsOf(query.text)),
      this.embed([query.text], 'searching by words alone').then((v) => v?.[0]),
    ]);
    const alive = '(expires_at = NONE OR expires_at > $now)';
    const byWords = `SELECT id, ${FIELDS}, search::score(1) AS score FROM passage
      WHERE text @1,OR@ $terms AND ${alive} ${query.feature_id ? 'AND feature_id = $feature' : ''}
      ORDER BY score DESC LIMIT $n`;
    // HNSW checks a condition on every candidate it visits (ten times slower here): the nearest of all passages
    // are filtered afterwards, and a feature's few are compared one by one, found through the feature index.
    const byMeaning = query.feature_id
      ? `SELECT id, ${FIELDS}, vector::similarity::cosine(embedding, $vector) AS similarity FROM passage
         WHERE feature_id = $feature AND embedding != NONE AND ${alive} ORDER BY similarity DESC LIMIT $n`
      : `SELECT * FROM (SELECT id, ${FIELDS}, vector::distance::knn() AS distance FROM passage
         WHERE embedding <|${2 * CANDIDATES},${EF}|> $vector) WHERE ${alive} ORDER BY distance LIMIT $n`;
    const k = query.k ?? 5;
    const vars = { terms: terms.join(' '), vector, now: now.toISOString(), feature: query.feature_id };
    const rank = async (sql: string, n: number) =>
      (
        await this.db
          .query<[Ranked[]]>(sql, { ...vars, n })
          .json()
          .collect()
      )[0];
    if (!vector) return terms.length ? (await rank(byWords, k)).map((row) => passage(row, row.score)) : [];
    const rankings = await Promise.all([terms.length ? rank(byWords, CANDIDATES) : [], rank(byMeaning, CANDIDATES)]);
    return fuse(rankings, k);
  }

  /**
   * Gives vectors to the passages that have none: those written while the
   * model failed or before it was configured, or by another model. Returns
   * how many it embedded; throws if the model does.
   */
  async embedMissing(): Promise<number> {
    if (!this.embedder) return 0;
    // One scan for the ids, then batches read by id: a scan per batch would pass the embedded ones again each time.
    const [missing] = await this.db
      .query<[RecordId[]]>('SELECT VALUE id FROM passage WHERE embedding = NONE')
      .collect();
    let embedded = 0;
    for (let start = 0; start < missing.length; start += EMBED_BATCH) {
      const [rows] = await this.db
        .query<[{ id: RecordId; text: string }[]]>(
          'RETURN $ids.map(|$id| { id: $id, text: $id.text }).filter(|$p| $p.text != NONE)',
          {
            ids: missing.slice(start, start + EMBED_BATCH),
          },
        )
        .collect();
      if (!rows.length) continue;
      const vectors = await this.embedder.embed(rows.map((r) => r.text));
      await this.useModel(vectors[0]!.length);
      // A passage rewritten meanwhile keeps the vector of its new text.
      await this.serially(() =>
        this.db
          .query('FOR $r IN $rows { UPDATE $r.id SET embedding = $r.embedding WHERE text = $r.text RETURN NONE; };', {
            rows: rows.map((r, i) => ({ ...r, embedding: vectors[i] })),
          })
          .collect(),
      );
      embedded += rows.length;
    }
    return embedded;
  }

  async purgeExpired(now = new Date()): Promise<void> {
    await this.serially(() =>
      this.db
        .query(`BEGIN; ${forget('expires_at != NONE AND expires_at <= $now')} COMMIT;`, { now: now.toISOString() })
        .collect(),
    );
  }

  /** Runs `write` after the writes before it (whatever became of them). */
  private serially<T>(write: () => Promise<T>): Promise<T> {
    const next = this.writes.then(write, write);
    this.writes = next.catch(() => undefined);
    return next;
  }

  /** Vectors for `texts` from the embedding model, or none (no model, or it failed: `fallback` says what happens then). */
  private async embed(texts: string[], fallback: string): Promise<number[][] | undefined> {
    if (!this.embedder || !texts.length) return undefined;
    try {
      const vectors = await this.embedder.embed(texts);
      await this.useModel(vectors[0]!.length);
      return vectors;
    } catch (error) {
      this.log?.warn(`embedding model failed: ${fallback}`, {
        model: this.embedder.model,
        error: (error as Error).message,
      });
      return undefined;
    }
  }

  /**
   * Makes the HNSW index fit the embedder's vectors, once per process. Vectors
   * of another model (or size) mean nothing beside this one's: they are
   * dropped, and embedMissing gives those passages new ones.
   */
  private useModel(dimension: number): Promise<void> {
    const model = this.embedder!.model;
    this.vectorIndex ??= (async () => {
      const [current] = await this.db
        .query<[{ model: string; dimension: number } | undefined]>(
          'RETURN embedding_model:current.{ model, dimension }',
        )
        .json()
        .collect();
      if (current?.model === model && current.dimension === dimension) return;
      if (!Number.isInteger(dimension) || dimension < 1) throw new Error(`${model} returned a vector of ${dimension}`);
      await this.serially(() =>
        this.db
          .query(
            `BEGIN;
           REMOVE INDEX IF EXISTS passage_vector ON passage;
           UPDATE passage SET embedding = NONE WHERE embedding != NONE RETURN NONE;
           DEFINE INDEX passage_vector ON passage FIELDS embedding HNSW DIMENSION ${dimension} DIST COSINE;
           UPSERT embedding_model:current CONTENT { model: $model, dimension: $dimension } RETURN NONE;
           COMMIT;`,
            { model, dimension },
          )
          .collect(),
      );
      this.log?.info('passage vectors set up', { model, dimension });
    })();
    // A failed setup is tried again by the next caller.
    this.vectorIndex.catch(() => (this.vectorIndex = undefined));
    return this.vectorIndex;
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

/**
 * Reciprocal rank fusion: a passage ranked r (from 1) by a ranking gets
 * 1 / (RRF_K + r) from it, and the sums order them, so a passage both rank
 * well comes first without comparing BM25 scores with distances.
 */
function fuse(rankings: Ranked[][], k: number): Passage[] {
  const fused = new Map<string, { row: Ranked; score: number }>();
  for (const ranking of rankings)
    ranking.forEach((row, i) => {
      const entry = fused.get(row.id) ?? { row, score: 0 };
      entry.score += 1 / (RRF_K + i + 1);
      fused.set(row.id, entry);
    });
  return [...fused.values()]
    .sort((a, b) => b.score - a.score)
    .slice(0, k)
    .map(({ row, score }) => passage(row, score));
}

const passage = ({ source, kind, title, feature_id, author, expires_at, text }: Ranked, score = 0): Passage => ({
  ...(clean({ source, kind, title, feature_id, author, expires_at }) as unknown as PassageSource),
  text,
  score,
});

/** SurrealDB stores NONE for an absent option, never undefined. */
function clean(source: object): Record<string, string> {
  return Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== null));
}
