import { z } from 'zod';
import { Identifier, Timestamp } from './timestamp';

/** A catalog the marketplace takes manifests from (`vapora catalog add`), and the key it must be signed with. */
export const CatalogRecord = z.object({
  name: Identifier,
  /** An http(s) URL or a folder; absent while the catalog is only trusted, not yet added. */
  source: z.string().min(1).optional(),
  /** Ed25519, base64 of its 32 raw bytes: once set, the catalog's index must carry a valid signature by it. */
  public_key: z.base64().optional(),
  /** Its signature was checked against its trusted key when it was last read. */
  signed: z.boolean().default(false),
  /** `id@version` of each manifest it brought. */
  manifests: z.array(z.string()).default([]),
  updated_at: Timestamp,
});
export type CatalogRecord = z.infer<typeof CatalogRecord>;
