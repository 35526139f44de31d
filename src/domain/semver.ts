import { valid } from 'semver';
import { z } from 'zod';

/** A semantic version as semver.org defines it, without a leading "v" (compare versions with the `semver` package). */
export const SemVer = z.string().refine((v) => valid(v) === v, 'must be a semantic version such as "1.2.3"');
