import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes: how a person finds a feature, task or agent in the Web UI. */
export const VaporaFeatureId = defineSearchAttributeKey('VaporaFeatureId', SearchAttributeType.KEYWORD);
export const VaporaRole = defineSearchAttributeKey('VaporaRole', SearchAttributeType.KEYWORD);
export const VaporaAgentId = defineSearchAttributeKey('VaporaAgentId', SearchAttributeType.KEYWORD);
export const VaporaManifestId = defineSearchAttributeKey('VaporaManifestId', SearchAttributeType.KEYWORD);
export const VaporaStatus = defineSearchAttributeKey('VaporaStatus', SearchAttributeType.KEYWORD);
export const VaporaCost = defineSearchAttributeKey('VaporaCost', SearchAttributeType.DOUBLE);

export const SEARCH_ATTRIBUTES = [
  VaporaFeatureId,
  VaporaRole,
  VaporaAgentId,
  VaporaManifestId,
  VaporaStatus,
  VaporaCost,
];
