import { rmSync } from 'node:fs';
import { createEmbedder } from '../../src/llm/embedding-model';
import { RegistryStore } from '../../src/registry/registry-store';
import { startEmbeddingServer } from '../support/embedding-server';
import { DOCUMENTS, QUESTIONS } from '../fixtures/retrieval-corpus';
import { tempDir } from '../support/servers';
import { latencies, timed, type Latencies } from './stats';

const CHUNKS = 10_000;
const ROUNDS = 10;

// Filler in the corpus's own register (engineering prose), so the needles are not found for standing out.
const WORDS = (
  'service request response latency error retry queue worker database index cache table column row migration ' +
  'deploy release rollback canary traffic region replica cluster node pod container image registry secret key ' +
  'token session login user account invoice payment order cart product price currency search result page ' +
  'review test report decision status feature step agent role task deadline budget approval gate workflow ' +
  'event stream message topic subscriber publisher schema field value record document artifact context ' +
  'metric trace log alert dashboard threshold window percent second minute hour day week month'
).split(' ');

/** A deterministic sentence soup of `n` words, different for every `seed`. */
function filler(seed: number, n = 40): string {
  let x = seed * 2654435761;
  const words: string[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    words.push(WORDS[x % WORDS.length]!);
  }
  return `${words.join(' ')}.`;
}

export interface RetrievalReport {
  chunks: number;
  indexMs: number;
  search: Latencies;
  baseline: Latencies;
  /** Search p50 over the baseline's (a SELECT by key on the same table). */
  ratio: number;
  recallAt5: number;
  cpuMsPerSearch: number;
  /** The same questions, fused with vectors (a local server speaking OpenAI's embeddings wire format). */
  hybrid: { embedMs: number; search: Latencies; ratio: number; recallAt5: number; cpuMsPerSearch: number };
}

/** Asks every question ROUNDS times: latencies, recall@5 of the first round, CPU per search. */
async function askAll(registry: RegistryStore) {
  const searchMs: number[] = [];
  let hits = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++)
    for (const [question, expected] of QUESTIONS)
      searchMs.push(
        await timed(async () => {
          const found = await registry.passages.search({ text: question, k: 5 });
          if (round === 0 && found.some((p) => p.source === `artifact:${expected}`)) hits++;
        }),
      );
  const search = latencies(searchMs, performance.now() - started);
  const used = process.cpuUsage(cpu);
  return {
    search,
    recallAt5: Math.round((hits / QUESTIONS.length) * 1000) / 1000,
    cpuMsPerSearch: Math.round(((used.user + used.system) / 1000 / searchMs.length) * 100) / 100,
  };
}

/**
 * Indexes 10,000 passages (the retrieval corpus among generated ones), then
 * asks the corpus's questions across all of them, beside a baseline of
 * reads by key from the same store in the same process.
 */
export async function retrievalBench(say: (line: string) => void): Promise<RetrievalReport> {
  // The store `npm start` keeps the registry in (embedded surrealkv on disk), not mem://.
  const dir = tempDir('retrieval');
  const server = await startEmbeddingServer();
  const model = createEmbedder({
    provider: 'openai',
    model: 'trigrams',
    settings: { apiKey: 'bench', baseUrl: server.url },
  });
  // The model is off (as if unreachable: search by words alone) until the words-only figures are in.
  let modelOn = false;
  const embedder = {
    model: model.model,
    embed: (texts: string[]) => (modelOn ? model.embed(texts) : Promise.reject(new Error('off'))),
  };
  const registry = await RegistryStore.open(
    { url: `surrealkv://${dir}/db`, namespace: 'vapora', database: 'retrieval' },
    { embedder },
  );
  try {
    const put = (id: string, content: string, feature_id: string) =>
      registry.artifacts.put({
        id,
        kind: 'note',
        title: id,
        content,
        feature_id,
        created_at: new Date().toISOString(),
      });
    const started = performance.now();
    for (const [id, text] of Object.entries(DOCUMENTS)) await put(id, text, 'corpus');
    for (let i = Object.keys(DOCUMENTS).length; i < CHUNKS; i++) {
      await put(`filler-${i}`, filler(i), `filler-${i % 100}`);
      if (i % 2_000 === 0) say(`retrieval: indexed ${i} of ${CHUNKS} passages`);
    }
    const indexMs = performance.now() - started;
    say(`retrieval: ${CHUNKS} passages indexed in ${(indexMs / 1000).toFixed(1)} s; searching`);

    const words = await askAll(registry);
    const baselineMs: number[] = [];
    const baselineStarted = performance.now();
    for (let round = 0; round < ROUNDS; round++)
      for (const [, expected] of QUESTIONS) baselineMs.push(await timed(() => registry.artifacts.get(expected)));
    const baseline = latencies(baselineMs, performance.now() - baselineStarted);

    // The model on: every passage gets its vector, then the questions again.
    modelOn = true;
    say(`retrieval: embedding ${CHUNKS} passages (HNSW index)`);
    const embedStarted = performance.now();
    await registry.passages.embedMissing();
    const embedMs = Math.round(performance.now() - embedStarted);
    say(`retrieval: embedded in ${(embedMs / 1000).toFixed(1)} s; searching with vectors`);
    const hybrid = await askAll(registry);
    const ratio = (search: Latencies) => Math.round((search.p50 / baseline.p50) * 10) / 10;
    return {
      chunks: CHUNKS,
      indexMs: Math.round(indexMs),
      ...words,
      baseline,
      ratio: ratio(words.search),
      hybrid: { embedMs, ...hybrid, ratio: ratio(hybrid.search) },
    };
  } finally {
    await registry.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printRetrieval(r: RetrievalReport): void {
  console.log(
    `\nRetrieval: BM25 over ${r.chunks} passages in SurrealDB (embedded surrealkv), indexed in ${(r.indexMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `  search     p50 ${r.search.p50} ms  p95 ${r.search.p95} ms  p99 ${r.search.p99} ms  (${r.search.samples} searches)`,
  );
  console.log(
    `  baseline   p50 ${r.baseline.p50} ms  p95 ${r.baseline.p95} ms  p99 ${r.baseline.p99} ms  (SELECT by key, same table)`,
  );
  console.log(
    `  search p50 = ${r.ratio}× the baseline's; recall@5 ${r.recallAt5}; ${r.cpuMsPerSearch} ms of CPU per search`,
  );
  const h = r.hybrid;
  console.log(
    `Hybrid: BM25 fused with HNSW vectors (local OpenAI-format embeddings server, 256 dimensions), embedded in ${(h.embedMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `  search     p50 ${h.search.p50} ms  p95 ${h.search.p95} ms  p99 ${h.search.p99} ms  (${h.search.samples} searches, the query's embedding included)`,
  );
  console.log(
    `  search p50 = ${h.ratio}× the baseline's; recall@5 ${h.recallAt5}; ${h.cpuMsPerSearch} ms of CPU per search (the embeddings server's included)`,
  );
}
