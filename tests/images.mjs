// Real image files made in Node for tests, seeds and benchmarks: PNG through node:zlib, JPEG
// through jpeg-js (pure JS). Deterministic: the same arguments give the same bytes, except
// where `seed` says otherwise.
import { deflateSync, crc32 } from 'node:zlib';
import jpegJs from 'jpeg-js';

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'latin1'), data])), 8 + data.length);
  return out;
}

/** Pixels of a w×h picture: gradients, plus noise (a photo compresses like noise). */
function pixels(w, h, { seed = 1, noise = 0, channels = 4 } = {}) {
  const data = Buffer.alloc(w * h * channels);
  let s = seed >>> 0 || 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * channels;
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      const n = noise ? (s % (2 * noise + 1)) - noise : 0;
      data[i] = Math.max(0, Math.min(255, ((x * 255) / w + n) | 0));
      data[i + 1] = Math.max(0, Math.min(255, ((y * 255) / h + n) | 0));
      data[i + 2] = (seed * 37) & 255;
      if (channels === 4) data[i + 3] = 255;
    }
  }
  return data;
}

/** A w×h RGBA PNG. */
export function png(w, h, opts = {}) {
  const rgba = pixels(w, h, opts);
  const raw = Buffer.alloc((w * 4 + 1) * h);
  for (let y = 0; y < h; y++) rgba.copy(raw, y * (w * 4 + 1) + 1, y * w * 4, (y + 1) * w * 4);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A w×h JPEG (quality 0-100); `noise` makes it photo-like in size. */
export function jpeg(w, h, { quality = 85, ...opts } = {}) {
  const data = pixels(w, h, opts);
  return Buffer.from(jpegJs.encode({ data, width: w, height: h }, quality).data);
}

/** The size a PNG or JPEG header says, for assertions. */
export function size(bytes) {
  if (bytes[0] === 0x89) return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  const { width, height } = jpegJs.decode(bytes, { useTArray: true, maxMemoryUsageInMB: 1024 });
  return { width, height };
}
