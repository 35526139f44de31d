import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

/** Request options for a merge patch (fields to set) and a JSON patch (operations, with `test` as a precondition). */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
