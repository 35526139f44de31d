import { parse } from 'semver';
import { z } from 'zod';

/** Written exactly as semver.org's grammar has it: the semver package also forgives a leading "v" or "=". */
function canonical(v: string): boolean {
  const version = parse(v);
  const build = version?.build.length ? `+${version.build.join('.')}` : '';
  return version !== null && `${version.version}${build}` === v;
}

/** A semantic version as semver.org defines it (compare versions with the `semver` package). */
export const SemVer = z.string().refine(canonical, 'must be a semantic version such as "1.2.3"');
