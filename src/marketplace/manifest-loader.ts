import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { AgentManifest, ValidationError, describeIssues } from '../domain';

const MANIFEST_FILE = /\.(ya?ml|json)$/;

/** The catalog shipped with Vapora: one manifest per role. */
export const CATALOG_DIR = fileURLToPath(new URL('./catalog', import.meta.url));

/** A catalog's index (see catalog-index.ts), beside the manifests it lists. */
export const CATALOG_INDEX = 'index.json';

/**
 * Reads manifests from a YAML or JSON file (one manifest or a list) or a folder
 * of them. Every problem in every file is collected before anything is refused.
 */
export function loadManifests(path: string): AgentManifest[] {
  const files = statSync(path).isDirectory() ? manifestFiles(path).map((f) => join(path, f)) : [path];
  const problems: string[] = [];
  const manifests = files.flatMap((file) => {
    try {
      return parseManifests(readFileSync(file, 'utf8'), basename(file), problems);
    } catch (error) {
      problems.push(`${basename(file)}: cannot be read: ${(error as Error).message.split('\n')[0]}`);
      return [];
    }
  });
  if (files.length === 0) problems.push(`${path}: no .yaml, .yml or .json manifest found`);
  if (problems.length) throw new ValidationError('manifests', problems);
  return manifests;
}

/** The manifest files of a folder (a catalog's index aside), by name. */
export const manifestFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => MANIFEST_FILE.test(f) && f !== CATALOG_INDEX)
    .sort();

/** The manifests in one file's text (YAML, or JSON by its name); what is wrong goes to `problems`, named by file. */
export function parseManifests(text: string, file: string, problems: string[]): AgentManifest[] {
  const data: unknown = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  const documents = Array.isArray(data) ? data : [data];
  return documents.flatMap((document, i) => {
    const where = documents.length > 1 ? `${file}[${i}]` : file;
    const result = AgentManifest.safeParse(document, { reportInput: true });
    if (result.success) return [result.data];
    problems.push(...describeIssues(result.error).map((p) => `${where}: ${p}`));
    return [];
  });
}
