import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { CatalogCandidateSource, CatalogLoadError, loadCatalog } from '../../functions/matching/catalog-source';
import { testTempDir } from '../support/temp';

const FIXTURE = new URL('../fixtures/mal-catalog.small.jsonl', import.meta.url).pathname;
let source: CatalogCandidateSource;

beforeAll(async () => {
  source = new CatalogCandidateSource(await loadCatalog(FIXTURE));
});

describe('loadCatalog', () => {
  it('reads .jsonl and .jsonl.gz alike', async () => {
    const dir = testTempDir('catalog-');
    const gz = join(dir, 'catalog.jsonl.gz');
    writeFileSync(gz, gzipSync(readFileSync(FIXTURE)));
    const [plain, zipped] = await Promise.all([loadCatalog(FIXTURE), loadCatalog(gz)]);
    expect(zipped).toEqual(plain);
    expect(plain.length).toBeGreaterThan(30);
  });

  it('names the line of a malformed entry', async () => {
    const dir = testTempDir('catalog-');
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"mal_id":1,"title":"A"}\n{"mal_id":"x"}\n');
    await expect(loadCatalog(bad)).rejects.toThrow(/bad\.jsonl:2/);
    await expect(loadCatalog(join(dir, 'missing.jsonl'))).rejects.toBeInstanceOf(CatalogLoadError);
  });
});

describe('CatalogCandidateSource', () => {
  it('searches by alternative titles like MAL does', async () => {
    const hits = await source.search('Attack on Titan', 10);
    expect(hits[0].id).toBe(16498);
    expect(hits.length).toBeLessThanOrEqual(10);
    expect(hits[0].alternative_titles?.en).toBe('Attack on Titan');
  });

  it('enforces the MAL query and limit contract', async () => {
    await expect(source.search('ab', 10)).rejects.toThrow(RangeError);
    await expect(source.search('x'.repeat(65), 10)).rejects.toThrow(RangeError);
    expect((await source.search('the', 500)).length).toBeLessThanOrEqual(100);
  });

  it('derives sequel/prequel relations from TVDB season order, split cours included', async () => {
    const [s3, s3p2] = await source.details([35760, 38524]);
    expect(s3.related_anime).toContainEqual({ node: { id: 38524, title: 'Shingeki no Kyojin Season 3 Part 2' }, relation_type: 'sequel' });
    expect(s3.related_anime).toContainEqual({ node: { id: 25777, title: 'Shingeki no Kyojin Season 2' }, relation_type: 'prequel' });
    expect(s3p2.related_anime.find((r) => r.relation_type === 'prequel')?.node.id).toBe(35760);
    const [movie] = await source.details([5]);
    expect(movie.related_anime).toContainEqual({ node: { id: 1, title: 'Cowboy Bebop' }, relation_type: 'parent_story' });
    expect(await source.details([999999999])).toEqual([]);
  });
});
