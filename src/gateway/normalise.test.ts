import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseTarget } from './normalise.js';

test('paths are normalised as RFC 3986 allows, and nothing else', () => {
  const cases: Array<[string, string]> = [
    ['/empty', '/empty'],
    ['/sleep?ms=1', '/sleep?ms=1'],
    ['/%65mpty', '/empty'],
    ['/%45MPTY', '/EMPTY'],
    ['/image/../empty', '/empty'],
    ['/image/%2e%2e/empty', '/empty'],
    ['/image/%2E%2E/empty', '/empty'],
    ['/./empty', '/empty'],
    ['/empty/.', '/empty/'],
    ['/empty/..', '/'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['//empty', '//empty'],
    ['/a/b/../../empty?x=/../y', '/empty?x=/../y'],
    ['/sleep?ms=%31', '/sleep?ms=%31'], // the query is the framework's to decode
    ['/image/..%2f..%2fetc%2fpasswd', '/image/..%2f..%2fetc%2fpasswd'], // %2F is not unreserved
    ['/%zz', '/%zz'],
    ['/%25', '/%25'],
    ['/.hidden', '/.hidden'],
    ['/..x', '/..x'],
    ['*', '*'],
    ['http://x/a/../empty', 'http://x/a/../empty'],
  ];
  for (const [target, expected] of cases) assert.equal(normaliseTarget(target), expected, target);
});
