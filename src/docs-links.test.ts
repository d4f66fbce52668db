/**
 * The guide's links resolve: every relative link in README.md and docs/
 * points at a file or folder of the repository, and every #anchor at a
 * heading of its markdown file, named as GitHub names it. An index that
 * points nowhere is how a split guide silently loses its rooms.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { CLI } from './testing/processes.js';

/** The checkout: the binary under test is `dist/src/cli.js` in it. */
const ROOT = resolve(dirname(CLI), '..', '..');
const DOCS = join(ROOT, 'docs');

/** README.md and every markdown file under docs/, as absolute paths. */
function guideFiles(): string[] {
  const files = [join(ROOT, 'README.md')];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  walk(DOCS);
  return files;
}

/** The file's lines outside fenced code blocks, with their line numbers. */
function proseLines(text: string): { line: string; n: number }[] {
  const out: { line: string; n: number }[] = [];
  let fence: string | null = null;
  text.split('\n').forEach((line, i) => {
    const mark = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (mark && (fence === null || (mark[0] === fence[0] && mark.length >= fence.length))) {
      fence = fence === null ? mark : null;
      return;
    }
    if (fence === null) out.push({ line, n: i + 1 });
  });
  return out;
}

/** A heading's anchor as GitHub makes it: the rendered text, lowercased, punctuation dropped, spaces as hyphens. */
function githubSlug(heading: string): string {
  const text = heading
    .replace(/`([^`]*)`/g, '$1')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]*>/g, '')
    .replace(/\*+/g, '');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a markdown file offers: its headings' slugs (repeats numbered as GitHub does) and explicit ids. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { line } of proseLines(text)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = githubSlug(heading);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const m of line.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(m[1]!);
  }
  return anchors;
}

interface Link {
  file: string;
  n: number;
  target: string;
}

/** The inline and reference-style link targets of a markdown file, code spans and blocks left out. */
function linksOf(file: string): Link[] {
  const links: Link[] = [];
  for (const { line, n } of proseLines(readFileSync(file, 'utf8'))) {
    const prose = line.replace(/(`+)[^`]*?\1/g, 'code');
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ file, n, target: m[1]! });
    const ref = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(prose);
    if (ref) links.push({ file, n, target: ref[1]! });
  }
  return links;
}

/** Why a link does not resolve, or null when it does. External links (a scheme) are not followed. */
function brokenBecause(link: Link): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) return null;
  const hash = link.target.indexOf('#');
  const pathPart = decodeURIComponent(hash === -1 ? link.target : link.target.slice(0, hash));
  const anchor = hash === -1 ? null : decodeURIComponent(link.target.slice(hash + 1));
  const target = pathPart === '' ? link.file : resolve(dirname(link.file), pathPart);
  if (relative(ROOT, target).startsWith('..')) return `${pathPart} leaves the repository`;
  if (!existsSync(target)) return `${pathPart} does not exist`;
  if (anchor === null || !target.endsWith('.md') || statSync(target).isDirectory()) return null;
  return anchorsOf(readFileSync(target, 'utf8')).has(anchor) ? null : `no heading #${anchor} in ${relative(ROOT, target)}`;
}

test('headings are slugged as GitHub slugs them', () => {
  assert.equal(githubSlug('`faasbench worker` (alias `rpc-worker`)'), 'faasbench-worker-alias-rpc-worker');
  assert.equal(githubSlug('The TCP front: `faasbench gateway --framework tcp`'), 'the-tcp-front-faasbench-gateway---framework-tcp');
  assert.equal(githubSlug('1. The machines'), '1-the-machines');
  assert.equal(githubSlug('Is the caller the bottleneck?'), 'is-the-caller-the-bottleneck');
  assert.equal(githubSlug('Security: what is exposed, what is secret, who owns what'), 'security-what-is-exposed-what-is-secret-who-owns-what');
  assert.equal(githubSlug('t3_recv and [the RPC](rpc.md)'), 't3_recv-and-the-rpc');
});

test('every relative link and anchor in README.md and docs/ resolves', () => {
  const files = guideFiles();
  assert.ok(files.length > 1, 'docs/ has pages');
  const broken: string[] = [];
  let checked = 0;
  for (const file of files) {
    for (const link of linksOf(file)) {
      checked++;
      const why = brokenBecause(link);
      if (why) broken.push(`${relative(ROOT, link.file)}:${link.n}: ${link.target}: ${why}`);
    }
  }
  assert.ok(checked > 50, `found the links (${checked})`);
  assert.deepEqual(broken, []);
});

test('every page of docs/ is reachable from its index, docs/README.md', () => {
  const index = join(DOCS, 'README.md');
  const linked = new Set(
    linksOf(index)
      .filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l.target))
      .map((l) => resolve(DOCS, decodeURIComponent(l.target.split('#')[0]!))),
  );
  const unlinked = guideFiles()
    .filter((f) => f.startsWith(DOCS) && f !== index && !linked.has(f))
    .map((f) => relative(ROOT, f));
  assert.deepEqual(unlinked, []);
});

test('the README links to the docs index', () => {
  const targets = linksOf(join(ROOT, 'README.md')).map((l) => l.target);
  assert.ok(targets.includes('docs/README.md'));
});
