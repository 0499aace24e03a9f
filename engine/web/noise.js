"use strict";
/* Noise as engine/noise.py defines it: one fixed random pattern of a kind, which a level then scales.
 *   gaussian:        clip(x + level · z, 0, 1), z ~ N(0, 1) per pixel (the level is σ);
 *   salt_and_pepper: pixels whose fixed u ~ U[0, 1) is below the level set to 0 or 1 (even odds);
 *   masking:         those pixels set to 0.
 * A higher level hits a superset of the pixels a lower one hits, as in the app.  The random numbers come from a
 * small seeded generator here, not NumPy's: the same formulas, other draws. */

const NOISE_KINDS = Object.freeze({
  gaussian: { title: "Gaussian", level: "Noise σ", caption: (v) => `σ = ${v.toFixed(2)}` },
  salt_and_pepper: { title: "Salt and pepper", level: "Fraction", caption: (v) => `fraction ${v.toFixed(2)}` },
  masking: { title: "Masking", level: "Fraction", caption: (v) => `fraction ${v.toFixed(2)}` },
});

/** Uniform numbers in [0, 1) from a 32-bit seed (mulberry32: small, fast, good enough for a picture's noise). */
function uniformGenerator(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class NoisePattern {
  /** One draw of `kind` noise for `size` pixels from `seed`. */
  constructor(kind, seed, size = 784) {
    if (!(kind in NOISE_KINDS)) throw new RangeError(`unknown noise kind ${JSON.stringify(kind)}`);
    this.kind = kind;
    const uniform = uniformGenerator(seed * 2654435761);
    this.values = new Float32Array(size);
    this.fill = null;
    if (kind === "gaussian") {
      for (let i = 0; i < size; i += 2) { // Box–Muller: two normals from two uniforms
        const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
        const angle = 2 * Math.PI * uniform();
        this.values[i] = radius * Math.cos(angle);
        if (i + 1 < size) this.values[i + 1] = radius * Math.sin(angle);
      }
    } else {
      for (let i = 0; i < size; i++) this.values[i] = uniform();
      if (kind === "salt_and_pepper") this.fill = Float32Array.from(this.values, () => (uniform() < 0.5 ? 1 : 0));
    }
  }

  /** Clean pixels (Float32Array in [0, 1]) -> their noisy copy at `level`. */
  apply(clean, level) {
    const out = Float32Array.from(clean);
    if (level === 0) return out;
    if (this.kind === "gaussian") {
      for (let i = 0; i < out.length; i++) {
        const v = clean[i] + level * this.values[i];
        out[i] = v > 0 ? (v < 1 ? v : 1) : 0;
      }
    } else {
      for (let i = 0; i < out.length; i++) {
        if (this.values[i] < level) out[i] = this.fill ? this.fill[i] : 0;
      }
    }
    return out;
  }
}

/** Mean squared error of two equal-length arrays. */
function meanSquaredError(a, b) {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return sum / a.length;
}
