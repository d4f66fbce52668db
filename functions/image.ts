import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { FaasFunction } from '../src/contract/function.js';
import { InputError } from '../src/contract/function.js';
import { Semaphore } from '../src/contract/semaphore.js';

const SAMPLE = 'sample.jpg';
/** Largest decoded input (sharp's own default is about 268 M). */
export const MAX_INPUT_PIXELS = 50_000_000;
/** Largest output: a 4096 × 4096 square. limitInputPixels bounds only the
 *  input, and a narrow image resized to a large width is an upscale bomb
 *  (64 × 1016 to 4096 wide is 266 M pixels, gigabytes and many CPU seconds). */
export const MAX_OUTPUT_PIXELS = 4096 * 4096;

/**
 * Pipelines running at once; the others wait their turn (FIFO). Each one holds
 * a thread of libuv's pool (UV_THREADPOOL_SIZE, 4 by default) for its whole
 * run, and the worker's file reads need that pool too, so the default leaves
 * one thread free.
 */
function concurrencyFromEnv(): number {
  const raw = process.env.FAASBENCH_IMAGE_CONCURRENCY;
  const uvThreads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  if (raw === undefined || raw === '') return Math.max(1, Math.min(availableParallelism(), uvThreads - 1));
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1) {
    throw new Error(`FAASBENCH_IMAGE_CONCURRENCY must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}
const slots = new Semaphore(concurrencyFromEnv());
// Every upload is a new input: libvips' operation cache would only hold memory.
sharp.cache(false);

/** Output size of `resize({ width })` after EXIF rotation, from the header alone. */
async function outputSize(input: Uint8Array, width: number): Promise<{ width: number; height: number }> {
  const meta = await sharp(input, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  const { width: w, height: h } = meta.autoOrient;
  return { width, height: Math.max(1, Math.round((h * width) / w)) };
}

/**
 * Reads an image (the shipped sample, or the uploaded `image` bytes), applies a
 * chain of transformations and answers JPEG bytes: file I/O, CPU and a large
 * reply. sharp runs the pipeline on libuv's threads, off the event loop, so
 * this function stays `inline`.
 */
const image: FaasFunction = {
  contentType: 'image/jpeg',
  async run(args, { assetsDir, signal, timeoutMs }) {
    const deadline = performance.now() + timeoutMs;
    const width = args.width ?? 320;
    if (typeof width !== 'number' || !Number.isInteger(width) || width < 1 || width > 4096) {
      throw new InputError('width must be an integer from 1 to 4096');
    }
    let input: Uint8Array;
    if (args.image === undefined) {
      // A fixed name joined to the assets folder: no argument ever names a file.
      input = await readFile(join(assetsDir, SAMPLE));
    } else if (args.image instanceof Uint8Array && args.image.length > 0) {
      input = args.image;
    } else {
      throw new InputError('image must be non-empty bytes');
    }
    let out: { width: number; height: number };
    try {
      out = await outputSize(input, width);
    } catch (err) {
      throw new InputError(`cannot process image: ${(err as Error).message}`);
    }
    if (out.width * out.height > MAX_OUTPUT_PIXELS) {
      throw new InputError(
        `the output would be ${out.width} x ${out.height} = ${out.width * out.height} pixels; the limit is ${MAX_OUTPUT_PIXELS} (4096 x 4096): ask for a smaller width`,
      );
    }
    const release = await slots.acquire(signal);
    try {
      // libvips cannot be interrupted from here; its own timeout stops the
      // pipeline near the call's limit instead of letting it run on unseen.
      const seconds = Math.min(3600, Math.max(1, Math.ceil((deadline - performance.now()) / 1000)));
      return await sharp(input, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS })
        .timeout({ seconds })
        .rotate()
        .resize({ width })
        .blur(1.5)
        .negate({ alpha: false })
        .normalise()
        .jpeg({ quality: 80 })
        .toBuffer();
    } catch (err) {
      // sharp's errors for undecodable or oversized input are the caller's fault.
      throw new InputError(`cannot process image: ${(err as Error).message}`);
    } finally {
      release();
    }
  },
};
export default image;
