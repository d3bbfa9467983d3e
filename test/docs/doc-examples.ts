/**
 * The executable examples of docs/api.md: parsing, placeholders and captures, and comparison.
 *
 * An example is a fenced block whose info string is `graphql example name=NAME auth=MODE [attr=value…]`,
 * followed (before the next example) by an optional ```json variables block and a ```json response block
 * (`json response [status=N]`). The syntax is documented in docs/api.md ("How the examples are tested").
 */
export interface DocExample {
  name: string;
  /** 1-based line of the example's opening fence in the document. */
  line: number;
  query: string;
  attrs: Record<string, string>;
  variables: Record<string, unknown>;
  expected: unknown;
  /** Expected HTTP status (default 200; not checked for subscriptions). */
  status: number;
}

interface Fence {
  lang: string;
  words: string[];
  attrs: Record<string, string>;
  body: string;
  line: number;
}

function fences(markdown: string): Fence[] {
  const lines = markdown.split('\n');
  const out: Fence[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^(`{3,})(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const closing = new RegExp(`^${open[1]}\\s*$`);
    const body: string[] = [];
    for (i += 1; i < lines.length && !closing.test(lines[i]!); i += 1) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`docs/api.md:${start + 1}: unclosed code fence`);
    const words: string[] = [];
    const attrs: Record<string, string> = {};
    for (const token of (open[3] ?? '').split(/\s+/).filter(Boolean)) {
      const eq = token.indexOf('=');
      if (eq > 0) attrs[token.slice(0, eq)] = token.slice(eq + 1);
      else words.push(token);
    }
    out.push({ lang: open[2] ?? '', words, attrs, body: body.join('\n'), line: start + 1 });
  }
  return out;
}

/** Every example of the document, in document order. Throws on a malformed example. */
export function parseExamples(markdown: string): DocExample[] {
  const blocks = fences(markdown);
  const examples: DocExample[] = [];
  const names = new Set<string>();
  for (let i = 0; i < blocks.length; i += 1) {
    const block = blocks[i]!;
    if (block.lang !== 'graphql' || !block.words.includes('example')) continue;
    const where = `docs/api.md:${block.line}`;
    const { name, ...attrs } = block.attrs;
    if (!name) throw new Error(`${where}: an example needs name=`);
    if (names.has(name)) throw new Error(`${where}: duplicate example name ${name}`);
    names.add(name);
    if (!attrs.auth) throw new Error(`${where}: example ${name} needs auth=`);
    let variables: Record<string, unknown> = {};
    let expected: unknown;
    let status = 200;
    let found = false;
    for (let j = i + 1; j < blocks.length; j += 1) {
      const next = blocks[j]!;
      if (next.lang === 'graphql' && next.words.includes('example')) break;
      if (next.lang !== 'json') continue;
      if (next.words.includes('variables')) variables = JSON.parse(next.body) as Record<string, unknown>;
      if (next.words.includes('response')) {
        try {
          expected = JSON.parse(next.body);
        } catch (error) {
          throw new Error(`docs/api.md:${next.line}: response of ${name} is not JSON: ${(error as Error).message}`);
        }
        status = next.attrs.status ? Number(next.attrs.status) : 200;
        found = true;
        break;
      }
    }
    if (!found) throw new Error(`${where}: example ${name} has no \`\`\`json response block`);
    examples.push({ name, line: block.line, query: block.body, attrs, variables, expected, status });
  }
  return examples;
}

export type Captures = Record<string, unknown>;

const TEMPLATE = /\{\{(\w+)\}\}/g;

function lookup(captures: Captures, name: string): unknown {
  if (!(name in captures)) throw new Error(`{{${name}}} is used before an example captured it`);
  return captures[name];
}

