/**
 * Headless Chromium for tests that must see a page laid out by a real
 * browser. A test without it is skipped with the reason, or fails under CI
 * (where .ci/run installs it).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function findChromium(): string | null {
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/** The skip reason when Chromium is missing, or throws under CI: there it must be installed. */
export function chromiumOrSkip(): { path: string } | { skip: string } {
  const path = findChromium();
  if (path) return { path };
  if (process.env.CI) throw new Error(`headless Chromium is required under CI and not found at ${CANDIDATES.join(', ')}`);
  return { skip: `no Chromium at ${CANDIDATES.join(', ')}` };
}

/**
 * Loads a local HTML file in headless Chromium at this window size and
 * returns the DOM after its scripts ran (--dump-dom). Killed by PID after
 * `timeoutMs`: a busy machine may be slow to start a browser, never this slow.
 */
export async function dumpDom(chromium: string, file: string, width: number, height = 900, timeoutMs = 120_000): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'faasbench-chromium-'));
  try {
    const args = [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, `--window-size=${width},${height}`,
      '--dump-dom', pathToFileURL(file).href,
    ];
    return await new Promise<string>((resolve, reject) => {
      const child = spawn(chromium, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(`chromium exited with ${code}: ${err.slice(-2000)}`));
      });
    });
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
