"use strict";
/* The network's forward pass: what MLP.predict computes, from the weights the page carries.
 *
 * A layer kind is one function in LAYER_KINDS: given its spec (from the model file) and its arrays (Float32Arrays,
 * in the order engine/web_export.py's WEB_LAYERS writes them), it returns {forward(x)}: x is the previous layer's
 * output.  A model may end in a skip path from its input (engine/skip.py): one function in SKIP_KINDS, given its
 * spec and arrays (WEB_SKIPS's order, after every layer's), returns {forward(x, h, c)}: the model's output from its
 * input x, the last layer's input h and the last layer's output c.  The exporter refuses any kind not listed here. */

const ACTIVATIONS = Object.freeze({
  linear: () => (z) => z,
  relu: () => (z) => (z > 0 ? z : 0),
  leaky_relu: (spec) => {
    const alpha = spec.alpha === undefined ? 0.01 : spec.alpha;
    return (z) => (z > 0 ? z : alpha * z);
  },
  sigmoid: () => (z) => 1 / (1 + Math.exp(-z)),
  tanh: () => Math.tanh,
});

const LAYER_KINDS = Object.freeze({
  /** Fully connected: y = f(W x + b), W (n_out, n_in) row by row, b (n_out). */
  Dense(spec, arrays) {
    const { W, b } = arrays;
    const nIn = spec.n_in, nOut = spec.n_out;
    const f = activationOf(spec);
    return {
      forward(x) {
        const y = new Float32Array(nOut);
        for (let j = 0, row = 0; j < nOut; j++, row += nIn) {
          let z = b[j];
          for (let k = 0; k < nIn; k++) z += W[row + k] * x[k];
          y[j] = f(z);
        }
        return y;
      },
    };
  },
});

const SKIP_KINDS = Object.freeze({
  /** A learned per-pixel gate g = sigmoid(W h + b) read from the last hidden layer h: y = c + g (x - c). */
  gate(spec, arrays) {
    const dense = LAYER_KINDS.Dense({ n_in: spec.n_in, n_out: spec.n_out, activation: "sigmoid" }, arrays);
    return {
      forward(x, h, c) {
        const g = dense.forward(h);
        const y = new Float32Array(c.length);
        for (let i = 0; i < y.length; i++) y[i] = c[i] + g[i] * (x[i] - c[i]);
        return y;
      },
    };
  },
  /** The network draws a correction to its input: y = clip(x + c, 0, 1). */
  residual() {
    return {
      forward(x, h, c) {
        const y = new Float32Array(c.length);
        for (let i = 0; i < y.length; i++) y[i] = Math.min(1, Math.max(0, x[i] + c[i]));
        return y;
      },
    };
  },
});

function activationOf(spec) {
  const make = ACTIVATIONS[spec.activation || "linear"];
  if (!make) throw new Error(`the page cannot compute the activation ${JSON.stringify(spec.activation)}`);
  return make(spec);
}

/** Base64 text -> bytes. */
function bytesOfBase64(text) {
  const clean = text.replace(/\s+/g, "");
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(clean);
  const binary = atob(clean);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Little-endian float32 or float16 bytes -> Float32Array. */
function floatsOf(bytes, precision) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (precision === "float32") {
    const out = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }
  if (precision !== "float16") throw new Error(`unknown weight precision ${JSON.stringify(precision)}`);
  const out = new Float32Array(bytes.byteLength / 2);
  for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  return out;
}

/** IEEE 754 half-precision bits -> the number. */
function halfToFloat(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // subnormal
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** The arrays of one layer or skip (spec.arrays: [[name, shape], ...]) from weights[offset...]: [arrays, new offset]. */
function arraysOf(spec, weights, offset, what) {
  const arrays = {};
  for (const [name, shape] of spec.arrays) {
    const size = shape.reduce((a, n) => a * n, 1);
    if (offset + size > weights.length) throw new Error(`the weights end inside ${what}'s ${name}`);
    arrays[name] = weights.subarray(offset, offset + size);
    offset += size;
  }
  return [arrays, offset];
}

/** The layers (and skip path, or null) of a model description (web_export's JSON) over its weights ->
 * {predict, nIn, nOut}. */
function buildNetwork(layers, weights, skipSpec = null) {
  let offset = 0;
  const built = layers.map((spec, i) => {
    const kind = LAYER_KINDS[spec.type];
    if (!kind) throw new Error(`layer ${i} is of kind ${JSON.stringify(spec.type)}, which this page cannot run`);
    const [arrays, next] = arraysOf(spec, weights, offset, `layer ${i}`);
    offset = next;
    return kind(spec, arrays);
  });
  let skip = null;
  if (skipSpec) {
    const kind = SKIP_KINDS[skipSpec.type];
    if (!kind) throw new Error(`the skip path is of kind ${JSON.stringify(skipSpec.type)}, which this page cannot run`);
    const [arrays, next] = arraysOf(skipSpec, weights, offset, "the skip path");
    offset = next;
    skip = kind(skipSpec, arrays);
  }
  if (offset !== weights.length) throw new Error(`${weights.length - offset} weights are left over after the model's arrays`);
  const nIn = layers[0].n_in, nOut = layers[layers.length - 1].n_out;
  const last = built[built.length - 1];
  return {
    nIn,
    nOut,
    /** Float32Array(nIn) -> Float32Array(nOut). */
    predict(x) {
      let h = x;
      for (let i = 0; i < built.length - 1; i++) h = built[i].forward(h); // h: the last layer's input
      const c = last.forward(h);
      return skip ? skip.forward(x, h, c) : c;
    },
  };
}
