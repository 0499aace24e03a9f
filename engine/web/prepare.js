"use strict";
/* A drawing -> the 28×28 image the network expects: the same steps and arithmetic as engine/preprocess.py
 * (crop to the ink's bounding box, scale into 20×20 keeping the aspect ratio by area averaging, centre the mass in
 * 28×28), passing the same shared test vectors (tests/data/preprocess_vectors.npz).  Pure functions, no page state.
 *
 * Images here are {width, height, ink: Float64Array(width * height)}, row by row, white ink (1) on black paper (0). */

const PREPARE = Object.freeze({ SIZE: 28, BOX: 20, INK_THRESHOLD: 0.05 });

/** Python's round(): halves go to the even neighbour (round(12.5) is 12), as preprocess.py rounds. */
function roundHalfEven(x) {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest < 0.5) return floor;
  if (rest > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** A shift rounded to whole pixels, halves to even, after rounding it to a millionth of a pixel (preprocess.py's
 * whole_pixels): float noise in the centre of mass cannot tip an exact half-pixel tie either way. */
function wholePixels(offset) {
  return roundHalfEven(roundHalfEven(offset * 1e6) / 1e6);
}

/** ImageData (RGBA bytes) -> ink in [0, 1]: the grey level (mean of R, G, B) times the opacity. */
function inkOf(imageData) {
  const { width, height, data } = imageData;
  const ink = new Float64Array(width * height);
  for (let i = 0; i < ink.length; i++) {
    const p = 4 * i;
    ink[i] = ((data[p] + data[p + 1] + data[p + 2]) / 3 / 255) * (data[p + 3] / 255);
  }
  return { width, height, ink };
}

/** [top, bottom, left, right] of the pixels above the threshold (bottom and right exclusive); null when blank. */
function inkBox(image, threshold = PREPARE.INK_THRESHOLD) {
  const { width, height, ink } = image;
  let top = height, bottom = -1, left = width, right = -1;
  for (let r = 0; r < height; r++) {
    const row = r * width;
    for (let c = 0; c < width; c++) {
      if (ink[row + c] > threshold) {
        if (r < top) top = r;
        bottom = r;
        if (c < left) left = c;
        if (c > right) right = c;
      }
    }
  }
  return bottom < 0 ? null : [top, bottom + 1, left, right + 1];
}

/** Area resampling of nIn cells into nOut: for each output cell, [first input cell, its weights...]. */
function areaWeights(nIn, nOut) {
  const scale = nIn / nOut;
  const cells = [];
  for (let i = 0; i < nOut; i++) {
    const start = i * scale;
    const end = start + scale;
    const first = Math.max(0, Math.floor(start));
    const weights = [];
    for (let j = first; j < nIn && j < end; j++) {
      const overlap = Math.min(end, j + 1) - Math.max(start, j);
      weights.push(overlap > 0 ? overlap / scale : 0);
    }
    cells.push({ first, weights });
  }
  return cells;
}

/** Rows top..bottom, columns left..right of an image -> (height, width) by area averaging (box filter). */
function resizeArea(image, top, bottom, left, right, height, width) {
  const h = bottom - top, w = right - left;
  const rows = areaWeights(h, height), cols = areaWeights(w, width);
  const across = new Float64Array(height * w); // rows resampled first: (height, w)
  for (let i = 0; i < height; i++) {
    const { first, weights } = rows[i];
    for (let k = 0; k < weights.length; k++) {
      const weight = weights[k];
      if (weight === 0) continue;
      const source = (top + first + k) * image.width + left;
      for (let c = 0; c < w; c++) across[i * w + c] += weight * clip01(image.ink[source + c]);
    }
  }
  const out = new Float64Array(height * width);
  for (let j = 0; j < width; j++) {
    const { first, weights } = cols[j];
    for (let i = 0; i < height; i++) {
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += weights[k] * across[i * w + first + k];
      out[i * width + j] = sum;
    }
  }
  return out;
}

function clip01(v) {
  return v > 0 ? (v < 1 ? v : 1) : 0; // NaN counts as paper, as in preprocess.py
}

/** (row, col) of the intensity-weighted centre of a size×size image; its geometric centre when blank. */
function centreOfMass(values, size) {
  let total = 0, rows = 0, cols = 0;
  for (let r = 0; r < size; r++) {
    let rowSum = 0;
    for (let c = 0; c < size; c++) {
      rowSum += values[r * size + c];
      cols += c * values[r * size + c];
    }
    rows += r * rowSum;
    total += rowSum;
  }
  return total <= 0 ? [(size - 1) / 2, (size - 1) / 2] : [rows / total, cols / total];
}

/** The image moved by whole pixels, what leaves the frame dropped, zeros coming in. */
function shift(values, size, dRow, dCol) {
  const out = new Float64Array(size * size);
  for (let r = 0; r < size; r++) {
    const from = r - dRow;
    if (from < 0 || from >= size) continue;
    for (let c = 0; c < size; c++) {
      const fromCol = c - dCol;
      if (fromCol >= 0 && fromCol < size) out[r * size + c] = values[from * size + fromCol];
    }
  }
  return out;
}

/** A drawing -> Float32Array(784) in [0, 1], row by row (preprocess.prepare_digit).  `frame`, optional, is the
 * drawing before the eraser touched it: its box and centre of mass place `image`, so erasing damages a digit where
 * it is instead of re-centring what is left. */
function prepareDigit(image, frame = null) {
  const { SIZE, BOX } = PREPARE;
  const reference = frame || image;
  if (reference.width !== image.width || reference.height !== image.height) {
    throw new RangeError(`prepare: the frame is ${reference.width}×${reference.height}, the drawing ${image.width}×${image.height}`);
  }
  const box = inkBox(reference);
  if (box === null) return new Float32Array(SIZE * SIZE);
  const [top, bottom, left, right] = box;
  const h = bottom - top, w = right - left;
  const scale = BOX / Math.max(h, w);
  const newH = Math.max(1, roundHalfEven(h * scale)), newW = Math.max(1, roundHalfEven(w * scale));
  const r0 = Math.floor((SIZE - newH) / 2), c0 = Math.floor((SIZE - newW) / 2);
  const placed = (picture) => {
    const small = resizeArea(picture, top, bottom, left, right, newH, newW);
    const out = new Float64Array(SIZE * SIZE);
    for (let r = 0; r < newH; r++) for (let c = 0; c < newW; c++) out[(r0 + r) * SIZE + c0 + c] = small[r * newW + c];
    return out;
  };
  const out = placed(image);
  const [comRow, comCol] = centreOfMass(frame ? placed(frame) : out, SIZE);
  const centre = (SIZE - 1) / 2;
  const moved = shift(out, SIZE, wholePixels(centre - comRow), wholePixels(centre - comCol));
  return Float32Array.from(moved, clip01);
}

/** A picture already laid out as the network's input (a test image drawn over), any size -> Float32Array(784),
 * only scaled down, never cropped or re-centred (preprocess.shrink_framed). */
function shrinkFramed(image) {
  const { SIZE } = PREPARE;
  return Float32Array.from(resizeArea(image, 0, image.height, 0, image.width, SIZE, SIZE), clip01);
}
