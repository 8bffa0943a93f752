// SPDX-License-Identifier: MIT
//
// What a viewer's screenshot shows, for tests/lib/viewers.py's png_ok:
//
//   node pngstat.js FILE.png SKIP_TOP
//
// prints one JSON line {"width", "height", "pixels", "coloured"} counting
// the pixels below the top SKIP_TOP rows whose channels lie more than 12
// apart (a viewer's slices and flame boxes are drawn in colour, the UI
// around them in grey), or {"error": "..."} for a file that is not a whole
// 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes).  Decoding
// follows the PNG specification's filters (section 9); in node because a
// 1600x1000 screenshot takes seconds to unfilter in Python.
'use strict';

const fs = require('fs');
const zlib = require('zlib');

function chunks(data) {
  if (data.length < 8 || !data.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])))
    throw new Error('not a PNG');
  let pos = 8, ihdr = null, end = false;
  const idat = [];
  while (pos + 8 <= data.length && !end) {
    const n = data.readUInt32BE(pos), kind = data.toString('latin1', pos + 4, pos + 8);
    const body = data.subarray(pos + 8, pos + 8 + n);
    if (kind === 'IHDR') ihdr = body;
    else if (kind === 'IDAT') idat.push(body);
    end = kind === 'IEND';
    pos += 12 + n;
  }
  if (!ihdr || !end) throw new Error('no IHDR or IEND chunk (truncated?)');
  return { ihdr, idat: Buffer.concat(idat) };
}

function paeth(a, b, c) {
  const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

// The image's rows, unfiltered, one Buffer each.
function rows(ihdr, idat) {
  const w = ihdr.readUInt32BE(0), h = ihdr.readUInt32BE(4);
  const depth = ihdr[8], color = ihdr[9], interlace = ihdr[12];
  if (depth !== 8 || (color !== 2 && color !== 6) || interlace)
    throw new Error(`depth ${depth}, colour type ${color}, interlace ${interlace}`);
  const bpp = color === 2 ? 3 : 4, stride = w * bpp;
  const raw = zlib.inflateSync(idat);
  if (raw.length !== h * (stride + 1))
    throw new Error(`${raw.length} bytes of pixel data for ${w}x${h}`);
  const out = [];
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < h; y++) {
    const ft = raw[y * (stride + 1)];
    const cur = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      switch (ft) {
        case 0: break;
        case 1: cur[i] = (cur[i] + a) & 255; break;
        case 2: cur[i] = (cur[i] + b) & 255; break;
        case 3: cur[i] = (cur[i] + ((a + b) >> 1)) & 255; break;
        case 4: cur[i] = (cur[i] + paeth(a, b, c)) & 255; break;
        default: throw new Error(`row ${y}: filter type ${ft}`);
      }
    }
    out.push(cur);
    prev = cur;
  }
  return { w, h, bpp, rows: out };
}

function main() {
  const top = Number(process.argv[3] || 0);
  try {
    const { ihdr, idat } = chunks(fs.readFileSync(process.argv[2]));
    const img = rows(ihdr, idat);
    let pixels = 0, coloured = 0;
    for (const r of img.rows.slice(top)) {
      for (let i = 0; i < r.length; i += img.bpp) {
        const hi = Math.max(r[i], r[i + 1], r[i + 2]), lo = Math.min(r[i], r[i + 1], r[i + 2]);
        pixels++;
        if (hi - lo > 12) coloured++;
      }
    }
    console.log(JSON.stringify({ width: img.w, height: img.h, pixels, coloured }));
  } catch (e) {
    console.log(JSON.stringify({ error: e.message }));
  }
}

main();
