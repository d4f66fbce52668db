import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { FaasFunction } from '../src/worker/contract.js';
import { InputError } from '../src/worker/contract.js';

const SAMPLE = 'sample.jpg';

/**
 * Reads an image (the shipped sample, or the uploaded `image` bytes), applies a
 * chain of transformations and answers JPEG bytes: file I/O, CPU and a large
 * reply. sharp runs the pipeline on libuv's threads, off the event loop, so
 * this function stays `inline`.
 */
const image: FaasFunction = {
  contentType: 'image/jpeg',
  async run(args, { assetsDir }) {
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
    try {
      return await sharp(input, { failOn: 'error', limitInputPixels: 50_000_000 })
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
    }
  },
};
export default image;
