import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { AgentManifest, ValidationError, describeIssues } from '../domain';

const MANIFEST_FILE = /\.(ya?ml|json)$/;

/** The catalog shipped with Vapora: one manifest per role. */
export const CATALOG_DIR = fileURLToPath(new URL('./catalog', import.meta.url));

/**
 * Reads manifests from a YAML or JSON file (one manifest or a list) or a folder
 * of them. Every problem in every file is collected before anything is refused.
 */
export function loadManifests(path: string): AgentManifest[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => MANIFEST_FILE.test(f))
        .sort()
        .map((f) => join(path, f))
    : [path];
  const manifests: AgentManifest[] = [];
  const problems: string[] = [];
  for (const file of files) {
    let documents: unknown[];
    try {
      const text = readFileSync(file, 'utf8');
      const data: unknown = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
      documents = Array.isArray(data) ? data : [data];
    } catch (error) {
      problems.push(`${basename(file)}: cannot be read: ${(error as Error).message.split('\n')[0]}`);
      continue;
    }
    documents.forEach((document, i) => {
      const where = documents.length > 1 ? `${basename(file)}[${i}]` : basename(file);
      const result = AgentManifest.safeParse(document, { reportInput: true });
      if (result.success) manifests.push(result.data);
      else problems.push(...describeIssues(result.error).map((p) => `${where}: ${p}`));
    });
  }
  if (files.length === 0) problems.push(`${path}: no .yaml, .yml or .json manifest found`);
  if (problems.length) throw new ValidationError('manifests', problems);
  return manifests;
}