/** Replaces `{{name}}` in strings: a whole-string reference keeps the captured value's type. */
export function substitute(value: unknown, captures: Captures): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{(\w+)\}\}$/.exec(value);
    if (whole) return lookup(captures, whole[1]!);
    return value.replace(TEMPLATE, (_, name: string) => String(lookup(captures, name)));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, captures));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, captures)]));
  return value;
}

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Placeholders of expected values: a string that is exactly one of these matches a varying value. */
export const PLACEHOLDERS: Record<string, (v: unknown) => boolean> = {
  '<string>': (v) => typeof v === 'string' && v.length > 0,
  '<id>': (v) => typeof v === 'string' && /^[\w:.#\-]+$/.test(v),
  '<datetime>': (v) => typeof v === 'string' && ISO_DATETIME.test(v),
  '<date>': (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v),
  '<number>': (v) => typeof v === 'number' && Number.isFinite(v),
  '<url>': (v) => typeof v === 'string' && /^https?:\/\/\S+$/.test(v),
  '<json>': (v) => {
    if (typeof v !== 'string') return false;
    try {
      JSON.parse(v);
      return true;
    } catch {
      return false;
    }
  },
};

const CAPTURE = /^<capture:(\w+)>$/;
/** Last item of an expected array: the actual array may go on with more items. */
export const MORE = '<more>';

/**
 * Differences between an expected value (with placeholders, captures and `{{name}}` references) and an
 * actual one; the values captured are written into `captures` (even when something else differs, so that a
 * failing example reports its own difference rather than breaking every later one). Objects must have
 * exactly the same keys; arrays the same length, unless the expected array ends with "<more>" (then the
 * actual one may have further items after the listed ones).
 */
export function compare(expected: unknown, actual: unknown, captures: Captures, path = '$'): string[] {
  const found: Captures = {};
  const diffs = compareInto(expected, actual, captures, found, path);
  Object.assign(captures, found);
  return diffs;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'undefined' : s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

function compareInto(expected: unknown, actual: unknown, captures: Captures, found: Captures, path: string): string[] {
  if (typeof expected === 'string') {
    const capture = CAPTURE.exec(expected);
    if (capture) {
      if (actual === null || actual === undefined) return [`${path}: expected a value to capture as ${capture[1]}, got ${show(actual)}`];
      found[capture[1]!] = actual;
      return [];
    }
    const check = PLACEHOLDERS[expected];
    if (check) return check(actual) ? [] : [`${path}: expected ${expected}, got ${show(actual)}`];
    const want = substitute(expected, { ...captures, ...found });
    return want === actual ? [] : [`${path}: expected ${show(want)}, got ${show(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${show(actual)}`];
    if (expected.length > 0 && expected.at(-1) === MORE) {
      const listed = expected.slice(0, -1);
      if (actual.length < listed.length) return [`${path}: expected at least ${listed.length} items, got ${actual.length}: ${show(actual)}`];
      return listed.flatMap((e, i) => compareInto(e, actual[i], captures, found, `${path}[${i}]`));
    }
    if (expected.length !== actual.length) return [`${path}: expected ${expected.length} items, got ${actual.length}: ${show(actual)}`];
    return expected.flatMap((e, i) => compareInto(e, actual[i], captures, found, `${path}[${i}]`));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [`${path}: expected an object, got ${show(actual)}`];
    const diffs: string[] = [];
    const a = actual as Record<string, unknown>;
    for (const key of Object.keys(a)) if (!(key in expected)) diffs.push(`${path}.${key}: not expected, got ${show(a[key])}`);
    for (const [key, value] of Object.entries(expected)) {
      if (!(key in a)) diffs.push(`${path}.${key}: expected ${show(value)}, missing`);
      else diffs.push(...compareInto(value, a[key], captures, found, `${path}.${key}`));
    }
    return diffs;
  }
  return Object.is(expected, actual) || expected === actual ? [] : [`${path}: expected ${show(expected)}, got ${show(actual)}`];
}

/** The operation type of a GraphQL document (its first operation). */
export function operationType(query: string): 'query' | 'mutation' | 'subscription' {
  const stripped = query.replace(/#[^\n]*/g, '').trim();
  if (stripped.startsWith('{')) return 'query';
  const m = /^(query|mutation|subscription)\b/.exec(stripped);
  if (!m) throw new Error(`cannot tell the operation type of: ${stripped.slice(0, 60)}`);
  return m[1] as 'query' | 'mutation' | 'subscription';
}
