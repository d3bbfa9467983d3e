/**
 * The sequel/prequel chain around some MAL entries in the catalog: what a series-level label can vouch
 * for, used by the match bench's franchise figures and by the fit script's labels. Bounded by `limit`
 * entries (long franchises stop there).
 */
import type { CatalogCandidateSource } from '../functions/matching/catalog-source';

export function sequelFranchise(source: CatalogCandidateSource, ids: readonly number[], limit: number): Set<number> {
  const seen = new Set<number>(ids);
  const queue = [...ids];
  while (queue.length > 0 && seen.size < limit) {
    const [details] = source.detailsSync([queue.shift()!]);
    for (const related of details?.related_anime ?? []) {
      if ((related.relation_type === 'sequel' || related.relation_type === 'prequel') && !seen.has(related.node.id)) {
        seen.add(related.node.id);
        queue.push(related.node.id);
      }
    }
  }
  return seen;
}
